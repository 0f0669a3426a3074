"""The whole loyalty analysis for one as-of date: :func:`analyse_loyalty`.

It runs behavioural and perceived loyalty, the typing, the Okhunov indices,
early warnings and key drivers, as the report notebook and the dashboard panel do.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import polars as pl

from workbench.analyses.loyalty.attitude import (
    ZONES,
    nps_score,
    perceived_loyalty,
    segment_attitude,
    survey_coverage,
)
from workbench.analyses.loyalty.behaviour import (
    behavioural_loyalty,
)
from workbench.analyses.loyalty.classify import (
    TYPES,
    loyalty_matrix,
    loyalty_types,
    type_summary,
)
from workbench.analyses.loyalty.drivers import key_drivers
from workbench.analyses.loyalty.early_warning import early_warnings
from workbench.analyses.loyalty.indices import (
    loyalty_index,
    segment_indices,
    value_index,
)
from workbench.analyses.loyalty.settings import LoyaltySettings
from workbench.core import schema
from workbench.core.prepare import DateLike, to_date
from workbench.core.summary import require_purchases

_CID = schema.CUSTOMER_ID


@dataclass
class LoyaltyAnalysis:
    """Every loyalty result for one as-of date (see :func:`analyse_loyalty`)."""

    as_of: dt.date
    behaviour: pl.DataFrame
    perceived: pl.DataFrame
    coverage: dict[str, int]
    types: pl.DataFrame
    matrix: pl.DataFrame
    type_summary: pl.DataFrame
    segment_attitude: pl.DataFrame
    loyalty_index: pl.DataFrame
    value_index: pl.DataFrame
    segment_indices: pl.DataFrame
    warnings: pl.DataFrame
    drivers: pl.DataFrame
    value_basis: str
    #: ``as_of`` and every setting as a dict (kept for callers written before ``settings``).
    params: dict[str, Any] = field(default_factory=dict)
    #: The settings the analysis ran with (print or save them with :func:`dataclasses.asdict`).
    settings: LoyaltySettings = field(default_factory=LoyaltySettings)

    def coverage_frame(self) -> pl.DataFrame:
        """The survey coverage as a two-column table (``item``, ``count``) for reports.

        Examples
        --------
        >>> from workbench.core.io import read_surveys, read_transactions
        >>> from workbench.analyses.loyalty import analyse_loyalty
        >>> from workbench.core.prepare import prepare_orders
        >>> tx = read_transactions("sample_data/transactions.csv")
        >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
        >>> surveys = read_surveys("sample_data/surveys.csv")
        >>> la = analyse_loyalty(orders, "2026-06-30", surveys=surveys)
        >>> la.coverage_frame()["count"].to_list()[:3]
        [2000, 358, 1642]
        """
        labels = {
            "customers": "buyers at the as-of date",
            "surveyed": "with a survey at or before the as-of date (attitude known)",
            "unknown": "without a survey (attitude unknown, not imputed)",
            "surveys_superseded": "older surveys superseded by a later one",
            "surveys_after_as_of": "surveys dated after the as-of date (ignored)",
            "surveys_of_other_customers": "surveys of customers without a purchase",
        }
        return pl.DataFrame({"item": list(labels.values()),
                             "count": [int(self.coverage[k]) for k in labels]})

    def key_figures(self) -> dict[str, Any]:
        """Headline numbers (JSON-serialisable): counts per type, coverage, NPS, I_l, warnings.

        Examples
        --------
        >>> from workbench.core.io import read_surveys, read_transactions
        >>> from workbench.analyses.loyalty import analyse_loyalty
        >>> from workbench.core.prepare import prepare_orders
        >>> tx = read_transactions("sample_data/transactions.csv")
        >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
        >>> surveys = read_surveys("sample_data/surveys.csv")
        >>> la = analyse_loyalty(orders, "2026-06-30", surveys=surveys)
        >>> la.key_figures()["types"]["premium"]
        11
        """
        buyers = self.types.filter(pl.col("behaviour").is_not_null())
        counts = dict(zip(self.type_summary["loyalty_type"].to_list(),
                          self.type_summary["customers"].to_list(), strict=True))
        nps = nps_score(self.perceived.filter(pl.col("surveyed"))["nps_class"])
        all_row = self.loyalty_index.filter(pl.col("segment") == "All")
        zones = self.perceived["satisfaction_zone"].drop_nulls().value_counts()
        return {
            "as_of": self.as_of.isoformat(),
            "buyers": buyers.height,
            "regular": int((buyers["behaviour"] == "regular").sum()),
            "one_time": int((buyers["behaviour"] == "one-time").sum()),
            "types": {t: int(counts.get(t, 0)) for t in (*TYPES, "prospect")},
            "reciprocal": int(buyers["reciprocal"].sum()),
            "coverage": self.coverage,
            "nps": nps["nps"], "nps_low": nps["nps_low"], "nps_high": nps["nps_high"],
            "nps_n": nps["n"],
            "satisfaction_zones": {z: int(zones.filter(pl.col("satisfaction_zone") == z)["count"]
                                          .sum()) for z in ZONES},
            "loyalty_index_all": all_row["I_l"].item() if all_row.height else None,
            "value_index_sum": float(self.value_index["I_v"].sum()),
            "value_basis": self.value_basis,
            "warnings": self.warnings.height,
            "warning_value_at_stake": float(self.warnings["value_at_stake"].sum()),
        }


KEY_FIGURES_PREFIX = "LOYALTY_KEY_FIGURES "


def key_figures_line(figures: dict[str, Any]) -> str:
    """One text line ``LOYALTY_KEY_FIGURES {json}`` (what the report notebook prints last).

    Examples
    --------
    >>> key_figures_line({"buyers": 3})
    'LOYALTY_KEY_FIGURES {"buyers": 3}'
    """
    return KEY_FIGURES_PREFIX + json.dumps(figures, sort_keys=False, default=str)


def choose_segments(
    by: str | None,
    *,
    customers: pl.DataFrame | None = None,
    segments: pl.DataFrame | None = None,
    segment_col: str = "segment",
    transactions: pl.DataFrame | None = None,
    as_of: DateLike | None = None,
    rules: str = "default",
) -> pl.DataFrame | None:
    """A ``customer_id, segment`` frame from a customer attribute or the RFM segments.

    ``by`` is a column of ``customers`` (``"customer_type"``, ``"region"``...), ``"rfm"`` (the
    ``segment_col`` of ``segments``, e.g. :func:`workbench.analyses.rfm.rfm_segments` output, or
    computed from ``transactions`` at ``as_of`` with the rule table ``rules`` when ``segments`` is
    not given) or ``None`` / ``""`` (no segmentation: ``None``).  An unavailable choice returns
    ``None`` with a warning.

    Examples
    --------
    >>> import polars as pl
    >>> c = pl.DataFrame({"customer_id": ["a"], "customer_type": ["B2B"]})
    >>> choose_segments("customer_type", customers=c).row(0)
    ('a', 'B2B')
    """
    if not by:
        return None
    if by == "rfm":
        if segments is None and transactions is not None:
            from workbench.analyses.rfm import rfm_segments
            from workbench.core.summary import customer_summary

            segments = rfm_segments(customer_summary(transactions, as_of), rules)
        if segments is None or segment_col not in segments.columns:
            warnings.warn("choose_segments: no RFM segments given; no segmentation", UserWarning,
                          stacklevel=2)
            return None
        return segments.select(_CID, pl.col(segment_col).cast(pl.String).alias("segment"))
    if customers is None or by not in customers.columns:
        warnings.warn(f"choose_segments: customers table has no column {by!r}; no segmentation",
                      UserWarning, stacklevel=2)
        return None
    return customers.select(_CID, pl.col(by).cast(pl.String).fill_null("(missing)")
                            .alias("segment"))


def loyalty_settings(
    settings: LoyaltySettings | None = None, keywords: dict[str, Any] | None = None,
) -> LoyaltySettings:
    """The settings of one analysis: ``settings``, or built from the old keyword arguments.

    Raises
    ------
    TypeError
        A keyword that is not a setting, or both ``settings`` and keywords given.
    workbench.errors.ConfigError
        A setting outside its allowed values (:class:`LoyaltySettings`).

    Examples
    --------
    >>> loyalty_settings(keywords={"spend_drop": 0.5}).spend_drop
    0.5
    >>> loyalty_settings().n_boot
    1000
    """
    keywords = keywords or {}
    names = {f.name for f in fields(LoyaltySettings)}
    unknown = [k for k in keywords if k not in names]
    if unknown:
        raise TypeError(f"analyse_loyalty() got an unexpected keyword argument {unknown[0]!r}")
    if settings is not None and keywords:
        raise TypeError("analyse_loyalty(): give either settings= or the keyword arguments "
                        f"({', '.join(keywords)}), not both")
    if settings is None:
        return LoyaltySettings(**keywords)
    if not isinstance(settings, LoyaltySettings):
        raise TypeError(f"analyse_loyalty(): settings must be a LoyaltySettings, got "
                        f"{type(settings).__name__}")
    return settings


def analyse_loyalty(
    orders: pl.DataFrame,
    as_of: DateLike,
    *,
    surveys: pl.DataFrame | None = None,
    customers: pl.DataFrame | None = None,
    segments: pl.DataFrame | None = None,
    p_alive: pl.DataFrame | None = None,
    value_at_stake: pl.DataFrame | None = None,
    settings: LoyaltySettings | None = None,
    **keywords: Any,
) -> LoyaltyAnalysis:
    """Run the whole loyalty analysis for one as-of date.

    Parameters
    ----------
    orders
        :func:`workbench.core.prepare.prepare_orders` output.
    as_of
        The as-of date (orders and surveys after it are ignored).
    surveys, customers
        Validated surveys and customers tables (optional).
    segments
        ``customer_id, segment`` frame (:func:`choose_segments`) for the per-segment tables.
    p_alive, value_at_stake
        Optional ``customer_id, p_alive`` and ``customer_id, value`` frames (a fitted BG/NBD and
        e.g. predicted CLV) for the behaviour table and the early-warning ranking.
    settings
        The thresholds (:class:`~workbench.analyses.loyalty.LoyaltySettings`, defaults of
        docs/loyalty.md).  ``None``: the defaults, or the settings given as keywords.
    **keywords
        The settings as keyword arguments (``period_days=``, ``regular_threshold=``,
        ``min_tenure_days=``, ``behaviour_rule=``, ``attitude_signals=``,
        ``attitude_combine=``, ``min_answered=``, ``share_basis=``,
        ``reciprocal_top_share=``, ``a_n=``, ``a_p=``, ``point_cost=``, ``spend_drop=``,
        ``n_boot=``, ``seed=``), as before ``settings`` existed; not together with
        ``settings``.  ``n_boot=0`` skips the driver analysis.

    Returns
    -------
    LoyaltyAnalysis
        With ``settings`` (and ``params``, the same as a dict with ``as_of``) recording the
        thresholds used.

    Raises
    ------
    workbench.errors.DataValidationError
        When no order is dated on or before ``as_of`` (header-only or all-returns data, an
        as-of date before the first purchase).  One customer, or nobody buying twice, is
        analysed (regularity and the loyalty index are then empty, with a note).
    workbench.errors.ConfigError
        A setting outside its allowed values.
    TypeError
        An unknown keyword, or both ``settings`` and keywords.

    Examples
    --------
    >>> from workbench.core.io import read_transactions
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> orders, _ = prepare_orders(tx.filter(pl.col("customer_id") <= "C002000"), "2026-06-30")
    >>> la = analyse_loyalty(orders, "2026-06-30", settings=LoyaltySettings(spend_drop=0.4))
    >>> la.settings.spend_drop, la.types.height
    (0.4, 2000)
    """
    s = loyalty_settings(settings, keywords)
    as_of = to_date(as_of)
    require_purchases(orders.filter(pl.col(schema.ORDER_DATE) <= as_of), as_of, source="orders")
    behaviour = behavioural_loyalty(orders, as_of, p_alive=p_alive,
                                    regular_threshold=s.regular_threshold,
                                    min_tenure_days=s.min_tenure_days, trend_days=s.period_days)
    buyer_ids = behaviour[_CID]
    perceived = perceived_loyalty(surveys, as_of, buyer_ids, min_answered=s.min_answered,
                                  share_basis=s.share_basis)
    types = loyalty_types(behaviour, perceived, customers=customers,
                          behaviour_rule=s.behaviour_rule, regular_threshold=s.regular_threshold,
                          attitude_signals=s.attitude_signals,
                          attitude_combine=s.attitude_combine,
                          reciprocal_top_share=s.reciprocal_top_share)
    values = _value_index(orders, as_of, customers, s)
    value_basis = values["value_basis"][0] if values.height else \
        ("profit" if "profit" in orders.columns else "revenue")
    li = loyalty_index(orders, as_of, period_days=s.period_days, segments=segments, a_n=s.a_n,
                       a_p=s.a_p, regular_threshold=s.regular_threshold)
    drivers = key_drivers(perceived.filter(pl.col("surveyed")), n_boot=s.n_boot, seed=s.seed,
                          targets=("nps", "repurchase_intent") if s.n_boot > 0 else ())
    return LoyaltyAnalysis(
        as_of=as_of, behaviour=behaviour, perceived=perceived,
        coverage=survey_coverage(surveys, as_of, buyer_ids), types=types,
        matrix=loyalty_matrix(types), type_summary=type_summary(types),
        segment_attitude=segment_attitude(perceived, segments), loyalty_index=li,
        value_index=values, segment_indices=segment_indices(values, perceived, li, segments),
        warnings=early_warnings(behaviour, value=value_at_stake, spend_drop=s.spend_drop),
        drivers=drivers, value_basis=value_basis, params={"as_of": as_of, **asdict(s)},
        settings=s)


def _value_index(orders: pl.DataFrame, as_of: dt.date, customers: pl.DataFrame | None,
                 s: LoyaltySettings) -> pl.DataFrame:
    """:func:`value_index`, its warnings re-raised at the caller of :func:`analyse_loyalty`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = value_index(orders, as_of, customers, period_days=s.period_days,
                             point_cost=s.point_cost)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    return values


def purchase_model_inputs(
    transactions: pl.DataFrame,
    as_of: DateLike,
    *,
    horizon_periods: int = 12,
    period: str = "M",
    unit: str = "W",
) -> dict[str, pl.DataFrame]:
    """P(alive) and predicted CLV from a BG/NBD + Gamma-Gamma fit, for :func:`analyse_loyalty`.

    Uses :func:`workbench.models.clv.clv_table` at ``as_of`` (margin from the data's cost when
    known) and returns ``{"p_alive": customer_id, p_alive; "value_at_stake": customer_id, value}``,
    the value being the discounted CLV over
    ``horizon_periods`` periods (currency), so early warnings rank by future value.

    Raises
    ------
    workbench.errors.DataValidationError
        No purchase on or before ``as_of``.
    workbench.models.clv.NotEnoughDataError
        Too few repeat customers to fit the models (a ``ModelError``): P(alive) is then not
        available, and :func:`analyse_loyalty` runs without it.

    Examples
    --------
    >>> from workbench.core.io import read_transactions
    >>> from workbench.core.prepare import prepare_orders
    >>> tx = read_transactions("sample_data/transactions.csv")
    >>> tx = tx.filter(pl.col("customer_id") <= "C002000")
    >>> inputs = purchase_model_inputs(tx, "2026-06-30")
    >>> la = analyse_loyalty(prepare_orders(tx, "2026-06-30")[0], "2026-06-30", **inputs)
    >>> sorted(inputs), inputs["p_alive"].height
    (['p_alive', 'value_at_stake'], 2000)
    """
    from workbench.models.clv import clv_table

    table = clv_table(transactions, as_of, horizon_periods, period, unit=unit)
    return {"p_alive": table.select(_CID, "p_alive"),
            "value_at_stake": table.select(_CID, pl.col("clv").alias("value"))}
