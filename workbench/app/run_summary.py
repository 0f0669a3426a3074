"""What a report run produced, machine-readable: ``summary.json``, CSVs, gates, ``changes.md``.

``workbench report`` calls :func:`write_run_outputs` after the notebooks ran. Beside the
reports it writes:

``summary.json`` (:func:`build_summary`)
    Headline KPIs, segment sizes, model fit and holdout error (when the CLV report ran),
    data-quality counts, the parameters of each notebook, the settings, package versions and
    the data's content hash. Everything that depends on the clock is under ``"timing"``: two
    runs on the same inputs give the same file apart from that field.
``csv/*.csv``
    ``customer_summary.csv``, ``segments.csv`` (customer -> R, F, M, segment),
    ``segment_sizes.csv``, ``kpis.csv`` and ``data_quality.csv``; sorted, byte-identical
    from run to run on the same inputs (:func:`write_csvs`).
``changes.md`` (with ``--compare-to``, :func:`change_report`)
    Against the previous run's ``summary.json``: KPI changes beyond a threshold, segment
    sizes and customer moves between segments, model drift, gate results. Markdown that reads
    well as a CI job summary or a chat message.
``index.html`` (:func:`write_index`)
    A page linking every report, executed notebook, CSV and the two files above.

Data-quality gates (``--fail-on "set_aside_share>0.05"``, or ``[gates] fail_on`` in the
project file) are checked on the summary's metrics (:func:`evaluate_gates`); a gate that
fails makes ``workbench report`` exit with code 4 and print the reason. The metrics:

``rows_read``, ``set_aside_rows``, ``set_aside_share``, ``duplicate_rows``, ``returns_netted``
    Data quality of the transactions (:func:`workbench.core.prepare.prepare_orders`).
``customers``, ``orders``, ``revenue``, ``repeat_customer_share``, ``average_order_value``
    Totals up to the as-of date.
``active_customers``, ``period_revenue``, ``repeat_rate``, ``top20_share`` and
``<kpi>_change`` (relative change against the previous period)
    The executive KPIs of the last period (:func:`workbench.analyses.kpi.executive_kpis`).
``holdout_error_pct``, ``log_likelihood``, ``total_predicted_clv``, ``at_risk_customers``
    From the CLV report, when it ran (otherwise a gate on them is reported as not
    evaluated, and does not fail).
``reports_failed``
    Number of notebooks that failed.

Examples
--------
>>> parse_gate("set_aside_share>0.05")
Gate(metric='set_aside_share', op='>', threshold=0.05, text='set_aside_share>0.05')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import math
import operator
import os
import platform
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import polars as pl
import polars.selectors  # noqa: F401  (pl.selectors)

from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.core.summary import Unit

#: Version of the layout of ``summary.json`` (bumped when a field changes meaning).
SCHEMA_VERSION = 1
SUMMARY_FILE = "summary.json"
CHANGES_FILE = "changes.md"
INDEX_FILE = "index.html"
CSV_DIR = "csv"
#: Packages whose versions ``summary.json`` records.
VERSIONED_PACKAGES: tuple[str, ...] = (
    "workbench", "polars", "numpy", "scipy", "altair", "vl-convert-python", "papermill",
    "nbconvert", "nbformat", "ipykernel",
)
#: Prefixes of the key-figure lines the report notebooks print, per notebook stem.
KEY_FIGURE_PREFIXES: tuple[str, ...] = ("KEY_FIGURES ", "LOYALTY_KEY_FIGURES ")
#: Default relative change above which a KPI is listed in ``changes.md``.
DEFAULT_CHANGE_THRESHOLD = 0.05
#: Metrics a gate may name (see the module docstring).
KNOWN_METRICS: tuple[str, ...] = (
    "rows_read", "set_aside_rows", "set_aside_share", "duplicate_rows", "returns_netted",
    "no_customer_id_rows", "revenue_in", "customers", "orders", "revenue",
    "repeat_customer_share", "average_order_value",
    "active_customers", "period_revenue", "repeat_rate", "top20_share",
    "active_customers_change", "period_revenue_change", "repeat_rate_change",
    "top20_share_change", "nps", "nps_change",
    "holdout_error_pct", "log_likelihood", "total_predicted_clv", "at_risk_customers",
    "reports_failed",
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt,
}
_GATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE%]+)\s*$")


class GateError(ConfigError):
    """A gate expression that cannot be read, or names an unknown metric."""


@dataclass(frozen=True)
class Gate:
    """One data-quality gate: fail the run when ``metric op threshold`` holds."""

    metric: str
    op: str
    threshold: float
    text: str


@dataclass(frozen=True)
class GateResult:
    """A gate checked against a run's metrics.

    Attributes
    ----------
    gate
        The gate.
    value
        The metric's value in this run (``None``: not available, the gate is not evaluated).
    failed
        Whether the run fails this gate.
    """

    gate: Gate
    value: float | None
    failed: bool

    @property
    def message(self) -> str:
        """One line: ``set_aside_share = 0.081 fails the gate set_aside_share>0.05``."""
        g = self.gate
        if self.value is None:
            return f"{g.metric}: not available in this run; gate {g.text!r} not evaluated"
        verdict = "fails" if self.failed else "passes"
        return f"{g.metric} = {_fmt(self.value)} {verdict} the gate {g.text}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"gate": self.gate.text, "metric": self.gate.metric, "value": self.value,
                "failed": self.failed, "evaluated": self.value is not None}


def parse_gate(text: str) -> Gate:
    """Read ``metric<op>number`` (``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=``; ``5%`` = 0.05).

    Raises
    ------
    GateError
        For another form or an unknown metric (the message lists the known ones).

    Examples
    --------
    >>> parse_gate("duplicate_rows >= 10").threshold
    10.0
    >>> parse_gate("set_aside_share>5%").threshold
    0.05
    >>> parse_gate("bogus>1")
    Traceback (most recent call last):
    ...
    workbench.app.run_summary.GateError: gate 'bogus>1': unknown metric 'bogus' (known: rows_read, \
set_aside_rows, set_aside_share, duplicate_rows, returns_netted, no_customer_id_rows, revenue_in, \
customers, ...)
    """
    match = _GATE.match(str(text))
    if not match:
        raise GateError(
            f"gate {text!r}: expected METRIC<OP>NUMBER such as 'set_aside_share>0.05' "
            "(OP one of > >= < <= == !=)"
        )
    metric, op, number = match.groups()
    if metric not in KNOWN_METRICS:
        import difflib

        close = difflib.get_close_matches(metric, KNOWN_METRICS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        listed = ", ".join(KNOWN_METRICS[:8])
        raise GateError(f"gate {text!r}: unknown metric {metric!r} ({hint}known: {listed}, ...)")
    try:
        threshold = float(number[:-1]) / 100 if number.endswith("%") else float(number)
    except ValueError:
        raise GateError(f"gate {text!r}: {number!r} is not a number") from None
    return Gate(metric, op, threshold, str(text).strip())


def parse_gates(texts: Iterable[str]) -> list[Gate]:
    """:func:`parse_gate` for each, duplicates dropped (first kept)."""
    gates = [parse_gate(t) for t in texts]
    return list({g.text.replace(" ", ""): g for g in reversed(gates)}.values())[::-1]


def evaluate_gates(gates: Sequence[Gate], metrics: Mapping[str, Any]) -> list[GateResult]:
    """Check each gate against ``metrics`` (:func:`summary_metrics`).

    Examples
    --------
    >>> [r.failed for r in evaluate_gates([parse_gate("set_aside_rows>3")],
    ...                                   {"set_aside_rows": 5})]
    [True]
    >>> evaluate_gates([parse_gate("holdout_error_pct>20")], {})[0].failed
    False
    """
    results = []
    for gate in gates:
        value = metrics.get(gate.metric)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            results.append(GateResult(gate, None, False))
            continue
        results.append(GateResult(gate, float(value), _OPS[gate.op](float(value), gate.threshold)))
    return results


# ------------------------------------------------------------------------------ ingredients


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (hex).

    Examples
    --------
    >>> len(file_digest(__file__))
    64
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_fingerprint(files: Mapping[str, str | os.PathLike[str]]) -> dict[str, Any]:
    """The content hash of the input files: per file and combined (names sorted).

    Parameters
    ----------
    files
        Label (``"transactions"``, ``"project"``...) -> path; empty paths are skipped.

    Returns
    -------
    dict
        ``{"files": {label: {"name", "bytes", "sha256"}}, "content_hash": "sha256:..."}``;
        the combined hash depends on the labels and the bytes only, not on where the files
        are.
    """
    entries: dict[str, dict[str, Any]] = {}
    for label in sorted(files):
        path = files[label]
        if not path or not Path(path).is_file():
            continue
        entries[label] = {
            "name": Path(path).name,
            "bytes": Path(path).stat().st_size,
            "sha256": file_digest(path),
        }
    combined = hashlib.sha256(
        "\n".join(f"{k}:{v['sha256']}" for k, v in entries.items()).encode()
    ).hexdigest()
    return {"files": entries, "content_hash": f"sha256:{combined}"}


def package_versions(names: Sequence[str] = VERSIONED_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` and of Python (``None`` for a missing package)."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def recorded_key_figures(executed: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The key figures an executed report notebook printed (``KEY_FIGURES {json}`` lines).

    Returns the last such record, or ``None`` when the notebook recorded none (it failed
    before, or it is not a report notebook of the package).
    """
    import nbformat

    try:
        nb = nbformat.read(str(executed), as_version=4)
    except (OSError, ValueError):
        return None
    found = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts = []
            if out.get("output_type") == "stream":
                texts.append(out.get("text", ""))
            elif out.get("output_type") in ("display_data", "execute_result"):
                data = out.get("data", {})
                if isinstance(data.get("application/json"), dict):
                    found = dict(data["application/json"])
                    continue
                texts.append(data.get("text/plain", ""))
            for text in texts:
                for line in str(text).splitlines():
                    for prefix in KEY_FIGURE_PREFIXES:
                        if line.startswith(prefix):
                            try:
                                found = json.loads(line[len(prefix):])
                            except ValueError:
                                pass
    return found


def _round(value: Any, digits: int = 6) -> Any:
    """Floats rounded (stable JSON), NaN/inf -> None, containers recursively."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, digits)
    if isinstance(value, dict):
        return {str(k): _round(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v, digits) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _fmt(value: Any) -> str:
    """A number for people: integers with separators, others with 4 significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()
                                  and abs(value) >= 1):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.2f}"
    return str(value)


@dataclass
class Analysis:
    """The frames the summary and the CSVs are made of (:func:`analyse`)."""

    as_of: dt.date
    quality: dict[str, Any]
    quality_frame: pl.DataFrame
    totals: dict[str, Any]
    kpis: pl.DataFrame
    summary: pl.DataFrame
    segments: pl.DataFrame
    segment_sizes: pl.DataFrame


def analyse(
    transactions: pl.DataFrame,
    as_of: str | dt.date,
    *,
    surveys: pl.DataFrame | None = None,
    unit: str = "W",
    segment_rules: str = "default",
    scoring: str = "quantile",
    monetary: str = "total",
    period_days: int = 90,
    source: str = "transactions",
    without_customer_id: pl.DataFrame | None = None,
) -> Analysis:
    """Data quality, totals, KPIs, customer summary and segments of one data set.

    The same rules and defaults as the RFM report notebook.

    Raises
    ------
    DataValidationError
        No purchase by the as-of date, or a rule table that does not validate.
    """
    import workbench as wb
    from workbench.core.prepare import to_date

    end = to_date(as_of)
    orders, quality = wb.prepare_orders(
        transactions, end, source=source, without_customer_id=without_customer_id
    )
    rows_read = int(quality.rows_read)
    set_aside = int(quality.n_set_aside)
    counts = {r["reason"]: int(r["rows"]) for r in quality.to_frame().iter_rows(named=True)}
    # any strings (the notebooks' parameters): summary_from_orders and rfm_scores check them
    summary = wb.summary_from_orders(orders, end, cast("Unit", unit)).sort("customer_id")
    scores = wb.rfm_scores(summary, method=cast("Literal['quantile', 'fixed']", scoring),
                           monetary=cast("Literal['total', 'mean']", monetary))
    segments = wb.assign_segments(scores, segment_rules).sort("customer_id")
    sizes = wb.segment_table(segments, summary).sort(
        ["revenue", "segment"], descending=[True, False]
    )
    # whole cents summed as integers: the same total whatever the order of the rows
    cents = int((orders["amount"] * 100).round(0).cast(pl.Int64).sum()) if orders.height else 0
    revenue = cents / 100
    n_customers = summary.height
    repeaters = int((summary["frequency"] > 0).sum()) if n_customers else 0
    totals = {
        "customers": n_customers,
        "orders": orders.height,
        "revenue": revenue,
        "repeat_customer_share": repeaters / n_customers if n_customers else None,
        "average_order_value": revenue / orders.height if orders.height else None,
    }
    kpis = wb.executive_kpis(transactions, end, period_days, surveys=surveys)
    quality_dict = {
        "rows_read": rows_read,
        "set_aside_rows": set_aside,
        "set_aside_share": set_aside / rows_read if rows_read else 0.0,
        "duplicate_rows": counts.get("exact_duplicate", 0),
        "returns_netted": counts.get("return_netted", 0),
        "no_customer_id_rows": counts.get("no_customer_id", 0),
        "reasons": dict(sorted(counts.items())),
        # every line read in one bucket; lines and amounts add up to what was read
        "tie_out": {r["bucket"]: {"lines": r["lines"], "amount": r["amount"]}
                    for r in quality.tie_out().iter_rows(named=True)},
        "revenue_in": quality.amount_in,
    }
    return Analysis(end, quality_dict, quality.to_frame().sort("reason"), totals, kpis,
                    summary, segments, sizes)


def write_csvs(analysis: Analysis, folder: str | os.PathLike[str]) -> list[Path]:
    """Write the analysis' tables as CSV into ``folder``.

    Rows are sorted and floats rounded to 6 decimals, so that a re-run on the same inputs
    gives byte-identical files.
    """
    from workbench.presentation.export import to_file

    root = Path(folder)
    kpi_cols = [c for c in ("kpi", "label", "value", "previous", "change", "period_start",
                            "period_end") if c in analysis.kpis.columns]
    tables = {
        "customer_summary.csv": analysis.summary,
        "segments.csv": analysis.segments.select(
            [c for c in ("customer_id", "R", "F", "M", "rfm_code", "segment")
             if c in analysis.segments.columns]
        ),
        "segment_sizes.csv": analysis.segment_sizes,
        "kpis.csv": analysis.kpis.select(kpi_cols).sort("kpi"),
        "data_quality.csv": analysis.quality_frame,
    }
    written = []
    for name, frame in tables.items():
        # floats rounded: a parallel float sum may differ in the last bit from run to run
        frame = frame.with_columns(pl.selectors.float().round(6))
        written.append(to_file(frame, root / name))
    return written


def _kpi_metrics(kpis: pl.DataFrame) -> dict[str, Any]:
    """``{kpi: value, kpi_change: relative change}`` of the executive KPI table."""
    out: dict[str, Any] = {}
    rename = {"revenue": "period_revenue"}
    for row in kpis.iter_rows(named=True):
        name = rename.get(row["kpi"], row["kpi"])
        out[name] = row.get("value")
        prev = row.get("previous")
        value = row.get("value")
        if prev not in (None, 0) and value is not None:
            out[f"{name}_change"] = (value - prev) / abs(prev)
    return out


def _clv_metrics(figures: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Model fit and holdout error from the CLV report's key figures."""
    if not figures:
        return None
    error = None
    for row in figures.get("comparison") or []:
        if row.get("model") == figures.get("model"):
            error = row.get("holdout_error_pct")
    actual, predicted = figures.get("holdout_actual"), figures.get("holdout_predicted")
    if error is None and actual and predicted is not None:
        error = 100 * (predicted - actual) / actual
    return {
        "model": figures.get("model"),
        "params": figures.get("params"),
        "log_likelihood": figures.get("log_likelihood"),
        "holdout_actual": actual,
        "holdout_predicted": predicted,
        "holdout_error_pct": error,
        "total_predicted_clv": figures.get("total_predicted_clv"),
        "at_risk_customers": figures.get("at_risk_customers"),
        "recommended_model": figures.get("recommended_model"),
    }


def _portable(value: Any, out_dir: Path) -> Any:
    """A parameter value with paths inside ``out_dir`` made relative to it."""
    if isinstance(value, str) and value.startswith(str(out_dir) + os.sep):
        return os.path.relpath(value, out_dir)
    return value


def summary_metrics(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The flat metric -> value mapping that gates are checked against.

    Examples
    --------
    >>> summary_metrics({"data_quality": {"set_aside_rows": 2}, "kpis": {"revenue": 9.0}})
    {'set_aside_rows': 2, 'revenue': 9.0}
    """
    metrics: dict[str, Any] = {}
    for section in ("data_quality", "kpis"):
        metrics.update({k: v for k, v in (summary.get(section) or {}).items()
                        if not isinstance(v, dict | list)})
    clv = summary.get("clv") or {}
    for key in ("holdout_error_pct", "log_likelihood", "total_predicted_clv",
                "at_risk_customers"):
        if clv.get(key) is not None:
            metrics[key] = clv[key]
    reports = summary.get("reports")
    if reports is not None:
        metrics["reports_failed"] = sum(1 for r in reports if not r.get("ok"))
    return metrics


def build_summary(
    *,
    out_dir: str | os.PathLike[str],
    results: Sequence[Any],
    analysis: Analysis | None,
    inputs: Mapping[str, str | os.PathLike[str]],
    settings: Mapping[str, Any],
    gates: Sequence[Gate] = (),
    analysis_error: str | None = None,
    started: dt.datetime | None = None,
) -> dict[str, Any]:
    """The content of ``summary.json`` (see the module docstring).

    Parameters
    ----------
    out_dir
        The run's output folder (paths inside it are written relative to it).
    results
        :class:`workbench.app.report.ReportResult` of each notebook.
    analysis
        :func:`analyse` of the run's data, or ``None`` when it could not be made.
    inputs
        Input files to fingerprint (label -> path).
    settings
        Options of the run (project file, notebooks, gates...), recorded as given.
    gates
        Gates to check.
    analysis_error
        Why ``analysis`` is ``None``.
    started
        When the run started (goes to ``"timing"``).
    """
    out = Path(out_dir).resolve()
    key_figures = {}
    reports = []
    for r in results:
        figures = recorded_key_figures(r.executed) if Path(r.executed).is_file() else None
        if figures is not None:
            key_figures[Path(r.notebook).stem] = _round(figures)
        reports.append({
            "notebook": Path(r.notebook).name,
            "ok": bool(r.ok),
            "error": r.error,
            "html": _portable(str(r.html), out) if r.html else None,
            "executed": _portable(str(r.executed), out),
        })
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "as_of": analysis.as_of.isoformat() if analysis else None,
        "data": data_fingerprint(inputs),
        "data_quality": _round(analysis.quality) if analysis else None,
        "kpis": _round({**analysis.totals, **_kpi_metrics(analysis.kpis)}) if analysis else None,
        "segments": (
            {r["segment"]: {"customers": r["customers"], "revenue": round(r["revenue"], 2)}
             for r in analysis.segment_sizes.iter_rows(named=True)}
            if analysis else None
        ),
        "clv": _round(_clv_metrics(key_figures.get("clv"))),
        "key_figures": key_figures,
        "reports": reports,
        "parameters": {
            Path(r.notebook).stem: {k: _portable(v, out) for k, v in sorted(r.parameters.items())}
            for r in results
        },
        "settings": _round(dict(settings)),
        "versions": package_versions(),
    }
    if analysis_error:
        summary["analysis_error"] = analysis_error
    metrics = summary_metrics(summary)
    summary["gates"] = [g.to_dict() for g in evaluate_gates(gates, metrics)]
    finished = dt.datetime.now(dt.UTC)
    summary["timing"] = {
        "started": (started or finished).isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": {Path(r.notebook).stem: round(r.seconds, 1) for r in results},
    }
    return summary


def write_summary(summary: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``summary.json`` (sorted keys, 2-space indent, trailing newline)."""
    target = Path(path)
    target.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n",
                      encoding="utf-8")
    return target


def comparable(summary: Mapping[str, Any]) -> dict[str, Any]:
    """``summary`` without the fields that depend on the clock (``"timing"``).

    Two runs on the same inputs give equal ``comparable`` summaries.
    """
    return {k: v for k, v in summary.items() if k != "timing"}


def load_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``summary.json`` (or the ``summary.json`` of a run folder).

    Raises
    ------
    FileNotFoundError
        When there is none.
    ValueError
        When it is not a summary of this format.
    """
    p = Path(path)
    if p.is_dir():
        p = p / SUMMARY_FILE
    if not p.is_file():
        raise FileNotFoundError(2, "previous summary not found", str(p))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{p}: not JSON ({exc})") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ValueError(f"{p}: not a workbench summary.json (no schema_version)")
    return data


# ------------------------------------------------------------------------------- changes


def _rel(new: Any, old: Any) -> float | None:
    if not isinstance(new, int | float) or not isinstance(old, int | float) or old == 0:
        return None
    return (new - old) / abs(old)


def segment_moves(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Customers moving between segments: ``from``, ``to``, ``customers`` (moves only).

    Customers new in ``current`` come from ``"(new)"``; those gone go to ``"(gone)"``.

    Examples
    --------
    >>> import polars as pl
    >>> a = pl.DataFrame({"customer_id": ["x", "y"], "segment": ["Loyal", "Lost"]})
    >>> b = pl.DataFrame({"customer_id": ["x", "y", "z"], "segment": ["At Risk", "Lost", "New"]})
    >>> segment_moves(a, b).rows()
    [('(new)', 'New', 1), ('Loyal', 'At Risk', 1)]
    """
    joined = previous.select("customer_id", pl.col("segment").alias("from")).join(
        current.select("customer_id", pl.col("segment").alias("to")),
        on="customer_id", how="full", coalesce=True,
    ).with_columns(pl.col("from").fill_null("(new)"), pl.col("to").fill_null("(gone)"))
    return (
        joined.filter(pl.col("from") != pl.col("to"))
        .group_by("from", "to")
        .agg(pl.len().alias("customers"))
        .sort(["customers", "from", "to"], descending=[True, False, False])
    )


def change_report(
    current: Mapping[str, Any],
    previous: Mapping[str, Any],
    *,
    threshold: float = DEFAULT_CHANGE_THRESHOLD,
    moves: pl.DataFrame | None = None,
    top_moves: int = 10,
) -> str:
    """The Markdown change report between two ``summary.json`` contents.

    Parameters
    ----------
    current, previous
        The two summaries.
    threshold
        Relative change above which a KPI is listed (0.05 = 5 %).
    moves
        :func:`segment_moves` between the two runs' ``segments.csv``, when both exist.
    top_moves
        Largest moves listed.

    Returns
    -------
    str
        Markdown: a headline, gates, KPI changes, segment sizes and moves, model drift.
    """
    # long: one Markdown report written section by section (KPIs, segments, model drift)
    lines = [f"# Report changes: {previous.get('as_of') or '?'} -> {current.get('as_of') or '?'}",
             ""]
    same_data = (current.get("data") or {}).get("content_hash") == (
        previous.get("data") or {}).get("content_hash")
    lines.append(
        "Same input data as the previous run." if same_data
        else f"Input data changed ({(current.get('data') or {}).get('content_hash', '?')[:19]}...)."
    )
    failed = [g for g in current.get("gates") or [] if g.get("failed")]
    if current.get("gates"):
        lines += ["", "## Data-quality gates", ""]
        for g in current["gates"]:
            mark = "FAILED" if g.get("failed") else ("ok" if g.get("evaluated") else "n/a")
            lines.append(f"- **{mark}** `{g['gate']}` (value {_fmt(g.get('value'))})")
    bad_reports = [r for r in current.get("reports") or [] if not r.get("ok")]
    if bad_reports:
        lines += ["", "## Failed reports", ""]
        lines += [f"- {r['notebook']}: {r.get('error')}" for r in bad_reports]
    # KPIs
    now, before = current.get("kpis") or {}, previous.get("kpis") or {}
    rows, quiet = [], 0
    for key in sorted(set(now) | set(before)):
        if key.endswith("_change"):
            continue
        change = _rel(now.get(key), before.get(key))
        if change is None and now.get(key) == before.get(key):
            quiet += 1
            continue
        if change is not None and abs(change) <= threshold:
            quiet += 1
            continue
        shown = f"{change:+.1%}" if change is not None else "n/a"
        rows.append(f"| {key} | {_fmt(before.get(key))} | {_fmt(now.get(key))} | {shown} |")
    lines += ["", f"## KPI changes beyond {threshold:.0%}", ""]
    if rows:
        lines += ["| KPI | previous | now | change |", "|---|---:|---:|---:|", *rows]
    else:
        lines.append("None.")
    if quiet:
        lines.append(f"\n{quiet} other KPI(s) within {threshold:.0%}.")
    # segments
    seg_now, seg_before = current.get("segments") or {}, previous.get("segments") or {}
    if seg_now or seg_before:
        total_now = sum(v["customers"] for v in seg_now.values()) or 1
        total_before = sum(v["customers"] for v in seg_before.values()) or 1
        lines += ["", "## Segment sizes", "",
                  "| segment | previous | now | change | share (pp) |",
                  "|---|---:|---:|---:|---:|"]
        names = sorted(set(seg_now) | set(seg_before),
                       key=lambda s: -(seg_now.get(s) or {}).get("customers", 0))
        for name in names:
            a = (seg_before.get(name) or {}).get("customers", 0)
            b = (seg_now.get(name) or {}).get("customers", 0)
            pp = 100 * (b / total_now - a / total_before)
            lines.append(f"| {name} | {a:,} | {b:,} | {b - a:+,} | {pp:+.1f} |")
    if moves is not None and moves.height:
        lines += ["", f"## Largest segment moves (of {int(moves['customers'].sum()):,} "
                      "customers who moved)", "",
                  "| from | to | customers |", "|---|---|---:|"]
        lines += [f"| {r['from']} | {r['to']} | {r['customers']:,} |"
                  for r in moves.head(top_moves).iter_rows(named=True)]
    # model drift
    clv_now, clv_before = current.get("clv") or {}, previous.get("clv") or {}
    if clv_now or clv_before:
        lines += ["", "## Model drift (CLV)", ""]
        if clv_now.get("model") != clv_before.get("model"):
            lines.append(f"- model changed: {clv_before.get('model')} -> {clv_now.get('model')}")
        for key in ("holdout_error_pct", "log_likelihood", "total_predicted_clv",
                    "at_risk_customers"):
            a, b = clv_before.get(key), clv_now.get(key)
            if a is None and b is None:
                continue
            change = _rel(b, a)
            shown = f" ({change:+.1%})" if change is not None else ""
            flag = " **beyond threshold**" if change is not None and abs(change) > threshold else ""
            lines.append(f"- {key}: {_fmt(a)} -> {_fmt(b)}{shown}{flag}")
        pa, pb = clv_before.get("params") or {}, clv_now.get("params") or {}
        drift = [k for k in sorted(set(pa) & set(pb))
                 if (c := _rel(pb[k], pa[k])) is not None and abs(c) > threshold]
        if drift:
            listed = ", ".join(f"{k} {_fmt(pa[k])} -> {_fmt(pb[k])}" for k in drift)
            lines.append(f"- parameters beyond {threshold:.0%}: {listed}")
    if failed:
        lines += ["", f"**{len(failed)} gate(s) failed.**"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------- index


def write_index(out_dir: str | os.PathLike[str], title: str = "Reports") -> Path:
    """Write ``index.html`` linking every report, executed notebook, CSV and summary file."""
    root = Path(out_dir)
    groups = {
        "Reports (HTML)": sorted(p for p in root.glob("*.html") if p.name != INDEX_FILE),
        "Executed notebooks": sorted(root.glob("*.ipynb")),
        "CSV exports": sorted((root / CSV_DIR).glob("*.csv")),
        "Run summary": [p for p in (root / SUMMARY_FILE, root / CHANGES_FILE) if p.is_file()],
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:50em}"
        "li{margin:.2em 0}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, paths in groups.items():
        if not paths:
            continue
        parts.append(f"<h2>{html.escape(heading)}</h2><ul>")
        for p in paths:
            rel = p.relative_to(root).as_posix()
            parts.append(f'<li><a href="{html.escape(rel)}">{html.escape(rel)}</a></li>')
        parts.append("</ul>")
    parts.append("</body></html>")
    target = root / INDEX_FILE
    target.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return target


# ------------------------------------------------------------------------------- the run


@dataclass
class RunOutputs:
    """What :func:`write_run_outputs` wrote and found.

    Attributes
    ----------
    summary
        The content of ``summary.json``.
    summary_path, index_path
        The files written.
    changes_path
        ``changes.md``, or ``None`` without a previous summary.
    gate_results
        Each gate checked against this run.
    csvs
        The CSV files written.
    """

    summary: dict[str, Any]
    summary_path: Path
    index_path: Path
    changes_path: Path | None
    gate_results: list[GateResult]
    csvs: list[Path]

    @property
    def failed_gates(self) -> list[GateResult]:
        """The gates this run fails."""
        return [g for g in self.gate_results if g.failed]


def _read_table(path: str, reader: Callable[..., pl.DataFrame]) -> pl.DataFrame | None:
    return reader(path) if path and str(path).strip() else None


def write_run_outputs(
    out_dir: str | os.PathLike[str],
    results: Sequence[Any],
    *,
    transactions: pl.DataFrame | None = None,
    surveys: pl.DataFrame | None = None,
    as_of: str | dt.date | None = None,
    inputs: Mapping[str, str | os.PathLike[str]] | None = None,
    settings: Mapping[str, Any] | None = None,
    gates: Sequence[Gate] = (),
    compare_to: str | os.PathLike[str] | None = None,
    threshold: float = DEFAULT_CHANGE_THRESHOLD,
    started: dt.datetime | None = None,
    without_customer_id: pl.DataFrame | None = None,
) -> RunOutputs:
    """Write ``summary.json``, the CSVs, ``changes.md`` and ``index.html`` of a report run.

    Parameters
    ----------
    out_dir
        The run's folder.
    results
        :class:`workbench.app.report.ReportResult` of each notebook.
    transactions, surveys
        The run's data (read from the notebooks' ``transactions_path``/``surveys_path``
        parameters when not given).
    as_of
        The as-of date (default: the notebooks' ``as_of``, else the last transaction date).
    inputs
        Input files to fingerprint (default: the notebooks' ``*_path`` parameters).
    settings
        Options of the run, recorded in the summary.
    gates
        Gates to check (:func:`parse_gates`).
    compare_to
        The previous run's ``summary.json`` (or its folder): writes ``changes.md``.
    threshold
        Relative change above which a KPI counts as changed.
    started
        When the run started.
    without_customer_id
        Lines set aside for want of a customer id when the project read the data
        (:meth:`workbench.core.project.Project.read_lines`), counted in the data quality.

    Returns
    -------
    RunOutputs

    Raises
    ------
    FileNotFoundError, ValueError
        ``compare_to`` names no readable summary (checked before anything is written).
    """
    out = Path(out_dir).resolve()
    previous = load_summary(compare_to) if compare_to is not None else None
    params: dict[str, Any] = {}
    for r in results:
        for key, value in r.parameters.items():
            params.setdefault(key, value)
    analysis, error = _run_analysis(params, transactions, surveys, as_of, without_customer_id)
    if inputs is None:
        inputs = {k.removesuffix("_path"): v for k, v in params.items()
                  if k.endswith("_path") and isinstance(v, str) and v}
    csvs = write_csvs(analysis, out / CSV_DIR) if analysis is not None else []
    summary = build_summary(
        out_dir=out, results=results, analysis=analysis, inputs=inputs,
        settings=settings or {}, gates=gates, analysis_error=error, started=started,
    )
    summary_path = write_summary(summary, out / SUMMARY_FILE)
    changes_path = None
    if previous is not None:
        changes_path = _write_changes(out, summary, previous, analysis, compare_to, threshold)
    index_path = write_index(out, title=f"Reports as of {summary.get('as_of') or '?'}")
    gate_results = [
        GateResult(g, r["value"], r["failed"]) for g, r in zip(gates, summary["gates"], strict=True)
    ]
    return RunOutputs(summary, summary_path, index_path, changes_path, gate_results, csvs)


def _run_analysis(
    params: dict[str, Any],
    transactions: pl.DataFrame | None,
    surveys: pl.DataFrame | None,
    as_of: str | dt.date | None,
    without_customer_id: pl.DataFrame | None,
) -> tuple[Analysis | None, str | None]:
    """The run's analysis from the tables (read from the notebooks' parameters when not
    given), or ``None`` and a one-line reason when it cannot be made."""
    from workbench.errors import DataValidationError, ModelError

    analysis, error = None, None
    try:
        if transactions is None and params.get("transactions_path"):
            from workbench.core.io import read_transactions

            transactions = read_transactions(params["transactions_path"])
        if surveys is None and params.get("surveys_path"):
            from workbench.core.io import read_surveys

            surveys = _read_table(params["surveys_path"], read_surveys)
        if transactions is not None:
            from workbench.core.project import last_transaction_date

            day = as_of or params.get("as_of") or last_transaction_date(transactions)
            if day is None:
                raise DataValidationError("transactions", None, "no rows: no as-of date")
            options = {k: params[k] for k in ("unit", "segment_rules", "scoring", "monetary",
                                              "period_days") if k in params}
            analysis = analyse(transactions, day, surveys=surveys,
                               without_customer_id=without_customer_id, **options)
        else:
            error = "no transactions table among the notebooks' parameters"
    except (DataValidationError, ModelError, OSError) as exc:
        from workbench.app.report import one_line

        error = one_line(f"{type(exc).__name__}: {exc}")
    return analysis, error


def _write_changes(
    out: Path,
    summary: dict[str, Any],
    previous: dict[str, Any],
    analysis: Analysis | None,
    compare_to: str | os.PathLike[str] | None,
    threshold: float,
) -> Path:
    """Write the change report against ``previous`` (with the segment moves when the earlier
    run's ``segments.csv`` is there) and return its path."""
    moves = None
    old_csv = Path(compare_to or "")
    old_csv = (old_csv if old_csv.is_dir() else old_csv.parent) / CSV_DIR / "segments.csv"
    if analysis is not None and old_csv.is_file():
        moves = segment_moves(pl.read_csv(old_csv, infer_schema=False),
                              analysis.segments.cast({"customer_id": pl.String}))
    changes_path = out / CHANGES_FILE
    changes_path.write_text(
        change_report(summary, previous, threshold=threshold, moves=moves), encoding="utf-8"
    )
    return changes_path
