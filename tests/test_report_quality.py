"""What an executive reads: the three reports on the sample data, scanned for what must never
show (warnings, tracebacks, internal paths and file names, unfilled placeholders, raw
data-frame printouts), each opening with its summary.  Their speed (30 s for the three on the
sample data) is measured by bench/bench_reports.py, not here: this machine is shared."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

#: Patterns that must not appear in the visible text of a report, with why.
FORBIDDEN: dict[str, str] = {
    r"Warning\b": "a Python warning",
    r"Traceback": "a traceback",
    r"/work/|/home/|/tmp/|site-packages": "an internal path",
    r"\b\w+\.py\b": "a Python file name",
    r"\w{3}_[0-9a-f]{16}\.txt": "a source cited by file name",
    r"DOMAIN\.md|\bseed \d{3}\b": "an internal document cited",
    r"\{[a-z_]+\}": "an unfilled template placeholder",
    r"\bdtype\b": "a dtype row",
    r"shape: \(": "a raw polars frame",
    r"[┌┬┐╞╪╡└┴┘│┆]": "a raw polars frame",
    r"\d\.\d+e[+-]?\d": "a number in scientific notation",
    r"<IPython\.core|<great_tables|object at 0x": "an object repr",
}

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def visible_text(page: str) -> str:
    """The text a reader sees in an HTML export: no style, script, images or tags."""
    body = page[page.find("<body"):]
    for tag in ("style", "script", "svg"):
        body = re.sub(rf"<{tag}\b.*?</{tag}>", " ", body, flags=re.S | re.I)
    body = re.sub(r"<img\b[^>]*>", " ", body, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", text)


def problems(page: str) -> list[str]:
    """Each forbidden pattern found in the visible text, with some context."""
    text = visible_text(page)
    # the machine-readable key-figure line is JSON, meant for tools: not read as prose
    text = re.sub(r"(LOYALTY_)?KEY_FIGURES \{.*?\}(?= [A-Z#]|$)", " ", text)
    found = []
    for pattern, why in FORBIDDEN.items():
        for m in re.finditer(pattern, text):
            found.append(f"{why}: ...{text[max(0, m.start() - 60):m.end() + 60]}...")
    return found


def test_the_scan_catches_what_it_should() -> None:
    page = ("<html><body><p>UserWarning: x in /work/main/workbench/analyses/rfm.py</p>"
            "<p>{min_tenure_days} days</p><pre>shape: (3, 2)\n│ a ┆ b │</pre>"
            "<p>dtype: f64</p><p>seed `000_18be814618fb1ff4.txt`</p><p>2.4673e6</p>"
            "<style>.x{color:red}</style></body></html>")
    found = "\n".join(problems(page))
    for why in ("a Python warning", "an internal path", "a Python file name",
                "an unfilled template placeholder", "a raw polars frame", "a dtype row",
                "a source cited by file name", "a number in scientific notation"):
        assert why in found, why
    assert problems("<body><p>Revenue $1,234 (61.1%)</p><style>a{b:c}</style></body>") == []


@pytest.fixture(scope="module")
def sample_reports(tmp_path_factory, sample_data_dir):
    """The three reports run by the report runner on the sample data (as ``workbench report``
    runs them: the sample's defaults, the kernels' report folder set)."""
    from workbench.app.report import find_notebooks, run_reports

    out = tmp_path_factory.mktemp("reports")
    return run_reports(find_notebooks(NOTEBOOKS), out), out


@pytest.mark.slow
def test_reports_run_and_show_nothing_internal(sample_reports) -> None:
    results, _ = sample_reports
    assert [r.notebook.name for r in results] == ["clv.ipynb", "loyalty.ipynb",
                                                  "rfm_segmentation.ipynb"]
    for r in results:
        assert r.ok, r.error
        assert problems(r.html.read_text(encoding="utf-8")) == [], r.notebook.name


@pytest.mark.slow
def test_each_report_opens_with_its_summary(sample_reports) -> None:
    results, out = sample_reports
    for r in results:
        text = visible_text(r.html.read_text(encoding="utf-8"))
        summary = text.find("Summary As of")
        assert 0 <= summary < 2500, r.notebook.name  # right after the title and the as-of line
        assert "The summary appears here" not in text
        table = text[summary:summary + 4000]
        assert "Measure Value Change What it counts" in table
        assert "vs the previous period" in table
    by_name = {r.notebook.stem: visible_text(r.html.read_text(encoding="utf-8"))
               for r in results}
    assert "Largest segment moves since" in by_name["rfm_segmentation"]
    assert "Recommended purchase model:" in by_name["clv"]
    assert "Biggest driver of NPS:" in by_name["loyalty"]
    # long lists are attached as CSVs next to the reports, and linked
    for name in ("segment_sizes.csv", "clv_by_customer.csv", "at_risk_customers.csv",
                 "early_warnings.csv", "loyalty_types.csv"):
        assert (out / name).is_file(), name
