"""summary.json, gates, the change report and the index of a report run (no notebooks run)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from workbench.app.report import ReportResult
from workbench.app.run_summary import (
    GateError,
    change_report,
    comparable,
    evaluate_gates,
    parse_gate,
    parse_gates,
    segment_moves,
    write_index,
    write_run_outputs,
)


def test_parse_gates() -> None:
    gate = parse_gate(" set_aside_share >= 5% ")
    assert (gate.metric, gate.op, gate.threshold) == ("set_aside_share", ">=", 0.05)
    assert len(parse_gates(["duplicate_rows>1", "duplicate_rows > 1"])) == 1
    with pytest.raises(GateError, match="did you mean 'set_aside_share'"):
        parse_gate("set_aside_shares>0.1")
    with pytest.raises(GateError, match="expected METRIC<OP>NUMBER"):
        parse_gate("set_aside_share")


def test_evaluate_gates() -> None:
    gates = parse_gates(["set_aside_rows>3", "customers<10", "holdout_error_pct>20"])
    results = evaluate_gates(gates, {"set_aside_rows": 5, "customers": 100})
    assert [r.failed for r in results] == [True, False, False]
    assert results[0].message == "set_aside_rows = 5 fails the gate set_aside_rows>3"
    assert "not evaluated" in results[2].message


def test_segment_moves() -> None:
    before = pl.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["X", "X", "Y"]})
    after = pl.DataFrame({"customer_id": ["a", "b", "d"], "segment": ["Y", "X", "Y"]})
    assert segment_moves(before, after).rows() == [
        ("(new)", "Y", 1), ("X", "Y", 1), ("Y", "(gone)", 1)
    ]


def _summary(**changes: object) -> dict:
    base = {
        "schema_version": 1, "as_of": "2026-03-31", "data": {"content_hash": "sha256:a"},
        "kpis": {"revenue": 100.0, "customers": 50}, "gates": [],
        "segments": {"Loyal": {"customers": 30, "revenue": 80.0},
                     "Lost": {"customers": 20, "revenue": 20.0}},
        "clv": {"model": "bgnbd", "holdout_error_pct": 2.0, "params": {"r": 1.0}},
        "reports": [{"notebook": "rfm.ipynb", "ok": True}],
    }
    base.update(changes)
    return base


def test_change_report_lists_what_moved() -> None:
    now = _summary(
        as_of="2026-06-30", data={"content_hash": "sha256:b"},
        kpis={"revenue": 120.0, "customers": 51},
        segments={"Loyal": {"customers": 25, "revenue": 70.0},
                  "Lost": {"customers": 26, "revenue": 50.0}},
        clv={"model": "paretonbd", "holdout_error_pct": 9.0, "params": {"r": 1.5}},
        gates=[{"gate": "duplicate_rows>1", "failed": True, "evaluated": True, "value": 4}],
    )
    moves = pl.DataFrame({"from": ["Loyal"], "to": ["Lost"], "customers": [5]})
    text = change_report(now, _summary(), threshold=0.05, moves=moves)
    assert text.startswith("# Report changes: 2026-03-31 -> 2026-06-30")
    assert "Input data changed" in text
    assert "| revenue | 100 | 120 | +20.0% |" in text
    assert "customers |" not in text.split("## Segment")[0].split("beyond")[1]  # +2 % only
    assert "| Loyal | 30 | 25 | -5 |" in text and "| Loyal | Lost | 5 |" in text
    assert "model changed: bgnbd -> paretonbd" in text
    assert "holdout_error_pct: 2 -> 9" in text and "parameters beyond 5%: r 1 -> 1.5" in text
    assert "**FAILED** `duplicate_rows>1`" in text and "1 gate(s) failed" in text


def test_index_links_reports_and_csvs(tmp_path: Path) -> None:
    (tmp_path / "csv").mkdir()
    for name in ("rfm.html", "rfm.ipynb", "csv/segments.csv", "summary.json"):
        (tmp_path / name).write_text("x")
    page = write_index(tmp_path).read_text()
    for name in ("rfm.html", "rfm.ipynb", "csv/segments.csv", "summary.json"):
        assert f'href="{name}"' in page


def test_run_outputs_are_reproducible(tmp_path: Path, sample_data_dir: Path) -> None:
    """Two runs on the same inputs: byte-identical CSVs, equal summaries but for the timing."""
    tx_path = str((sample_data_dir / "transactions.csv").resolve())
    gates = parse_gates(["duplicate_rows>2", "holdout_error_pct>50"])
    outputs = []
    for name in ("one", "two"):
        out = tmp_path / name
        out.mkdir()
        result = ReportResult(Path("rfm_segmentation.ipynb"), out / "rfm_segmentation.ipynb",
                              parameters={"transactions_path": tx_path, "as_of": "2026-06-30",
                                          "segment_rules": "default"})
        previous = tmp_path / "one" if name == "two" else None
        outputs.append(write_run_outputs(out, [result], gates=gates, compare_to=previous,
                                         settings={"gates": [g.text for g in gates]}))
    one, two = outputs
    assert [g.failed for g in one.gate_results] == [True, False]  # 5 exact duplicates
    for a, b in zip(one.csvs, two.csvs, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    first = json.loads(one.summary_path.read_text())
    second = json.loads(two.summary_path.read_text())
    assert comparable(first) == comparable(second) and "timing" in first
    assert first["data"]["files"]["transactions"]["name"] == "transactions.csv"
    assert first["versions"]["polars"] and first["segments"]["Champions"]["customers"] > 0
    assert first["data_quality"]["duplicate_rows"] == 5
    changes = two.changes_path.read_text()
    assert "Same input data as the previous run." in changes and "None." in changes
