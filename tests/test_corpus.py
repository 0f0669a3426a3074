"""The input corpus of issue 8: every bad or odd file gets a named error or a correct result.

``tests/corpus/manifest.toml`` lists each file with its table and expected outcome (its header
documents the keys).  For each file:

1. the reader (``read_transactions`` / ``read_customers`` / ``read_surveys``) raises the named
   error, naming the file, the column and the rows, in a short message whose viewer-facing form
   holds neither the file's folder nor a raw row; or returns ``rows_in`` rows;
2. for readable transactions: the data-quality accounting (every row used or set aside with a
   reason), then the customer summary, RFM segments and a BG/NBD fit: each gives a result or
   one of the workbench's own errors, and odd-but-valid data stop at the stage the manifest says;
3. the dashboard state (``DashboardState.summary`` / ``.segments``) gives a result or one of
   the workbench's own errors;
4. (slow) ``workbench report`` on three representative files: a bad file exits non-zero with a
   one-line reason and no traceback.

Parquet cases are written by ``tests/corpus/make_parquet.py`` into a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import runpy
import shutil
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import workbench
from workbench.core.io import read_customers, read_surveys, read_transactions
from workbench.core.prepare import prepare_orders, to_date
from workbench.core.quality import REASONS
from workbench.errors import DataValidationError, ModelError
from workbench.models.clv import ConvergenceError

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = MANIFEST["case"]
BY_FILE = {c["file"]: c for c in CASES}
NOT_CASES = {"manifest.toml", "make_parquet.py", "__pycache__"}

READERS: dict[str, Callable[..., pl.DataFrame]] = {
    "transactions": read_transactions,
    "customers": read_customers,
    "surveys": read_surveys,
}
ERRORS: dict[str, type[BaseException]] = {
    "DataValidationError": DataValidationError,
    "ModelError": ModelError,
    "ConvergenceError": ConvergenceError,
}
#: The workbench's own errors: any stage may refuse with one of these, never with anything else.
OWN_ERRORS = (DataValidationError, ModelError, ConvergenceError)
STAGES = ("summary", "rfm", "fit")
MONEY = ("total_spend", "mean_spend", "monetary_value", "total_profit")
MAX_MESSAGE = 300
NO_DATA_AS_OF = dt.date(2024, 12, 31)
VENV_BIN = Path(sys.executable).parent


def _ids(cases: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(c, id=c["file"]) for c in cases]


OK_TRANSACTIONS = [c for c in CASES if c["table"] == "transactions" and c["outcome"] == "ok"]


@pytest.fixture(scope="module")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Parquet cases, written by ``make_parquet.py``."""
    out = tmp_path_factory.mktemp("corpus_parquet")
    runpy.run_path(str(CORPUS / "make_parquet.py"))["write_all"](out)
    return out


def case_path(case: dict[str, Any], generated_dir: Path) -> Path:
    return (generated_dir if case.get("generated") else CORPUS) / case["file"]


def _matches(text: str, match: str | list[str]) -> bool:
    options = [match] if isinstance(match, str) else match
    return any(m.lower() in text.lower() for m in options)


def _raw_rows(path: Path) -> list[str]:
    """Data lines of a text file long enough to be recognisable in a message."""
    if path.is_dir() or path.suffix != ".csv":
        return []
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()[1:]
    return [line.strip() for line in lines if len(line.strip()) >= 12]


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}{'…' if len(text) > 200 else ''}"


# ---------------------------------------------------------------------------- the manifest


def test_manifest_lists_every_corpus_file() -> None:
    on_disk = {p.name for p in CORPUS.iterdir()} - NOT_CASES
    listed = {c["file"] for c in CASES if not c.get("generated")}
    assert on_disk == listed, (
        f"not in the manifest: {sorted(on_disk - listed)}; missing: {sorted(listed - on_disk)}"
    )
    generated = {c["file"] for c in CASES if c.get("generated")}
    assert generated == set(runpy.run_path(str(CORPUS / "make_parquet.py"))["CASES"])
    assert len(CASES) >= 40
    assert len(BY_FILE) == len(CASES), "a file is listed twice"
    for c in CASES:
        assert c["table"] in READERS, c["file"]
        assert c["outcome"] in ("ok", "error"), c["file"]
        if c["outcome"] == "error":
            assert c["error"] in ERRORS and "match" in c, c["file"]
        else:
            assert isinstance(c["rows_in"], int), c["file"]
        if "refuse" in c:
            assert c["refuse"] in STAGES and c["refuse_error"] in ERRORS, c["file"]
    # the glob case is only meaningful with its decoy beside it
    assert "tx[12].csv" in BY_FILE and "tx1.csv" in BY_FILE


# ---------------------------------------------------------------------------- 1. readers


@pytest.mark.parametrize("case", _ids(CASES))
def test_reader(case: dict[str, Any], generated_dir: Path) -> None:
    path = case_path(case, generated_dir)
    read = READERS[case["table"]]
    if case["outcome"] == "error":
        _check_reader_error(case, path, read)
    else:
        _check_reader_ok(case, path, read)


def _check_reader_error(case: dict[str, Any], path: Path, read: Callable) -> None:
    expected = ERRORS[case["error"]]
    try:
        df = read(path)
    except expected as exc:
        err = exc
    except Exception as exc:  # the wrong kind of error is the finding
        pytest.fail(f"expected {case['error']}, got {_describe(exc)}")
    else:
        pytest.fail(f"expected {case['error']} ({case['match']!r}), read {df.height} rows")
    message = str(err)
    assert _matches(message, case["match"]), f"{case['match']!r} not in: {message}"
    assert len(message) <= MAX_MESSAGE, f"{len(message)} characters: {message[:400]}"
    assert path.name in message, f"the message does not name the file: {message}"
    if "column" in case:
        assert getattr(err, "column", None) == case["column"], message
    if "rows" in case:
        rows = list(getattr(err, "rows", []))
        assert rows[: len(case["rows"])] == case["rows"], f"rows {rows}: {message}"
    if "message_row" in case:
        assert f"row {case['message_row']}" in message, f"no row number: {message}"
    public = err.public_message() if hasattr(err, "public_message") else message
    folder = str(path.parent.resolve())
    assert folder not in public, f"absolute folder in the viewer message: {public}"
    assert len(public) <= MAX_MESSAGE
    for line in _raw_rows(path):
        assert line not in public, f"raw row {line!r} in the viewer message: {public}"


def _check_reader_ok(case: dict[str, Any], path: Path, read: Callable) -> None:
    try:
        df = read(path)
    except Exception as exc:
        pytest.fail(f"expected {case['rows_in']} rows, got {_describe(exc)}")
    assert df.height == case["rows_in"], f"{df.height} rows read, {case['rows_in']} in the file"
    for name in df.columns:
        assert name == name.strip() and "\ufeff" not in name, f"column name {name!r}"
    ids = df["customer_id"]
    assert ids.dtype == pl.String, ids.dtype
    assert ids.null_count() == 0
    dirty = [v for v in ids.to_list() if "\ufeff" in v or "\r" in v or v != v.strip()]
    assert not dirty, f"ids not cleaned: {dirty!r}"
    for col, dtype in df.schema.items():
        if dtype == pl.String and col != "customer_id":
            ends = [v for v in df[col].drop_nulls().to_list() if v.endswith("\r")]
            assert not ends, f"column {col!r} keeps '\\r': {ends!r}"
    if "ids" in case:
        assert sorted(ids.unique().to_list()) == sorted(case["ids"])
    if "source_rows" in case:
        assert df["source_row"].to_list() == case["source_rows"]
    if "dates" in case:
        got = [d.isoformat() for d in df["order_date"].to_list()]
        assert got == case["dates"]
    if case["table"] == "transactions" and df.height:
        assert df["amount"].is_finite().all()
        assert df["order_date"].dtype == pl.Date


# --------------------------------------------------- 2. data rules, summary, RFM, CLV fit


def _read_ok(case: dict[str, Any], generated_dir: Path) -> pl.DataFrame:
    try:
        return read_transactions(case_path(case, generated_dir))
    except Exception as exc:
        pytest.fail(f"the reader fails ({_describe(exc)}); see test_reader")


@pytest.mark.parametrize("case", _ids(OK_TRANSACTIONS))
def test_data_quality_accounts_for_every_row(case: dict[str, Any], generated_dir: Path) -> None:
    tx = _read_ok(case, generated_dir)
    try:
        orders, report = prepare_orders(tx, case.get("as_of"))
    except Exception as exc:
        pytest.fail(f"prepare_orders raised {_describe(exc)}")
    assert report.rows_read == case["rows_in"]
    aside: list[int] = []
    for entry in report.entries:
        assert entry.reason in REASONS, entry.reason
        assert entry.rows.height > 0 and "source_row" in entry.rows.columns, entry.reason
        if entry.action == "set aside":
            aside += entry.rows["source_row"].to_list()
    assert len(aside) == len(set(aside)), f"a row set aside twice: {sorted(aside)}"
    assert set(aside) <= set(tx["source_row"].to_list()), "a set-aside row that was never read"
    assert len(aside) == report.n_set_aside
    # rows used = the lines of the orders + the returns netted into them
    aside_rows = pl.Series(aside, dtype=pl.Int64).implode()
    returns_used = tx.filter(
        (pl.col("amount") < 0) & ~pl.col("source_row").is_in(aside_rows)
    ).height
    used = int(orders["lines"].sum()) + returns_used
    assert used + report.n_set_aside == case["rows_in"], (
        f"{used} rows used + {report.n_set_aside} set aside != {case['rows_in']} rows in"
    )
    if orders.height:
        assert orders["amount"].is_finite().all() and (orders["amount"] >= 0).all()


def _check_summary(case: dict[str, Any], summary: pl.DataFrame) -> None:
    assert summary["customer_id"].is_unique().all()
    for col in MONEY:
        if col in summary.columns:
            bad = summary.filter(~pl.col(col).is_finite() | pl.col(col).is_null())
            assert bad.height == 0, f"non-finite {col}: {bad.head(3)}"
    if "customers" in case:
        assert summary.height == case["customers"], f"{summary.height} customers"


def _check_segments(summary: pl.DataFrame, segments: pl.DataFrame) -> None:
    assert segments.height == summary.height
    assert segments["segment"].null_count() == 0


@pytest.mark.parametrize("case", _ids(OK_TRANSACTIONS))
def test_summary_rfm_and_fit(case: dict[str, Any], generated_dir: Path) -> None:
    tx = _read_ok(case, generated_dir)
    results: dict[str, Any] = {}
    steps: dict[str, Callable[[], Any]] = {
        "summary": lambda: workbench.customer_summary(tx, case.get("as_of")),
        "rfm": lambda: workbench.rfm_segments(results["summary"]),
        "fit": lambda: workbench.BetaGeoModel().fit(results["summary"]),
    }
    stopped: tuple[str, BaseException] | None = None
    for stage in STAGES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results[stage] = steps[stage]()
        except OWN_ERRORS as exc:
            stopped = (stage, exc)
            break
        except Exception as exc:  # a foreign error is the finding
            pytest.fail(f"stage {stage}: {_describe(exc)} (not one of the workbench's errors)")
        if stage == "summary":
            _check_summary(case, results["summary"])
        elif stage == "rfm":
            _check_segments(results["summary"], results["rfm"])
    if "refuse" in case:
        want = case["refuse"]
        assert stopped is not None, f"expected a {case['refuse_error']} by stage {want}: none"
        stage, exc = stopped
        assert STAGES.index(stage) <= STAGES.index(want), (
            f"expected a refusal by stage {want}, stage {stage} raised {_describe(exc)}"
        )
        assert isinstance(exc, ERRORS[case["refuse_error"]]), _describe(exc)
        want_text = case.get("refuse_match", "")
        assert _matches(str(exc), want_text), f"{want_text!r} not in: {_describe(exc)}"
        assert len(str(exc)) <= MAX_MESSAGE + 100, _describe(exc)
    elif stopped is not None:
        # odd-but-valid data give a summary and segments; only the fit may refuse
        stage, exc = stopped
        assert stage == "fit", f"stage {stage} refused valid data: {_describe(exc)}"


# ---------------------------------------------------------------------- 3. dashboard state


@pytest.mark.parametrize("case", _ids(OK_TRANSACTIONS))
def test_dashboard_state(case: dict[str, Any], generated_dir: Path) -> None:
    from workbench.presentation.widgets.state import DashboardState, Dataset

    tx = _read_ok(case, generated_dir)
    data = Dataset(transactions=tx)
    # as the dashboard does (WorkbenchDashboard._setup): the last order date, or a fixed date
    # when the data have no rows (the dashboard takes today)
    as_of = to_date(case.get("as_of")) or data.last_date or NO_DATA_AS_OF
    state = DashboardState(data=data, as_of=as_of)
    for attr in ("summary", "segments"):
        try:
            value = getattr(state, attr)
        except OWN_ERRORS as exc:
            assert len(str(exc)) <= MAX_MESSAGE + 100
            if isinstance(exc, DataValidationError):
                assert str(CORPUS) not in exc.public_message()
            if attr == "summary":
                return
            continue
        except Exception as exc:  # a foreign error is the finding
            pytest.fail(f"DashboardState.{attr}: {_describe(exc)}")
        if attr == "summary" and value.height == 0:
            # the panels show this sentence in their place: it says why
            message = state.no_purchases()
            assert message, "an empty summary without a message for the viewer"
            if "refuse_match" in case:
                assert _matches(message, case["refuse_match"]), message


# --------------------------------------------------------------------------- as-of dates


@pytest.mark.parametrize("text", MANIFEST["as_of"]["invalid"])
def test_to_date_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="as_of"):
        to_date(text)


@pytest.mark.parametrize("text", MANIFEST["as_of"]["valid"])
def test_to_date_reads_iso(text: str) -> None:
    assert to_date(text) == dt.date(2025, 6, 30)


# ----------------------------------------------------------------- 4. workbench report


def _report_cases() -> list[Any]:
    return _ids([BY_FILE[name] for name in MANIFEST["report"]["files"]])


@pytest.mark.slow
@pytest.mark.parametrize("case", _report_cases())
def test_workbench_report(case: dict[str, Any], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(CORPUS / case["file"], data_dir / "transactions.csv")
    out = tmp_path / "out"
    cmd = [
        str(VENV_BIN / "workbench"),
        "report",
        "--notebook",
        MANIFEST["report"]["notebook"],
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
        "--as-of",
        MANIFEST["report"]["as_of"],
        "--no-progress",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    both = run.stdout + run.stderr
    assert "Traceback" not in both, both[-3000:]
    if case["outcome"] == "error":
        expected: str | list[str] | None = case["match"]
    elif case.get("refuse") in ("summary", "rfm"):
        expected = case.get("refuse_match", "")
    else:
        expected = None
    if expected is None:
        assert run.returncode == 0, both[-3000:]
        assert list(out.rglob("*.ipynb")), "no executed notebook"
        return
    assert run.returncode != 0, both[-3000:]
    lines = [line.strip() for line in run.stderr.splitlines() if line.strip()]
    reasons = [line for line in lines if _matches(line, expected)]
    assert reasons, f"no line of stderr gives the reason ({expected!r}):\n{run.stderr}"
    assert all(len(line) <= MAX_MESSAGE + 100 for line in reasons), reasons
    assert list(out.rglob("*.ipynb")), "the failed notebook is not kept"


def test_report_files_are_in_the_corpus() -> None:
    files = MANIFEST["report"]["files"]
    assert len(files) == 3 and all(f in BY_FILE and not BY_FILE[f].get("generated") for f in files)
