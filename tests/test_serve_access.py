"""``workbench serve`` off loopback: token required (generated and printed), URLs that work.

No test binds a non-loopback address: the command line, token and URLs are checked with
:func:`workbench.app.serve.plan_serve` and a fake process; the one real server binds 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import workbench.app.serve
from workbench.app.cli import main
from workbench.app.serve import (
    access_urls,
    choose_token,
    free_port,
    is_loopback,
    is_wildcard,
    plan_serve,
    server_environment,
    server_url,
    voila_command,
    wait_until_up,
    with_token,
)

HELLO = Path(__file__).parent / "fixtures" / "dashboards" / "hello.ipynb"


@pytest.fixture
def dashboards(tmp_path: Path) -> Path:
    folder = tmp_path / "dashboards"
    folder.mkdir()
    (folder / "executive.ipynb").write_text("{}")
    (tmp_path / "data").mkdir()
    return folder


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("localhost", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", False), ("", False), ("::", False), ("192.168.1.5", False),
     ("10.0.0.1", False), ("example.org", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_is_wildcard() -> None:
    assert is_wildcard("0.0.0.0") and is_wildcard("::") and is_wildcard("")
    assert not is_wildcard("192.168.1.5") and not is_wildcard("127.0.0.1")


def test_choose_token() -> None:
    def fresh() -> str:
        return "fresh"

    assert choose_token("127.0.0.1", generate=fresh) is None
    assert choose_token("localhost", "given", generate=fresh) == "given"
    for host in ("0.0.0.0", "192.168.1.5", "::", "box.example"):
        assert choose_token(host, generate=fresh) == "fresh"
        assert choose_token(host, "given", generate=fresh) == "given"
        assert choose_token(host, no_token=True, generate=fresh) is None
    with pytest.raises(workbench.app.serve.ServeError, match="contradict"):
        choose_token("0.0.0.0", "given", no_token=True)
    with pytest.raises(workbench.app.serve.ServeError, match="empty"):
        choose_token("0.0.0.0", "  ")


def test_default_generated_token_is_long_and_random() -> None:
    a, b = choose_token("0.0.0.0"), choose_token("0.0.0.0")
    assert a and b and a != b and len(a) >= 32


def test_urls() -> None:
    assert access_urls("0.0.0.0", 8866, hostname="box") == [
        "http://box:8866", "http://127.0.0.1:8866"
    ]
    assert access_urls("", 1, hostname="box") == ["http://box:1", "http://127.0.0.1:1"]
    assert access_urls("::", 1, hostname="box") == ["http://box:1", "http://[::1]:1"]
    assert access_urls("0.0.0.0", 1, hostname="localhost") == ["http://127.0.0.1:1"]
    assert access_urls("192.168.1.5", 8866, hostname="box") == ["http://192.168.1.5:8866"]
    assert access_urls("127.0.0.1", 8866) == ["http://127.0.0.1:8866"]
    assert server_url("0.0.0.0", 8866) == "http://127.0.0.1:8866"
    assert with_token("http://box:1/voila/render/a b.ipynb", "x+y") == (
        "http://box:1/voila/render/a b.ipynb?token=x%2By"
    )
    assert with_token("http://box:1/?a=1", "t") == "http://box:1/?a=1&token=t"


def test_plan_on_every_interface_requires_a_generated_token(dashboards: Path) -> None:
    plan = plan_serve(dashboards, 8899, "0.0.0.0", dashboards.parent / "data",
                      hostname="box", generate_token=lambda: "tok")
    assert "--Voila.ip=0.0.0.0" in plan.command and "--token=tok" in plan.command
    assert plan.token == "tok" and plan.token_generated
    assert plan.urls == [
        "http://box:8899/voila/render/executive.ipynb?token=tok",
        "http://127.0.0.1:8899/voila/render/executive.ipynb?token=tok",
    ]
    assert plan.health_url == "http://127.0.0.1:8899"
    assert plan.warnings == []


def test_plan_with_given_token_and_lan_address(dashboards: Path) -> None:
    plan = plan_serve(dashboards, 8899, "192.168.1.5", dashboards.parent / "data", token="s3")
    assert "--token=s3" in plan.command and not plan.token_generated
    assert plan.urls == ["http://192.168.1.5:8899/voila/render/executive.ipynb?token=s3"]


def test_plan_no_token_off_loopback_warns(dashboards: Path) -> None:
    plan = plan_serve(dashboards, 8899, "0.0.0.0", dashboards.parent / "data", no_token=True,
                      hostname="box")
    assert not any(a.startswith("--token") for a in plan.command)
    assert plan.token is None
    assert plan.urls[0] == "http://box:8899/voila/render/executive.ipynb"
    assert len(plan.warnings) == 1 and "without a token" in plan.warnings[0]


def test_plan_on_loopback_has_no_token(dashboards: Path) -> None:
    plan = plan_serve(dashboards, 8899, "127.0.0.1", dashboards.parent / "data")
    assert plan.token is None and not any(a.startswith("--token") for a in plan.command)
    assert plan.urls == ["http://127.0.0.1:8899/voila/render/executive.ipynb"]
    assert plan.warnings == []


class FakeProcess:
    """Stands in for the Voilà process: exits at once with code 0."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.cmd, self.env = cmd, env

    def poll(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def fake_voila(monkeypatch: pytest.MonkeyPatch) -> list[FakeProcess]:
    started: list[FakeProcess] = []

    def popen(cmd: list[str], env: dict[str, str]) -> FakeProcess:
        started.append(FakeProcess(cmd, env))
        return started[-1]

    monkeypatch.setattr(workbench.app.serve.subprocess, "Popen", popen)
    monkeypatch.setattr(workbench.app.serve, "wait_until_up", lambda *a, **k: True)
    # the cache warm-up runs in child processes of its own (tested in test_serve_pool.py)
    monkeypatch.setattr(workbench.app.serve, "_run_warm", lambda *a, **k: True)
    monkeypatch.setattr(workbench.app.serve, "_start_warm", lambda *a, **k: None)
    monkeypatch.setattr(workbench.app.serve.socket, "gethostname", lambda: "box")
    return started


def test_cli_serve_on_every_interface_prints_token_and_working_urls(
    dashboards: Path, fake_voila: list[FakeProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--host", "0.0.0.0", "--port", "8899", "--dashboards-dir",
                 str(dashboards), "--data-dir", str(dashboards.parent / "data")])
    assert code == 0
    out = capsys.readouterr().out
    (process,) = fake_voila
    token = next(a for a in process.cmd if a.startswith("--token="))[len("--token="):]
    assert len(token) >= 32
    assert f"Token (generated; viewers log in with it): {token}" in out
    assert f"http://box:8899/voila/render/executive.ipynb?token={token}" in out
    assert f"http://127.0.0.1:8899/voila/render/executive.ipynb?token={token}" in out
    assert "http://127.0.0.1:8899/voila/render/executive.ipynb\n" not in out


def test_cli_serve_no_token_warns(
    dashboards: Path, fake_voila: list[FakeProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--host", "0.0.0.0", "--port", "8899", "--no-token",
                 "--dashboards-dir", str(dashboards), "--data-dir", str(dashboards.parent)])
    assert code == 0
    captured = capsys.readouterr()
    assert "warning: serving on 0.0.0.0 without a token" in captured.err
    assert not any(a.startswith("--token") for a in fake_voila[0].cmd)
    assert "http://box:8899/voila/render/executive.ipynb\n" in captured.out


def test_cli_serve_loopback_default_unchanged(
    dashboards: Path, fake_voila: list[FakeProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "8899", "--dashboards-dir", str(dashboards),
                 "--data-dir", str(dashboards.parent)]) == 0
    out = capsys.readouterr().out
    assert "Token" not in out and "?token=" not in out
    assert "http://127.0.0.1:8899/voila/render/executive.ipynb" in out
    assert "--Voila.ip=127.0.0.1" in fake_voila[0].cmd


@pytest.mark.slow
def test_token_protects_a_real_loopback_server(tmp_path: Path) -> None:
    """Voilà with --token on 127.0.0.1: the health check still answers, the tree needs the
    token, and the printed ``?token=`` form of the URL logs in."""
    folder = tmp_path / "dashboards"
    folder.mkdir()
    (folder / "hello.ipynb").write_bytes(HELLO.read_bytes())
    port = free_port("127.0.0.1")
    cmd = voila_command(folder, port, "127.0.0.1", preheat=False, token="tok-123")
    process = subprocess.Popen(cmd, env=server_environment(tmp_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def status(path: str) -> int:
        try:
            with opener.open(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        assert wait_until_up(f"http://127.0.0.1:{port}", 60, process), "Voilà did not start"
        assert status("/") in (302, 403)
        assert status("/?token=wrong") in (302, 403)
        assert status(with_token("/", "tok-123")) == 200
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
