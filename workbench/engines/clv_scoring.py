"""CLV on any engine: fit on the distinct histories, score them on the driver, join back.

The BG/NBD (or Pareto/NBD) likelihood of a customer depends only on ``(frequency, recency, T)``
and the Gamma-Gamma likelihood only on ``(frequency, monetary_value)``, so both models are fitted
on the **distinct** rows with a weight (the number of customers), which the engine computes with
one group-by each (:func:`sufficient_statistics`).  Only those tables reach the driver.

Scoring follows :func:`workbench.models.clv.value.customer_lifetime_value` through the models'
public prediction functions: expected purchases, P(alive) and the discounted purchase stream of each
distinct history are computed on the driver and joined back on the history (a broadcast join on
Spark, no Python UDF); so is the Gamma-Gamma expected spend of each distinct
``(frequency, monetary_value)`` of the repeat customers (the others get the population mean);
CLV is their product with the margin, on the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl

from workbench.engines.frames import Engine
from workbench.models.clv import GammaGammaModel, make_purchase_model
from workbench.models.clv.value import per_period_discount_rate, period_length

HISTORY = ("frequency", "recency", "T")


def sufficient_statistics(summary: nw.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The distinct histories with their number of customers, collected to the driver.

    Returns
    -------
    histories : polars.DataFrame
        ``frequency``, ``recency``, ``T``, ``customers``; sorted (the same table on every
        engine, so the fits are the same to the last bit).
    spend : polars.DataFrame
        ``frequency``, ``monetary_value``, ``customers`` of the repeat customers with a
        positive mean spend (the Gamma-Gamma input); sorted.
    """
    histories = (
        summary.group_by(*HISTORY)
        .agg(nw.len().cast(nw.Int64).alias("customers"))
        .collect("polars")
        .to_native()
        .sort(list(HISTORY))
    )
    spend = (
        summary.filter((nw.col("frequency") > 0) & (nw.col("monetary_value") > 0))
        .group_by("frequency", "monetary_value")
        .agg(nw.len().cast(nw.Int64).alias("customers"))
        .collect("polars")
        .to_native()
        .sort("frequency", "monetary_value")
    )
    return histories, spend


@dataclass(frozen=True)
class EngineClv:
    """The fitted models and the lazy per-customer CLV table on the engine."""

    table: Any
    purchase_model: Any
    spend_model: GammaGammaModel
    histories: int
    margin: float


def score_clv(
    summary: nw.LazyFrame,
    engine: Engine,
    horizon_periods: int = 12,
    period: str | float = "M",
    margin: float = 0.3,
    annual_discount_rate: float = 0.10,
    model: str = "bgnbd",
    unit: str = "W",
) -> EngineClv:
    """Fit on the distinct histories and score every customer on the engine.

    Parameters
    ----------
    summary
        The customer summary on its engine (materialised: it is read three times).
    engine
        Its :class:`~workbench.engines.frames.Engine` (puts the score table on the engine).
    horizon_periods, period, margin, annual_discount_rate, model, unit
        As for :func:`workbench.models.clv.fit_clv` (``margin`` is a share of revenue).

    Returns
    -------
    EngineClv
        ``table`` (a lazy Narwhals frame): ``customer_id``, ``frequency``, ``recency``, ``T``,
        ``historical_value``, ``expected_purchases``, ``p_alive``, ``expected_spend``, ``clv``.
    """
    histories, spend = sufficient_statistics(summary)
    purchase = make_purchase_model(model).fit(histories, weights_col="customers")
    spend_model = GammaGammaModel().fit(spend, weights_col="customers")
    x, t_x, T = (histories[c].to_numpy().astype(float) for c in HISTORY)
    times = period_length(period, unit) * np.arange(0, horizon_periods + 1, dtype=float)
    cum = purchase.expected_purchases_horizons(times, x, t_x, T)
    rate = per_period_discount_rate(annual_discount_rate, period, unit)
    discount = (1.0 + rate) ** -np.arange(1, horizon_periods + 1, dtype=float)
    scores = histories.select(HISTORY).with_columns(
        pl.Series("expected_purchases", cum[-1]),
        pl.Series("p_alive", purchase.p_alive_array(x, t_x, T)),
        pl.Series("_discounted", discount @ np.diff(cum, axis=0)),
    )
    spend_scores = spend.select(
        "frequency", "monetary_value",
        pl.Series(
            "_own_spend",
            spend_model.expected_spend_array(
                spend["frequency"].to_numpy().astype(float), spend["monetary_value"].to_numpy()
            ),
        ),
    )
    population = float(spend_model.expected_spend_array(np.zeros(1), np.zeros(1))[0])
    table = (
        summary.join(engine.small(scores), on=list(HISTORY), how="left")
        .join(engine.small(spend_scores), on=["frequency", "monetary_value"], how="left")
        .with_columns(nw.col("_own_spend").fill_null(population).alias("expected_spend"))
        .select(
            "customer_id", *HISTORY,
            nw.col("total_spend").alias("historical_value"),
            "expected_purchases", "p_alive", "expected_spend",
            (nw.col("_discounted") * nw.col("expected_spend") * nw.lit(float(margin))).alias("clv"),
        )
    )
    return EngineClv(table, purchase, spend_model, histories.height, float(margin))
