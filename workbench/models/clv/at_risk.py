"""At-risk lists: valuable customers whose probability of being alive is falling or low.

The at-risk list is among the analyses CRM users expect: P(alive) falling, and days since
the last purchase against the customer's own mean gap (about 1.5-2x at risk, 2-3x lapsed,
over 3x churned, as commercial tools do).  P(alive) is the purchase model's
probability that the customer has not yet dropped out, given her history: BG/NBD, Fader,
Hardie & Lee (2005), eq. (13); Pareto/NBD, Schmittlein, Morrison & Colombo (1987), as in
Fader & Hardie (2005 note), eq. (11).  It falls as time passes without a purchase, the
faster the more regular the customer used to be: exactly the signal "changed the pattern of
consumption" (Kiseleva et al. (2016)).

Both P(alive) values of :func:`at_risk_customers` (at the earlier and at the current as-of
date) come from the *same* fitted model, so a change reflects what the customer did (or did
not do) between the two dates, not a refit.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import polars as pl

from workbench.errors import DataValidationError
from workbench.models.clv._fit import FloatArray, validate_summary
from workbench.models.clv.value import UNIT_DAYS

#: Default thresholds (see :func:`at_risk_customers`).
MIN_DROP = 0.20
LOW_P_ALIVE = 0.30
VALUE_QUANTILE = 0.80

_OUT_SCHEMA = pl.Schema({
    "rank": pl.Int64, "customer_id": pl.String, "status": pl.String,
    "value_at_stake": pl.Float64, "p_alive_before": pl.Float64, "p_alive_now": pl.Float64,
    "p_alive_change": pl.Float64, "frequency": pl.Int64, "days_since_last": pl.Int64,
    "usual_gap_days": pl.Float64, "gap_ratio": pl.Float64, "reason": pl.String,
})


class AliveModel(Protocol):
    """What the at-risk list needs from a fitted BG/NBD or Pareto/NBD model."""

    def p_alive_array(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray: ...


def _p_alive(summary: pl.DataFrame, model: AliveModel, name: str) -> pl.DataFrame:
    d = validate_summary(summary, ("frequency", "recency", "T"))
    if "customer_id" not in summary.columns:
        raise DataValidationError(name, None, "missing required column(s) ['customer_id']")
    pa = model.p_alive_array(d["frequency"], d["recency"], d["T"])
    return summary.select(pl.col("customer_id").cast(pl.String)).with_columns(
        pl.Series("p_alive", np.asarray(pa, dtype=float)))


def _fmt_money(v: float) -> str:
    return f"{v:,.0f}"


def at_risk_customers(
    summary_now: pl.DataFrame,
    summary_before: pl.DataFrame | None,
    model: AliveModel,
    value_column: str = "total_spend",
    *,
    values: pl.DataFrame | None = None,
    min_drop: float = MIN_DROP,
    low_p_alive: float | None = LOW_P_ALIVE,
    value_quantile: float = VALUE_QUANTILE,
    min_value: float | None = None,
    min_frequency: int = 1,
    include_lapsed: bool = False,
    unit: str = "W",
    top: int | None = None,
) -> pl.DataFrame:
    """Valuable customers whose P(alive) fell between two as-of dates, or is low now.

    A customer is listed when she is **valuable** (value at least ``min_value``, by default
    the ``value_quantile`` quantile of the value over the customers of ``summary_now``), has
    at least ``min_frequency`` repeat purchases (BG/NBD gives every one-time buyer
    P(alive) = 1, which says nothing), and

    * ``"falling"``: P(alive) fell by at least ``min_drop`` (absolute, 0-1) since the earlier
      date; or
    * ``"low"``: P(alive) is below ``low_p_alive`` now and was not below it at the earlier
      date (or the customer is new since, or there is no earlier summary); or
    * ``"lapsed"`` (only with ``include_lapsed=True``): below ``low_p_alive`` at both dates.
      Off by default: these customers have been gone a while; the list is for those still
      worth a call.

    The list is ranked by **value at stake**: ``value_column`` (historical value, e.g.
    ``total_spend``, or a predicted CLV taken from ``values``), largest first.

    Parameters
    ----------
    summary_now
        Customer summary at the current as-of date (:func:`workbench.core.summary.customer_summary`)
        with ``customer_id``, ``frequency``, ``recency``, ``T``, and optionally
        ``days_since_last`` (days) for the gap in the reason.
    summary_before
        Summary of the same customers at an earlier as-of date, in the same time unit; or
        ``None`` (then only the "low" rule applies).
    model
        Fitted purchase model (:class:`~workbench.models.clv.BetaGeoModel` or
        :class:`~workbench.models.clv.ParetoNBDModel`) in the summaries' time unit.
    value_column
        Column holding the value at stake (currency): of ``values`` when given, else of
        ``summary_now``.
    values
        Optional frame ``customer_id`` + ``value_column``, e.g. the CLV table of
        :func:`workbench.models.clv.fit_clv` (``clv`` or ``historical_value``).  Customers missing
        from it have no value and are not listed.
    min_drop
        Smallest fall of P(alive) (absolute, in ``(0, 1]``) that counts as falling.
    low_p_alive
        P(alive) below which a customer counts as at risk now; ``None`` turns the rule off.
    value_quantile
        Quantile of the value (``[0, 1]``) from which a customer counts as valuable (0.8 = the
        top 20 %, the group the Pareto analysis of the *Customer relationships* lecture notes,
        topic 6, watches).
    min_value
        Absolute value threshold instead of the quantile.
    min_frequency
        Fewest repeat purchases for a customer to be listed.
    include_lapsed
        Also list customers below ``low_p_alive`` at both dates.
    unit
        Time unit of the summaries (``"D"``, ``"W"`` or ``"M"``): converts the mean gap
        between purchases to days.
    top
        Keep only the first ``top`` rows.

    Returns
    -------
    polars.DataFrame
        ``rank``, ``customer_id``, ``status`` (``falling``, ``low``, ``lapsed``),
        ``value_at_stake`` (currency), ``p_alive_before`` (null when unknown),
        ``p_alive_now``, ``p_alive_change`` (now - before), ``frequency``,
        ``days_since_last``, ``usual_gap_days`` (``recency / frequency`` in days: the
        customer's mean time between purchases), ``gap_ratio`` (days since the last purchase
        over the usual gap; 1.5-2 at risk, 2-3 lapsed, over 3 churned in commercial tools'
        terms) and ``reason`` (plain words).

    Raises
    ------
    ValueError
        Thresholds out of range, a missing column, or summaries the model cannot score.

    Examples
    --------
    >>> import polars as pl
    >>> class Model:  # stands in for a fitted BG/NBD model
    ...     def p_alive_array(self, x, t_x, T):
    ...         return 1.0 / (1.0 + (T - t_x) / 10.0)
    >>> now = pl.DataFrame({"customer_id": ["a", "b"], "frequency": [5, 5],
    ...                     "recency": [20.0, 38.0], "T": [40.0, 40.0],
    ...                     "days_since_last": [140, 14], "total_spend": [900.0, 800.0]})
    >>> before = now.with_columns(pl.col("T") - 13, pl.col("recency").clip(upper_bound=27.0))
    >>> out = at_risk_customers(now, before, Model(), value_quantile=0.0)
    >>> out.select("customer_id", "status", "value_at_stake").rows()
    [('a', 'falling', 900.0)]
    >>> for part in out["reason"][0].split("; "):
    ...     print(part)
    P(alive) fell from 0.59 to 0.33
    no purchase for 140 days, 5.0x the usual gap of 28 days
    5 repeat purchases
    """
    if not 0 < min_drop <= 1:
        raise ValueError(f"min_drop must be in (0, 1], got {min_drop!r}")
    if low_p_alive is not None and not 0 < low_p_alive <= 1:
        raise ValueError(f"low_p_alive must be in (0, 1] or None, got {low_p_alive!r}")
    if not 0 <= value_quantile <= 1:
        raise ValueError(f"value_quantile must be in [0, 1], got {value_quantile!r}")
    if min_frequency < 0:
        raise ValueError(f"min_frequency must be >= 0, got {min_frequency!r}")
    if unit not in ("D", "W", "M"):
        raise ValueError(f"unit must be 'D', 'W' or 'M', got {unit!r}")
    if top is not None and top < 0:
        raise ValueError(f"top must be >= 0 or None, got {top!r}")

    now = _p_alive(summary_now, model, "summary_now")
    source = values if values is not None else summary_now
    if value_column not in source.columns:
        where = "values" if values is not None else "summary_now"
        raise ValueError(f"value_column {value_column!r} is not a column of {where} "
                         f"(columns: {source.columns})")
    if "customer_id" not in source.columns:
        raise DataValidationError("values", None, "missing required column(s) ['customer_id']")
    value = source.select(pl.col("customer_id").cast(pl.String),
                          pl.col(value_column).cast(pl.Float64).alias("value_at_stake"))
    days = (pl.col("days_since_last").cast(pl.Int64) if "days_since_last" in summary_now.columns
            else pl.lit(None, dtype=pl.Int64))
    frame = summary_now.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("frequency").cast(pl.Int64),
        days.alias("days_since_last"),
        pl.when(pl.col("frequency") > 0)
        .then(pl.col("recency").cast(pl.Float64) * UNIT_DAYS[unit] / pl.col("frequency"))
        .alias("usual_gap_days"),
    ).with_columns(now["p_alive"].alias("p_alive_now"))
    if summary_before is not None and summary_before.height:
        before = _p_alive(summary_before, model, "summary_before").rename(
            {"p_alive": "p_alive_before"})
        frame = frame.join(before, on="customer_id", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("p_alive_before"))
    frame = frame.join(value, on="customer_id", how="left")

    vals = frame["value_at_stake"].drop_nulls()
    if min_value is not None:
        threshold = float(min_value)
    elif vals.len():
        q = vals.quantile(value_quantile, interpolation="lower")
        assert q is not None  # None only for an empty or all-null series
        threshold = float(q)
    else:
        threshold = float("inf")

    change = pl.col("p_alive_now") - pl.col("p_alive_before")
    falling = (change <= -min_drop).fill_null(False)
    if low_p_alive is not None:
        low_now = pl.col("p_alive_now") < low_p_alive
        low_before = (pl.col("p_alive_before") < low_p_alive).fill_null(False)
        low = low_now & ~low_before
        lapsed = low_now & low_before if include_lapsed else pl.lit(False)
    else:
        low = lapsed = pl.lit(False)
    status = (pl.when(falling).then(pl.lit("falling")).when(low).then(pl.lit("low"))
              .when(lapsed).then(pl.lit("lapsed")))
    listed = (
        frame.with_columns(change.alias("p_alive_change"), status.alias("status"),
                           (pl.col("days_since_last") / pl.col("usual_gap_days"))
                           .alias("gap_ratio"))
        .filter(pl.col("status").is_not_null()
                & (pl.col("frequency") >= min_frequency)
                & (pl.col("value_at_stake") >= threshold))
        .sort(["value_at_stake", "customer_id"], descending=[True, False])
    )
    if top is not None:
        listed = listed.head(top)
    reasons = [_reason(row, low_p_alive) for row in listed.iter_rows(named=True)]
    return (listed.with_columns(pl.Series("reason", reasons, dtype=pl.String),
                                pl.int_range(1, listed.height + 1, dtype=pl.Int64).alias("rank"))
            .select(list(_OUT_SCHEMA)).cast(_OUT_SCHEMA))


def _reason(row: dict, low_p_alive: float | None) -> str:
    """The plain-words reason of one at-risk row."""
    before, now = row["p_alive_before"], row["p_alive_now"]
    if row["status"] == "falling":
        parts = [f"P(alive) fell from {before:.2f} to {now:.2f}"]
    elif row["status"] == "low" and before is not None:
        parts = [f"P(alive) fell below {low_p_alive:.2f} ({before:.2f} to {now:.2f})"]
    elif row["status"] == "low":
        parts = [f"P(alive) {now:.2f}, below {low_p_alive:.2f}"]
    else:
        parts = [f"P(alive) below {low_p_alive:.2f} at both dates ({before:.2f} to {now:.2f})"]
    days, gap = row["days_since_last"], row["usual_gap_days"]
    if days is not None and gap:
        parts.append(f"no purchase for {days:,} days, {days / gap:.1f}x the usual gap of "
                     f"{gap:,.0f} days")
    elif days is not None:
        parts.append(f"no purchase for {days:,} days")
    n = row["frequency"]
    parts.append(f"{n:,} repeat purchase{'s' if n != 1 else ''}")
    return "; ".join(parts)
