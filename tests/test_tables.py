"""Formatted report tables (Great Tables): formats, labels, no dtype rows, attached CSVs."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import polars as pl
import pytest

from workbench.presentation import tables
from workbench.presentation.findings import Headline, headline_frame


def cells(gt: object) -> list[str]:
    """The text of every body cell of a rendered table."""
    return cells_of(gt.as_raw_html())  # type: ignore[attr-defined]


def test_formats_currency_percent_counts_and_missing() -> None:
    frame = pl.DataFrame({"segment": ["Champions", "Lost"], "customers": [3843, 7],
                          "revenue": [3775900.4, None], "revenue_share": [0.610745, 0.0053],
                          "mean_purchases": [12.966693, 1.0]})
    assert cells(tables.gt_table(frame)) == [
        "Champions", "3,843", "$3,775,900", "61.1%", "12.97",
        "Lost", "7", "–", "0.5%", "1.00"]


def test_small_amounts_keep_cents_and_labels_are_words() -> None:
    frame = pl.DataFrame({"expected_spend": [12.5], "p_alive": [0.83], "mean_clv": [40.0]})
    gt = tables.gt_table(frame, percent=["p_alive"])
    assert cells(gt) == ["$12.50", "83.0%", "$40.00"]
    page = gt.as_raw_html()
    for label in ("Expected spend", "P alive", "Mean CLV"):
        assert label in page


def test_no_dtype_row_no_cdn_no_script() -> None:
    frame = pl.DataFrame({"customer_id": ["a"], "when": [dt.date(2026, 3, 31)],
                          "warnings": [["lapsing", "spend reduction"]], "flag": [True]})
    page = tables.gt_table(frame).as_raw_html()
    assert cells(tables.gt_table(frame)) == ["a", "2026-03-31", "lapsing, spend reduction",
                                             "yes"]
    for bad in ("dtype", ">str<", ">date<", "list[", "shape: (", "http://", "https://",
                "<script", "@import"):
        assert bad not in page


def test_long_tables_are_cut_and_attached_as_csv(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(tables.REPORT_DIR_ENV, str(tmp_path))
    frame = pl.DataFrame({"customer_id": [f"C{i:03d}" for i in range(40)],
                          "warnings": [["lapsing"]] * 40, "value_at_stake": [1.5] * 40})
    gt = tables.show_table(frame, max_rows=10, csv="Early warnings")
    page = gt.as_raw_html()
    assert len(cells(gt)) == 10 * 3
    assert "The first 10 of 40 rows." in page
    assert '<a href="early_warnings.csv">early_warnings.csv</a>' in page
    written = pl.read_csv(tmp_path / "early_warnings.csv")
    assert written.height == 40 and written["warnings"][0] == "lapsing"


def test_without_a_report_folder_nothing_is_written(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv(tables.REPORT_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    gt = tables.show_table(pl.DataFrame({"x": range(5)}), max_rows=2, csv="x")
    assert "The first 2 of 5 rows." in gt.as_raw_html()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "label"), [("customer_share", "Customer share"),
                                             ("nps", "NPS"), ("holdout_mae", "Holdout MAE"),
                                             ("I_l", "I_l"), ("n_params", "N params")])
def test_column_labels(name: str, label: str) -> None:
    assert tables.column_label(name) == label


def test_summary_block_lists_findings_and_headlines() -> None:
    rows = headline_frame([Headline("Revenue", "$627.2K", "-11.2% vs the previous period",
                                    "Net revenue of the last 90 days")])
    page = tables.summary_html("Summary", rows, ["Champions grew.", "Lost < 5 %."],
                               lead="As of 2026-06-30.")
    assert page.startswith("<h2>Summary</h2>\n<p>As of 2026-06-30.</p>")
    assert "<li>Champions grew.</li><li>Lost &lt; 5 %.</li>" in page
    assert cells_of(page) == ["Revenue", "$627.2K", "-11.2% vs the previous period",
                              "Net revenue of the last 90 days"]
    assert "What it counts" in page


def cells_of(page: str) -> list[str]:
    """The text of every body cell (not the source note) of a rendered table."""
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r'<td [^>]*class="gt_row[^>]*>(.*?)</td>', page, flags=re.S)]


def test_currency_follows_the_report_formats() -> None:
    from workbench.presentation.formatting import use_formats

    try:
        use_formats("EUR", "de_DE")
        assert cells(tables.gt_table(pl.DataFrame({"revenue": [1234.0]}))) == ["€1,234"]
    finally:
        use_formats()
