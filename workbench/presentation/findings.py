"""Plain-language findings and headline rows for the opening summary of each report.

Every function here is pure: it takes the frames a report notebook has already computed and
returns sentences (or headline rows of text), so that the same inputs always give the same
words and a test can check them exactly. Numbers are written with
:class:`workbench.presentation.formatting.NumberFormats`: the ones passed, else those set by
:func:`workbench.presentation.formatting.use_formats` (the project's currency and locale; default
USD, ``en_US``).

- :func:`kpi_headlines`: one headline row per KPI of :func:`workbench.analyses.kpi.executive_kpis`,
  with its definition and its change against the previous period ("n/a" against a base too
  small to compare).
- :func:`rfm_findings`: the largest segment moves, revenue concentration, customers at risk
  by value and the period trend.
- :func:`clv_findings`: total predicted CLV (with its interval when one is given), the
  recommended purchase model, how concentrated the predicted value is, customers at risk.
- :func:`loyalty_findings`: the loyalty-type mix, the customers without a survey, the biggest
  driver, NPS and the early warnings.

Examples
--------
>>> import polars as pl
>>> table = pl.DataFrame({"segment": ["Champions", "Lost"], "customers": [2, 8],
...                       "revenue": [900.0, 100.0], "customer_share": [0.2, 0.8],
...                       "revenue_share": [0.9, 0.1]})
>>> concentration_finding(table, 0.9)
'The top 20 % of customers brought 90.0% of revenue to date; Champions alone, 20.0% of \
customers, brought 90.0%.'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from workbench.presentation.formatting import NumberFormats, current, format_kpi

#: Segments whose customers used to be valuable and are slipping away, in the rule tables the
#: package ships (default and rf_grid: "At Risk", "Can't Lose Them"; three_level: "Lapsing").
AT_RISK_SEGMENTS: tuple[str, ...] = ("Can't Lose Them", "At Risk", "Lapsing loyal",
                                     "Lapsing repeat")
#: Segment of customers who had not bought by the comparison date (workbench.analyses.migration).
NO_PURCHASE_YET = "No purchase yet"


@dataclass(frozen=True)
class Headline:
    """One row of a report's headline table.

    Attributes
    ----------
    measure
        What is counted (``"Revenue, last 90 days"``).
    value
        The formatted value.
    change
        The formatted change against the previous period, or ``""`` when there is none.
    definition
        One sentence saying what the number counts.
    """

    measure: str
    value: str
    change: str
    definition: str


def headline_frame(rows: Sequence[Headline]) -> pl.DataFrame:
    """The headline rows as a frame of text columns ``measure``, ``value``, ``change``,
    ``definition`` (what :func:`workbench.presentation.tables.summary_html` shows).

    Examples
    --------
    >>> headline_frame([Headline("Customers", "3", "", "Buyers.")]).columns
    ['measure', 'value', 'change', 'definition']
    """
    return pl.DataFrame(
        [(r.measure, r.value, r.change, r.definition) for r in rows],
        schema={"measure": pl.String, "value": pl.String, "change": pl.String,
                "definition": pl.String},
        orient="row",
    )


def _formats(formats: NumberFormats | None) -> NumberFormats:
    return formats if formats is not None else current()


def format_kpi_value(value: float | None, fmt: str, formats: NumberFormats | None = None) -> str:
    """A KPI value in its format: ``int`` (a count), ``currency``, ``pct`` (a share) or
    ``score`` (NPS points, signed).

    Examples
    --------
    >>> format_kpi_value(3409.0, "int"), format_kpi_value(0.6969, "pct")
    ('3,409', '69.7%')
    >>> format_kpi_value(627175.14, "currency"), format_kpi_value(31.2, "score")
    ('$627.2K', '+31.2')
    """
    return format_kpi(value, fmt, formats, missing="n/a", score="{:+.1f}", other="{:+.1f}")


def format_kpi_change(row: Mapping[str, object], formats: NumberFormats | None = None) -> str:
    """The change of one KPI row against the previous period, in words.

    Shares change in percentage points, NPS in points, counts and money relatively; a KPI
    whose previous period is too small a base to compare (``comparable`` False) gives
    ``"n/a (previous period too small to compare)"``.

    Examples
    --------
    >>> format_kpi_change({"fmt": "currency", "change": -79311.49, "change_pct": -0.112262,
    ...                    "comparable": True})
    '-11.2% vs the previous period'
    >>> format_kpi_change({"fmt": "pct", "change": 0.02465, "change_pct": 0.05,
    ...                    "comparable": True})
    '+2.5 pts vs the previous period'
    """
    if not row.get("comparable") or row.get("change") is None:
        return "n/a (previous period too small to compare)"
    change = float(str(row["change"]))
    fmt = row.get("fmt")
    if fmt == "pct":
        return f"{change * 100:+.1f} pts vs the previous period"
    if fmt == "score":
        return f"{change:+.1f} points vs the previous period"
    pct = row.get("change_pct")
    if pct is None:
        return "n/a (previous period too small to compare)"
    return f"{float(str(pct)) * 100:+.1f}% vs the previous period"


def kpi_headlines(kpis: pl.DataFrame, period_days: int,
                  formats: NumberFormats | None = None) -> list[Headline]:
    """One headline per KPI of :func:`workbench.analyses.kpi.executive_kpis`, with its definition
    (which names the period the KPI covers) and its change against the previous
    ``period_days``.

    Examples
    --------
    >>> kpis = pl.DataFrame({"kpi": ["revenue"], "label": ["Revenue"], "value": [110.0],
    ...     "previous": [100.0], "change": [10.0], "change_pct": [0.1], "comparable": [True],
    ...     "definition": ["Net revenue of the period."], "fmt": ["currency"]})
    >>> kpi_headlines(kpis, 90)[0]
    Headline(measure='Revenue', value='$110', change='+10.0% vs the previous \
period', definition='Net revenue of the period.')
    """
    out = []
    for row in kpis.iter_rows(named=True):
        out.append(Headline(
            measure=str(row["label"]),
            value=format_kpi_value(row["value"], row["fmt"], formats),
            change=format_kpi_change(row, formats),
            definition=str(row.get("definition") or ""),
        ))
    return out


def _customers(n: int, f: NumberFormats) -> str:
    return f"{f.integer(n)} customer" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------------- RFM


def segment_move_finding(migration_summary: pl.DataFrame, since: str) -> str:
    """The segments that grew and shrank most (in customers) since the comparison date.

    Parameters
    ----------
    migration_summary
        :func:`workbench.migration_summary` (``segment``, ``start``, ``end``).
    since
        The comparison date, as text.

    Examples
    --------
    >>> ms = pl.DataFrame({"segment": ["A", "B", "C"], "start": [10, 5, 3], "end": [4, 9, 3]})
    >>> segment_move_finding(ms, "2026-03-31")
    'Largest segment moves since 2026-03-31: A shrank by 6 customers (10 to 4) and B grew by \
4 (5 to 9).'
    """
    f = NumberFormats()
    moves = (migration_summary.filter(pl.col("segment") != NO_PURCHASE_YET)
             .with_columns((pl.col("end") - pl.col("start")).alias("delta")))
    if moves.height == 0 or moves["delta"].abs().max() == 0:
        return f"No segment changed size since {since}."
    down = moves.sort(["delta", "segment"]).row(0, named=True)
    up = moves.sort(["delta", "segment"], descending=[True, False]).row(0, named=True)
    parts = []
    if down["delta"] < 0:
        parts.append(f"{down['segment']} shrank by {_customers(-down['delta'], f)} "
                     f"({f.integer(down['start'])} to {f.integer(down['end'])})")
    if up["delta"] > 0:
        n = f.integer(up["delta"]) if parts else _customers(up["delta"], f)
        parts.append(f"{up['segment']} grew by {n} "
                     f"({f.integer(up['start'])} to {f.integer(up['end'])})")
    return f"Largest segment moves since {since}: {' and '.join(parts)}."


def concentration_finding(segment_table: pl.DataFrame, top20_share: float) -> str:
    """How concentrated revenue to date is: the top 20 % of customers, and the segment with
    the largest revenue share.

    Parameters
    ----------
    segment_table
        :func:`workbench.segment_table` (``segment``, ``customer_share``, ``revenue_share``).
    top20_share
        Share of revenue to date of the top 20 % of customers (:func:`workbench.top_share`).
    """
    f = NumberFormats()
    text = f"The top 20 % of customers brought {f.percent(top20_share)} of revenue to date"
    if segment_table.height:
        top = segment_table.sort(["revenue_share", "segment"],
                                 descending=[True, False]).row(0, named=True)
        text += (f"; {top['segment']} alone, {f.percent(top['customer_share'])} of customers, "
                 f"brought {f.percent(top['revenue_share'])}")
    return text + "."


def at_risk_segments_finding(segment_table: pl.DataFrame,
                             formats: NumberFormats | None = None,
                             at_risk: Sequence[str] = AT_RISK_SEGMENTS) -> str | None:
    """The customers of the at-risk segments and the revenue to date they brought, or
    ``None`` when the rule table has none of those segments (or they are empty).

    Examples
    --------
    >>> t = pl.DataFrame({"segment": ["At Risk", "Lost"], "customers": [3, 7],
    ...                   "revenue": [600.0, 400.0], "customer_share": [0.3, 0.7],
    ...                   "revenue_share": [0.6, 0.4]})
    >>> at_risk_segments_finding(t)
    'At Risk: 3 customers (30.0% of customers) who brought $600 (60.0% of revenue to date) \
and are slipping away: the win-back list, most valuable first.'
    """
    f = _formats(formats)
    rows = segment_table.filter(pl.col("segment").is_in(list(at_risk)) & (pl.col("customers") > 0))
    if rows.height == 0:
        return None
    names = [s for s in at_risk if s in rows["segment"].to_list()]
    label = " and ".join(names)
    n = int(rows["customers"].sum())
    customer_share = float(rows["customer_share"].sum())
    revenue = float(rows["revenue"].sum())
    revenue_share = float(rows["revenue_share"].sum())
    return (f"{label}: {_customers(n, f)} ({f.percent(customer_share)} of "
            f"customers) who brought {f.money(revenue)} "
            f"({f.percent(revenue_share)} of revenue to date) and are slipping "
            "away: the win-back list, most valuable first.")


def trend_finding(kpis: pl.DataFrame, period_days: int,
                  formats: NumberFormats | None = None) -> str | None:
    """Revenue and active customers of the last period against the one before, or ``None``
    when the KPI frame has neither.

    Examples
    --------
    >>> kpis = pl.DataFrame({"kpi": ["active_customers", "revenue"], "value": [90.0, 80.0],
    ...     "change": [-10.0, 8.0], "change_pct": [-0.1, 0.11111], "comparable": [True, True],
    ...     "fmt": ["int", "currency"]})
    >>> trend_finding(kpis, 90)
    'Revenue in the last 90 days: $80.00, up 11.1% on the 90 days before; active customers: 90, \
down 10.0%.'
    """
    f = _formats(formats)
    by = {r["kpi"]: r for r in kpis.iter_rows(named=True)}
    parts = []
    for key, name in (("revenue", "Revenue in the last"), ("active_customers",
                                                          "active customers")):
        row = by.get(key)
        if row is None:
            continue
        value = format_kpi_value(row["value"], row["fmt"], f)
        if not row.get("comparable") or row.get("change_pct") is None:
            change = "no comparison (previous period too small)"
        else:
            pct = float(row["change_pct"])
            word = "up" if pct > 0 else "down" if pct < 0 else "unchanged"
            change = word if pct == 0 else f"{word} {abs(pct) * 100:.1f}%"
        if key == "revenue":
            parts.append(f"{name} {period_days} days: {value}, {change} on the "
                         f"{period_days} days before")
        else:
            parts.append(f"{name}: {value}, {change}")
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def rfm_findings(segment_table: pl.DataFrame, migration_summary: pl.DataFrame,
                 kpis: pl.DataFrame, top20_share: float, since: str, period_days: int,
                 formats: NumberFormats | None = None) -> list[str]:
    """The findings of the RFM report: segment moves, concentration, at-risk value, trend.

    Parameters
    ----------
    segment_table
        :func:`workbench.segment_table` at the as-of date.
    migration_summary
        :func:`workbench.migration_summary` from the comparison date to the as-of date.
    kpis
        :func:`workbench.executive_kpis` of the last ``period_days``.
    top20_share
        Revenue share to date of the top 20 % of customers.
    since
        The comparison date.
    period_days
        Length of the KPI period.
    formats
        Currency and locale (default USD, en_US).

    Returns
    -------
    list of str
        Three to four sentences.
    """
    found = [segment_move_finding(migration_summary, since),
             concentration_finding(segment_table, top20_share),
             at_risk_segments_finding(segment_table, formats),
             trend_finding(kpis, period_days, formats)]
    return [s for s in found if s]


# --------------------------------------------------------------------------------- CLV


def clv_total_finding(totals: Mapping[str, object], horizon: str,
                      interval: tuple[float, float] | None = None, level: float = 0.9,
                      formats: NumberFormats | None = None) -> str:
    """The total predicted CLV over the horizon, with its interval when one is given.

    Examples
    --------
    >>> clv_total_finding({"predicted_clv": 12500.0, "customers": 40}, "the next 12 months")
    'Predicted CLV over the next 12 months: $12.5K from 40 customers (discounted margin).'
    >>> clv_total_finding({"predicted_clv": 12500.0, "customers": 40}, "the next 12 months",
    ...                   (11000.0, 14000.0))
    'Predicted CLV over the next 12 months: $12.5K from 40 customers (discounted margin; 90% \
interval $11K to $14K).'
    """
    f = _formats(formats)
    extra = "discounted margin"
    if interval is not None:
        extra += f"; {level:.0%} interval {f.money(interval[0])} to {f.money(interval[1])}"
    n = int(str(totals["customers"]))
    total = float(str(totals["predicted_clv"]))
    return f"Predicted CLV over {horizon}: {f.money(total)} from {_customers(n, f)} ({extra})."


def model_finding(recommended_label: str | None, used_label: str, reason: str) -> str:
    """Which purchase model the comparison recommends and which one the report uses.

    Examples
    --------
    >>> model_finding("BG/NBD", "BG/NBD", "It has the smallest holdout error.")
    'Recommended purchase model: BG/NBD, used in this report. It has the smallest holdout error.'
    >>> model_finding("Pareto/NBD", "BG/NBD", "")
    'Recommended purchase model: Pareto/NBD; this report uses BG/NBD, as asked.'
    """
    if recommended_label is None:
        text = f"No model could be recommended; this report uses {used_label}."
    elif recommended_label == used_label:
        text = f"Recommended purchase model: {used_label}, used in this report."
    else:
        text = (f"Recommended purchase model: {recommended_label}; this report uses "
                f"{used_label}, as asked.")
    return f"{text} {reason.strip()}".strip()


def value_concentration_finding(clv_table: pl.DataFrame, share: float = 0.2) -> str | None:
    """The share of the predicted CLV held by the top ``share`` of customers by CLV.

    Examples
    --------
    >>> t = pl.DataFrame({"clv": [50.0, 20.0, 10.0, 10.0, 10.0]})
    >>> value_concentration_finding(t)
    'The top 20 % of customers by CLV hold 50.0% of the predicted value.'
    """
    values = clv_table["clv"].drop_nulls().sort(descending=True)
    total = float(values.sum()) if values.len() else 0.0
    if total <= 0:
        return None
    n = max(1, round(values.len() * share))
    held = float(values.head(n).sum()) / total
    return (f"The top {share * 100:.0f} % of customers by CLV hold "
            f"{NumberFormats().percent(held)} of the predicted value.")


def clv_at_risk_finding(at_risk: pl.DataFrame, since_days: int,
                        formats: NumberFormats | None = None) -> str:
    """How many valuable customers are at risk and the revenue to date at stake.

    Examples
    --------
    >>> clv_at_risk_finding(pl.DataFrame({"value_at_stake": [300.0, 200.0]}), 90)
    '2 valuable customers are at risk (P(alive) fell over the last 90 days), with $500 of \
revenue to date at stake.'
    >>> clv_at_risk_finding(pl.DataFrame({"value_at_stake": []}), 90)
    'No valuable customer is at risk over the last 90 days.'
    """
    f = _formats(formats)
    if at_risk.height == 0:
        return f"No valuable customer is at risk over the last {since_days} days."
    word = "customer is" if at_risk.height == 1 else "customers are"
    return (f"{f.integer(at_risk.height)} valuable {word} at risk (P(alive) fell over the last "
            f"{since_days} days), with {f.money(float(at_risk['value_at_stake'].sum()))} of "
            "revenue to date at stake.")


def clv_findings(totals: Mapping[str, object], horizon: str, recommended_label: str | None,
                 used_label: str, reason: str, clv_table: pl.DataFrame, at_risk: pl.DataFrame,
                 at_risk_days: int, interval: tuple[float, float] | None = None,
                 level: float = 0.9, formats: NumberFormats | None = None) -> list[str]:
    """The findings of the CLV report: total, model, concentration of value, at risk.

    Parameters
    ----------
    totals
        :meth:`workbench.models.clv.ClvFit.totals`.
    horizon
        The horizon in words (``"the next 12 periods of M"``).
    recommended_label, used_label, reason
        From the model comparison (:func:`workbench.models.clv.compare_models`).
    clv_table
        The per-customer CLV table (column ``clv``).
    at_risk
        :func:`workbench.models.clv.at_risk_customers` (column ``value_at_stake``).
    at_risk_days
        The look-back of the at-risk list.
    interval
        Lower and upper bound of the total predicted CLV, when available.
    level
        Coverage of ``interval``.
    formats
        Currency and locale.
    """
    found = [clv_total_finding(totals, horizon, interval, level, formats),
             model_finding(recommended_label, used_label, reason),
             value_concentration_finding(clv_table),
             clv_at_risk_finding(at_risk, at_risk_days, formats)]
    return [s for s in found if s]


# ----------------------------------------------------------------------------- loyalty

_KNOWN_TYPES = ("reciprocal", "premium", "inertia", "latent", "no loyalty")


def loyalty_mix_finding(type_summary: pl.DataFrame) -> str | None:
    """The loyalty-type mix of the surveyed buyers: the largest type and the share of
    premium and reciprocal customers with the value they bring.

    Examples
    --------
    >>> ts = pl.DataFrame({"loyalty_type": ["premium", "inertia", "no loyalty",
    ...                                     "regular, attitude unknown"],
    ...                    "customers": [2, 3, 5, 10], "value_share": [0.3, 0.2, 0.1, 0.4]})
    >>> loyalty_mix_finding(ts)
    'Of the 10 buyers with a known attitude, the largest loyalty type is no loyalty (5, 50.0%); \
premium and reciprocal customers are 2 (20.0%) and bring 30.0% of all value.'
    """
    f = NumberFormats()
    known = type_summary.filter(pl.col("loyalty_type").is_in(_KNOWN_TYPES)
                                & (pl.col("customers") > 0))
    n = int(known["customers"].sum()) if known.height else 0
    if n == 0:
        return None
    top = known.sort(["customers", "loyalty_type"], descending=[True, False]).row(0, named=True)
    best = known.filter(pl.col("loyalty_type").is_in(["premium", "reciprocal"]))
    n_best = int(best["customers"].sum()) if best.height else 0
    value = float(best["value_share"].sum()) if best.height else 0.0
    return (f"Of the {f.integer(n)} buyers with a known attitude, the largest loyalty type is "
            f"{top['loyalty_type']} ({f.integer(top['customers'])}, "
            f"{f.percent(top['customers'] / n)}); premium and reciprocal customers are "
            f"{f.integer(n_best)} ({f.percent(n_best / n)}) and bring {f.percent(value)} of "
            "all value.")


def unknown_attitude_finding(type_summary: pl.DataFrame) -> str | None:
    """The buyers without a survey, and the value of the regular ones among them.

    Examples
    --------
    >>> ts = pl.DataFrame({"loyalty_type": ["premium", "regular, attitude unknown",
    ...                                     "one-time, attitude unknown"],
    ...                    "customers": [2, 3, 5], "value_share": [0.3, 0.6, 0.1]})
    >>> unknown_attitude_finding(ts)
    '8 of 10 buyers (80.0%) have no survey; the 3 regular ones among them bring 60.0% of all \
value: survey them first.'
    """
    f = NumberFormats()
    total = int(type_summary["customers"].sum())
    unknown = type_summary.filter(pl.col("loyalty_type").str.ends_with("attitude unknown"))
    n = int(unknown["customers"].sum()) if unknown.height else 0
    if n == 0 or total == 0:
        return None
    regular = unknown.filter(pl.col("loyalty_type").str.starts_with("regular"))
    n_regular = int(regular["customers"].sum()) if regular.height else 0
    value = float(regular["value_share"].sum()) if regular.height else 0.0
    return (f"{f.integer(n)} of {f.integer(total)} buyers ({f.percent(n / total)}) have no "
            f"survey; the {f.integer(n_regular)} regular ones among them bring "
            f"{f.percent(value)} of all value: survey them first.")


def driver_finding(drivers: pl.DataFrame, target: str = "nps") -> str:
    """The criterion most associated with ``target`` (rank 1 of the key-driver table).

    Examples
    --------
    >>> d = pl.DataFrame({"target": ["nps", "nps"], "criterion": ["quality", "price"],
    ...                   "n": [300, 300], "rho": [0.61, 0.1], "ci_low": [0.55, 0.0],
    ...                   "ci_high": [0.66, 0.2], "rank": [1, 2]})
    >>> driver_finding(d)
    'Biggest driver of NPS: quality (Spearman correlation 0.61, 95 % interval 0.55 to 0.66, \
300 answers).'
    """
    rows = drivers.filter(pl.col("target") == target) if drivers.height else drivers
    if rows.height == 0:
        return "No survey answers with criterion scores: no driver analysis."
    top = rows.sort(["rank", "criterion"]).row(0, named=True)
    name = {"nps": "NPS", "repurchase_intent": "repurchase intent"}.get(target, target)
    criterion = str(top["criterion"]).replace("_", " ")
    text = f"Biggest driver of {name}: {criterion} (Spearman correlation {top['rho']:.2f}"
    if top.get("ci_low") is not None and top.get("ci_high") is not None:
        text += f", 95 % interval {top['ci_low']:.2f} to {top['ci_high']:.2f}"
    return text + f", {NumberFormats().integer(top['n'])} answers)."


def nps_finding(figures: Mapping[str, object]) -> str | None:
    """NPS with its interval and number of answers, from the loyalty key figures.

    Examples
    --------
    >>> nps_finding({"nps": 17.88, "nps_low": 15.28, "nps_high": 20.48, "nps_n": 3484})
    'NPS is +17.9 (95 % interval +15.3 to +20.5; 3,484 answers).'
    """
    nps = figures.get("nps")
    if nps is None:
        return None
    text = f"NPS is {float(str(nps)):+.1f} ("
    low, high = figures.get("nps_low"), figures.get("nps_high")
    if low is not None and high is not None:
        text += f"95 % interval {float(str(low)):+.1f} to {float(str(high)):+.1f}; "
    answers = int(str(figures.get("nps_n") or 0))
    return text + f"{NumberFormats().integer(answers)} answers)."


def warning_finding(warning_counts: pl.DataFrame, n_customers: int, value_at_stake: float,
                    formats: NumberFormats | None = None) -> str:
    """How many customers show an early warning, the value at stake and the commonest one.

    Examples
    --------
    >>> wc = pl.DataFrame({"warning": ["lapsing", "spend reduction"], "customers": [4, 6]})
    >>> warning_finding(wc, 8, 1250.0)
    '8 customers show an early warning, with $1,250 at stake; the commonest is spend \
reduction (6 customers).'
    """
    f = _formats(formats)
    if n_customers == 0:
        return "No customer shows an early warning."
    top = warning_counts.sort(["customers", "warning"], descending=[True, False]).row(
        0, named=True)
    verb = "shows" if n_customers == 1 else "show"
    return (f"{_customers(n_customers, f)} {verb} an early warning, with "
            f"{f.money(value_at_stake)} at stake; the commonest is {top['warning']} "
            f"({_customers(int(top['customers']), f)}).")


def loyalty_findings(type_summary: pl.DataFrame, drivers: pl.DataFrame,
                     figures: Mapping[str, object], warning_counts: pl.DataFrame,
                     formats: NumberFormats | None = None) -> list[str]:
    """The findings of the loyalty report: type mix, unknown attitude, driver, NPS, warnings.

    Parameters
    ----------
    type_summary
        :attr:`workbench.analyses.loyalty.LoyaltyAnalysis.type_summary`.
    drivers
        :attr:`workbench.analyses.loyalty.LoyaltyAnalysis.drivers`.
    figures
        :meth:`workbench.analyses.loyalty.LoyaltyAnalysis.key_figures` (``nps``, ``warnings``,
        ``warning_value_at_stake``).
    warning_counts
        :func:`workbench.analyses.loyalty.warning_counts`.
    formats
        Currency and locale.
    """
    found = [loyalty_mix_finding(type_summary), unknown_attitude_finding(type_summary),
             driver_finding(drivers) if figures.get("nps") is not None or drivers.height
             else None,
             nps_finding(figures),
             warning_finding(warning_counts, int(str(figures.get("warnings") or 0)),
                             float(str(figures.get("warning_value_at_stake") or 0.0)), formats)]
    return [s for s in found if s]


def p_value_text(p: float) -> str:
    """A p-value for readers: ``p < 0.001`` below a thousandth, else two significant digits.

    Examples
    --------
    >>> p_value_text(7.8e-09), p_value_text(0.3712)
    ('p < 0.001', 'p = 0.37')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def plain_p_values(text: str) -> str:
    """``text`` with every ``p=7.8e-09``-style value written as :func:`p_value_text` does.

    Examples
    --------
    >>> plain_p_values("Pearson 0.009, p=0.37; Spearman 0.058, p=7.8e-09")
    'Pearson 0.009, p = 0.37; Spearman 0.058, p < 0.001'
    """
    import re

    def repl(m: re.Match[str]) -> str:
        return p_value_text(float(m.group(1)))

    return re.sub(r"\bp\s*=\s*([0-9.]+(?:e[+-]?\d+)?)", repl, text)
