"""From transactions to a CLV per customer in one call, and CLV per segment.

:func:`clv_table` is the short path an analyst (or a dashboard) takes: build the customer summary
(:func:`workbench.core.summary.customer_summary`, weekly by default), fit a purchase model (BG/NBD,
Fader, Hardie & Lee 2005; or Pareto/NBD, Schmittlein, Morrison & Colombo 1987) and the Gamma-Gamma
spend model (Fader, Hardie & Lee 2005b; Fader & Hardie 2013 note), and return, per customer, the
historical value beside the predictions. :func:`fit_clv` does the same from a summary already built
and keeps the fitted models (:class:`ClvFit`).

Margin
------
CLV is a discounted *margin*.  With ``margin=None`` the margin is the profit share of revenue
in the data (``sum(total_profit) / sum(total_spend)`` of the summary) when the transactions
carry ``margin`` or ``cost``; otherwise ``default_margin`` (:data:`DEFAULT_MARGIN`, 30 %, the
gross margin Fader, Hardie & Lee 2005b assume for CDNOW).  The margin used and where it came
from are kept on :class:`ClvFit` (``margin``, ``margin_source``).

One-time buyers
---------------
Gamma-Gamma is fitted on repeat customers only (``frequency > 0`` and ``monetary_value > 0``),
because ``monetary_value`` is the mean of the *repeat* purchases.  For everyone else the
model's conditional expectation reduces to the population mean spend ``p gamma / (q - 1)``
(:meth:`GammaGammaModel.expected_spend_array`); the table says which customers got it
(``spend_basis = "population"``).

Minimum data
------------
:func:`check_clv_data` states what a fit needs before any optimiser runs: at least one customer
(else :class:`~workbench.errors.DataValidationError`: no purchase on or before the as-of date),
at least 2 customers with repeat purchases for the purchase model and at least 2 with repeat
purchases and a positive mean spend for Gamma-Gamma (else
:class:`~workbench.models.clv.NotEnoughDataError`, a :class:`~workbench.errors.ModelError`).  One
customer, or data in which nobody bought twice, cannot be fitted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, cast

import polars as pl

from workbench.core.stable import stable_mean, stable_sum
from workbench.core.summary import Unit, require_purchases
from workbench.errors import DataValidationError
from workbench.models.clv._fit import MIN_REPEAT_CUSTOMERS, require_customers
from workbench.models.clv.bgnbd import BetaGeoModel
from workbench.models.clv.gammagamma import GammaGammaModel
from workbench.models.clv.paretonbd import ParetoNBDModel
from workbench.models.clv.value import customer_lifetime_value

#: Margin used when the data carry no cost (share of revenue).
DEFAULT_MARGIN = 0.30
#: Purchase models by name.
PURCHASE_MODELS: dict[str, type[BetaGeoModel] | type[ParetoNBDModel]] = {
    "bgnbd": BetaGeoModel,
    "paretonbd": ParetoNBDModel,
}
ModelName = Literal["bgnbd", "paretonbd"]


def make_purchase_model(model: str) -> BetaGeoModel | ParetoNBDModel:
    """An unfitted purchase model by name: ``"bgnbd"`` or ``"paretonbd"``.

    Examples
    --------
    >>> make_purchase_model("bgnbd")
    BetaGeoModel(not fitted)
    """
    key = str(model).lower().replace("/", "").replace("-", "").replace("_", "")
    if key not in PURCHASE_MODELS:
        raise ValueError(f"model must be one of {sorted(PURCHASE_MODELS)}, got {model!r}")
    return PURCHASE_MODELS[key]()


def check_clv_data(summary: pl.DataFrame, model: str = "bgnbd",
                   as_of: dt.date | str | None = None,
                   transactions: pl.DataFrame | None = None,
                   source: str = "transactions") -> pl.DataFrame:
    """Check that the purchase and spend models can be fitted on ``summary``; return it.

    Cheap (no fit): the checks :func:`fit_clv` makes first, for a report to fail in its first
    data cell with one clear message.

    Parameters
    ----------
    summary
        Customer summary (``frequency``, ``monetary_value``).
    model
        ``"bgnbd"`` or ``"paretonbd"`` (named in the message).
    as_of, transactions, source
        For the message when there is no customer at all
        (:func:`workbench.core.summary.require_purchases`).

    Raises
    ------
    workbench.errors.DataValidationError
        No customer with a purchase on or before the as-of date.
    workbench.models.clv.NotEnoughDataError
        Fewer than 2 customers with repeat purchases (purchase model), or fewer than 2 with
        repeat purchases and a positive mean spend (Gamma-Gamma).

    Examples
    --------
    >>> import polars as pl
    >>> from workbench.errors import ModelError
    >>> one_time = pl.DataFrame({"frequency": [0, 0, 0], "monetary_value": [0.0, 0.0, 0.0]})
    >>> try:
    ...     check_clv_data(one_time)
    ... except ModelError as err:
    ...     print(err)
    BG/NBD needs at least 2 customers with repeat purchases; found 0 among 3 customers
    """
    require_purchases(summary, as_of, transactions, source)
    purchase = make_purchase_model(model)
    n = summary.height
    repeat = summary["frequency"] > 0
    require_customers(purchase._model_name, "with repeat purchases", int(repeat.sum()),
                      MIN_REPEAT_CUSTOMERS, n)
    if "monetary_value" in summary.columns:
        spend = int((repeat & (summary["monetary_value"] > 0)).sum())
        require_customers(GammaGammaModel._model_name, "with repeat purchases and a positive "
                          "mean spend (frequency > 0 and monetary_value > 0)", spend, 2, n)
    return summary


def data_margin(summary: pl.DataFrame,
                default_margin: float = DEFAULT_MARGIN) -> tuple[float, str]:
    """The profit margin of the data (share of revenue) and where it came from.

    ``sum(total_profit) / sum(total_spend)`` when the summary has ``total_profit`` (the
    transactions carried ``margin`` or ``cost``) and positive revenue, clipped to ``[0, 1]``;
    otherwise ``default_margin``.

    Returns
    -------
    tuple
        ``(margin, source)`` with ``source`` ``"data"`` or ``"default"``.

    Examples
    --------
    >>> import polars as pl
    >>> data_margin(pl.DataFrame({"total_spend": [100.0, 300.0], "total_profit": [30.0, 90.0]}))
    (0.3, 'data')
    >>> data_margin(pl.DataFrame({"total_spend": [100.0]}))
    (0.3, 'default')
    """
    if not 0 <= default_margin <= 1:
        raise ValueError(f"default_margin is a share of revenue in [0, 1], got {default_margin!r}")
    if "total_profit" in summary.columns and "total_spend" in summary.columns:
        revenue = float(summary["total_spend"].sum() or 0.0)
        profit = summary["total_profit"].sum()
        if revenue > 0 and profit is not None:
            return min(max(float(profit) / revenue, 0.0), 1.0), "data"
    return float(default_margin), "default"


@dataclass(frozen=True)
class ClvFit:
    """Fitted models and the per-customer CLV table of :func:`fit_clv`.

    Attributes
    ----------
    table
        Per customer (see :func:`fit_clv`).
    purchase_model
        The fitted :class:`BetaGeoModel` or :class:`ParetoNBDModel`.
    spend_model
        The fitted :class:`GammaGammaModel`.
    margin, margin_source
        Margin used (share of revenue) and ``"parameter"``, ``"data"`` or ``"default"``.
    model, unit, period, horizon_periods, annual_discount_rate
        The settings.
    interval
        The interval of the totals when the fit was asked for intervals
        (:func:`workbench.models.clv.uncertainty.clv_table_intervals`: ``level``,
        ``predicted_clv_lower``, ``predicted_clv_upper``, ``expected_purchases_lower``,
        ``expected_purchases_upper``, ``note``), else ``None``.
    """

    table: pl.DataFrame
    purchase_model: BetaGeoModel | ParetoNBDModel
    spend_model: GammaGammaModel
    margin: float
    margin_source: str
    model: str
    unit: str
    period: str | float
    horizon_periods: int
    annual_discount_rate: float
    interval: dict[str, Any] | None = None

    def totals(self) -> dict[str, Any]:
        """Whole-base figures: see :func:`clv_totals`; with intervals also
        ``predicted_clv_lower``/``_upper``, ``expected_purchases_lower``/``_upper``,
        ``interval_level`` and ``interval_note`` (the same bootstrap draws summed over
        customers per draw, :func:`workbench.models.clv.uncertainty.clv_table_intervals`)."""
        out: dict[str, Any] = dict(clv_totals(self.table))
        if self.interval is not None:
            for key in ("predicted_clv_lower", "predicted_clv_upper",
                        "expected_purchases_lower", "expected_purchases_upper"):
                out[key] = self.interval[key]
            out["interval_level"] = self.interval["level"]
            out["interval_note"] = self.interval["note"]
        return out


def fit_clv(
    summary: pl.DataFrame,
    horizon_periods: int = 12,
    period: str | float = "M",
    margin: float | None = None,
    annual_discount_rate: float = 0.10,
    model: ModelName = "bgnbd",
    unit: str = "W",
    *,
    default_margin: float = DEFAULT_MARGIN,
    purchase_model: Any | None = None,
    intervals: bool = False,
    interval_level: float = 0.9,
    interval_draws: int = 200,
    seed: int = 0,
) -> ClvFit:
    """Fit the purchase and spend models on a customer summary and value every customer.

    Parameters
    ----------
    summary
        :func:`workbench.core.summary.customer_summary` output in ``unit`` (``frequency``,
        ``recency``, ``T``, ``monetary_value``, ``n_purchases``, ``total_spend`` and, when
        cost is known, ``total_profit``).
    horizon_periods
        CLV horizon in periods (12 monthly periods = one year).
    period
        Length of one period: ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``.
    margin
        Profit margin, share of revenue in ``[0, 1]``; ``None``: :func:`data_margin`.
    annual_discount_rate
        Annual discount rate (0.10 = 10 % a year), compounded per period.
    model
        ``"bgnbd"`` (the default) or ``"paretonbd"`` (a little slower: its likelihood needs a
        Gaussian hypergeometric function per distinct customer history).
    unit
        Time unit of the summary: ``"D"``, ``"W"`` or ``"M"``.
    default_margin
        Margin when ``margin`` is ``None`` and the data carry no cost.
    purchase_model
        A purchase model already fitted on ``summary`` (e.g. ``compare_models(...).models``)
        to use instead of fitting ``model`` again; it must be of the kind ``model`` names.
    intervals
        Add interval columns ``expected_purchases_lower``, ``expected_purchases_upper``,
        ``clv_lower``, ``clv_upper`` and ``interval_note`` to the table, and the interval of
        the totals to :attr:`ClvFit.interval`
        (:func:`workbench.models.clv.uncertainty.clv_table_intervals`: the uncertainty of the
        parameters, not the customer's own randomness).
    interval_level, interval_draws, seed
        Coverage of the intervals; bootstrap draws and seed of the interval of the totals.

    Returns
    -------
    ClvFit
        ``table`` has, per customer: ``customer_id``, ``frequency``, ``recency``, ``T``,
        ``n_purchases``, ``historical_value`` (revenue to date, net of returns, currency),
        ``historical_profit`` (null without cost data), ``expected_purchases`` (over the
        horizon, undiscounted), ``p_alive``, ``expected_spend`` (currency per purchase),
        ``spend_basis`` (``"customer"``, ``"population"`` for customers Gamma-Gamma
        excludes, or the reason the spend is undefined, e.g. ``"spend model undefined:
        p*x+q <= 1"``, with null ``expected_spend`` and ``clv``), ``predicted_revenue``
        (expected purchases x expected spend, undiscounted) and ``clv`` (discounted margin
        over the horizon, currency).

    Raises
    ------
    ValueError
        Bad parameters.
    workbench.errors.DataValidationError
        The summary has no customers.
    workbench.models.clv.NotEnoughDataError
        Data the models cannot be fitted on (:func:`check_clv_data`; a ``ModelError``).
    workbench.models.clv.ConvergenceError
        When a fit does not converge.

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> from workbench.core.summary import customer_summary
    >>> s = customer_summary(read_cdnow("sample_data/cdnow/CDNOW_sample.txt"), "1997-09-30")
    >>> fit = fit_clv(s, 12, "M")
    >>> fit.table.select("customer_id", "historical_value", pl.col("clv").round(2)).head(2).rows()
    [('00004', 74.02, 11.02), ('00018', 14.96, 2.56)]
    """
    check_clv_data(summary, model, source="customer summary")
    if margin is None:
        used_margin, source = data_margin(summary, default_margin)
    else:
        if not 0 <= float(margin) <= 1:
            raise ValueError(f"margin is a share of revenue in [0, 1], got {margin!r}")
        used_margin, source = float(margin), "parameter"
    if purchase_model is None:
        purchase = make_purchase_model(model).fit(summary)
    else:
        if type(purchase_model) is not type(make_purchase_model(model)):
            raise ValueError(f"purchase_model is a {type(purchase_model).__name__}, but model "
                             f"is {model!r}")
        purchase = purchase_model
    spend = GammaGammaModel().fit(summary)
    values = customer_lifetime_value(summary, purchase, spend, horizon_periods,
                                     margin=used_margin, unit=unit, period=period,
                                     annual_discount_rate=annual_discount_rate)
    profit = (pl.col("total_profit").cast(pl.Float64) if "total_profit" in summary.columns
              else pl.lit(None, dtype=pl.Float64))
    base = summary.select(
        "customer_id", "frequency", "recency", "T",
        pl.col("n_purchases") if "n_purchases" in summary.columns
        else (pl.col("frequency") + 1).alias("n_purchases"),
        profit.alias("historical_profit"),
        ((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0)).alias("_own"),
    )
    table = pl.concat([base, values.drop("customer_id")], how="horizontal").select(
        "customer_id", "frequency", "recency", "T", "n_purchases", "historical_value",
        "historical_profit", "expected_purchases", "p_alive", "expected_spend",
        pl.when(pl.col("reason").is_not_null()).then(pl.col("reason"))
        .when(pl.col("_own")).then(pl.lit("customer")).otherwise(pl.lit("population"))
        .alias("spend_basis"),
        (pl.col("expected_purchases") * pl.col("expected_spend")).alias("predicted_revenue"),
        "clv",
    )
    fit = ClvFit(table, purchase, spend, used_margin, source, str(model), unit, period,
                 int(horizon_periods), float(annual_discount_rate))
    if not intervals:
        return fit
    from workbench.models.clv.uncertainty import clv_table_intervals

    bounds, total = clv_table_intervals(fit, summary, interval_level, interval_draws, seed)
    return dataclasses.replace(
        fit, table=pl.concat([table, bounds.drop("customer_id")], how="horizontal"),
        interval=total)


def clv_table(
    transactions: pl.DataFrame,
    as_of: dt.date | str | None,
    horizon_periods: int = 12,
    period: str | float = "M",
    margin: float | None = None,
    annual_discount_rate: float = 0.10,
    model: ModelName = "bgnbd",
    unit: str = "W",
    *,
    default_margin: float = DEFAULT_MARGIN,
) -> pl.DataFrame:
    """Per-customer CLV straight from transactions (summary, fits and scoring in one call).

    Builds :func:`workbench.core.summary.customer_summary` at ``as_of`` in ``unit`` (weeks by
    default) and calls :func:`fit_clv`; see there for the parameters and the columns.  Use
    :func:`fit_clv` to keep the fitted models.

    Examples
    --------
    >>> from workbench.core.io import read_cdnow
    >>> tx = read_cdnow("sample_data/cdnow/CDNOW_sample.txt")
    >>> table = clv_table(tx, "1997-09-30", horizon_periods=12, period="M", margin=0.3)
    >>> table.height, table["clv"].null_count()
    (2357, 0)
    """
    from workbench.core.summary import customer_summary

    summary = customer_summary(transactions, as_of, cast(Unit, unit))  # it checks the unit
    require_purchases(summary, as_of, transactions)
    return fit_clv(summary, horizon_periods, period, margin, annual_discount_rate, model, unit,
                   default_margin=default_margin).table


def clv_totals(table: pl.DataFrame) -> dict[str, float | int | str | None]:
    """Whole-base figures of a CLV table (:func:`fit_clv`).

    Returns
    -------
    dict
        ``customers``; ``predicted_clv`` (sum of ``clv``, currency); ``historical_value``
        (revenue to date); ``historical_profit`` (``None`` without cost data);
        ``expected_purchases`` (over the horizon); ``predicted_revenue``;
        ``expected_alive`` (sum of P(alive): the expected number of active customers);
        ``mean_clv`` (over customers with a CLV); ``n_undefined`` (customers whose CLV is
        undefined, null in the table: Gamma-Gamma with ``p x + q <= 1``; left out of the
        sums) and ``note`` (a sentence saying so, empty when none).

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"clv": [1.0, 3.0], "historical_value": [10.0, 20.0],
    ...                   "historical_profit": [None, None], "expected_purchases": [0.5, 1.5],
    ...                   "predicted_revenue": [5.0, 15.0], "p_alive": [0.5, 1.0]})
    >>> clv_totals(t)["predicted_clv"], clv_totals(t)["historical_profit"]
    (4.0, None)
    """
    n = table.height

    def total(col: str) -> float | None:
        if col not in table.columns or table[col].null_count() == n:
            return None
        return float(table[col].sum())

    clv = total("clv") or 0.0
    n_undefined = int(table["clv"].null_count()) if "clv" in table.columns else 0
    note = (f"{n_undefined:,} of {n:,} customers have no CLV (spend model undefined for them: "
            "p*x+q <= 1) and are left out of the totals" if n_undefined else "")
    return {
        "customers": n,
        "predicted_clv": clv,
        "historical_value": total("historical_value"),
        "historical_profit": total("historical_profit"),
        "expected_purchases": total("expected_purchases"),
        "predicted_revenue": total("predicted_revenue"),
        "expected_alive": total("p_alive"),
        "mean_clv": clv / (n - n_undefined) if n - n_undefined else None,
        "n_undefined": n_undefined,
        "note": note,
    }


def clv_by_segment(table: pl.DataFrame, segments: pl.DataFrame,
                   segment_column: str = "segment") -> pl.DataFrame:
    """Predicted CLV beside historical value per segment (e.g. RFM segments).

    Parameters
    ----------
    table
        :func:`fit_clv` table (``customer_id``, ``clv``, ``historical_value``,
        ``historical_profit``, ``expected_purchases``, ``p_alive``).
    segments
        ``customer_id`` and ``segment_column`` (:func:`workbench.analyses.rfm.rfm_segments`).
        Customers without a segment are put in ``"Unknown"``.
    segment_column
        Name of the segment column.

    Returns
    -------
    polars.DataFrame
        ``segment``, ``customers``, ``predicted_total``, ``predicted_mean`` (CLV, currency),
        ``historical_total``, ``historical_mean`` (revenue to date), ``profit_total``,
        ``profit_mean`` (null without cost data), ``expected_purchases``, ``mean_p_alive``,
        ``predicted_share`` (of the total CLV), ``historical_share``; largest predicted total
        first.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"customer_id": ["a", "b"], "clv": [10.0, 30.0],
    ...                   "historical_value": [50.0, 50.0], "historical_profit": [None, None],
    ...                   "expected_purchases": [1.0, 2.0], "p_alive": [0.4, 0.8]})
    >>> s = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["Lost", "Champions"]})
    >>> clv_by_segment(t, s)["segment"].to_list()
    ['Champions', 'Lost']
    """
    for name, frame, cols in (("table", table, ["customer_id", "clv", "historical_value"]),
                              ("segments", segments, ["customer_id", segment_column])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataValidationError(f"clv_by_segment: {name}", None,
                                      f"missing column(s) {missing}")
    opt = {c: pl.col(c) if c in table.columns else pl.lit(None, dtype=pl.Float64)
           for c in ("historical_profit", "expected_purchases", "p_alive")}
    seg = segments.select(pl.col("customer_id").cast(pl.String),
                          pl.col(segment_column).cast(pl.String).alias("segment"))
    joined = (table.with_columns(pl.col("customer_id").cast(pl.String))
              .join(seg, on="customer_id", how="left")
              .with_columns(pl.col("segment").fill_null("Unknown")))
    out = joined.group_by("segment").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        stable_sum("clv").alias("predicted_total"),
        stable_mean("clv").alias("predicted_mean"),
        stable_sum("historical_value").alias("historical_total"),
        stable_mean("historical_value").alias("historical_mean"),
        pl.when(opt["historical_profit"].is_not_null().any())
        .then(stable_sum(opt["historical_profit"])).alias("profit_total"),
        stable_mean(opt["historical_profit"]).alias("profit_mean"),
        stable_sum(opt["expected_purchases"]).alias("expected_purchases"),
        stable_mean(opt["p_alive"]).alias("mean_p_alive"),
    )
    return out.with_columns(
        (pl.col("predicted_total") / stable_sum("predicted_total")).alias("predicted_share"),
        (pl.col("historical_total") / stable_sum("historical_total")).alias("historical_share"),
    ).sort(["predicted_total", "segment"], descending=[True, False], nulls_last=True)
