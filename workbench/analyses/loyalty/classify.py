"""Loyalty typing: the Dick & Basu matrix, reciprocal loyalty, attitudinal segments, the ladder.

Sources: Dick & Basu (1994, "Customer loyalty: toward an integrated conceptual framework",
Journal of the Academy of Marketing Science 22(2), 99-113), as taught in lecture 9 of the
*Customer relationship management* lecture course; docs/loyalty.md, 'Loyalty types'.

**Behavioural axis** (repeat patronage), ``behaviour_rule``:

* ``"seed"`` (default): regular (> 2 purchases a year) vs one-time (<= 2), Okhunov's rule
  (see :mod:`workbench.analyses.loyalty.behaviour`);
* ``"bvdp"``: Buckinx & Van den Poel (2005): frequency above average and inter-purchase CV below
  average is "regular", everyone else "one-time".

**Attitudinal axis** (relative attitude), ``attitude_signals`` combined by ``attitude_combine``.
The signals, each high / low / missing for a customer's latest survey:

* ``"nps"``: high for a promoter (NPS >= 9): the customer advocates (lecture 9: premium loyal
  customers "advocate on the brand's behalf");
* ``"intent"``: high for repurchase intent >= ``intent_high`` (4 of 5, top-two box): the customer
  means to continue buying (lecture 9's "likelihood to continue purchasing");
* ``"satisfaction"``: high in the satisfied zone (> 80 % of Okhunov's maximum).

Default: ``("nps", "intent")`` combined with ``"all"`` (high only when every available signal is
high).  Satisfaction is shown in the reasons but is not in the default rule because the sources
insist that satisfaction is not loyalty (Kiseleva et al. 2016: "loyal customer is always a
satisfied buyer, but the satisfied buyer is not always loyal") and because, with Okhunov's
200-point maximum,
the satisfied zone is rarely reached.  Signals that a survey did not answer are skipped; with no
answered signal, or without a survey, attitude is ``"unknown"``.

**Types** (``loyalty_type``): regular + high = ``"premium"``, regular + low = ``"inertia"``,
one-time + high = ``"latent"``, one-time + low = ``"no loyalty"``; without a survey
``"regular, attitude unknown"`` / ``"one-time, attitude unknown"``.  **Reciprocal loyalty**
(lecture 9, type 5: "a premium relationship benefiting both the brand and the consumer"):
premium customers who are promoters **and** among the top ``reciprocal_top_share`` (20 %) of the
customers by value (profit in the last ``value_days``, else net spend when cost is unknown);
``loyalty_type`` is then ``"reciprocal"`` and ``dick_basu`` keeps ``"premium"``.

**Loyal / Neutral / Vulnerable** (lecture 9): ``"Loyal"`` when attitude is high; ``"Vulnerable"``
when the customer is a detractor, or repurchase intent <= ``intent_low`` (2), or satisfaction
is in the loss zone; otherwise ``"Neutral"``; ``"unknown"`` without a survey.

**Loyalty ladder** (Christopher, Payne & Ballantyne 1991, *Relationship Marketing*: prospect,
customer, client, supporter, advocate, partner; lecture 11 draws a similar "beanstalk" with
shopper = bought once).  Mapping from data, each rung requiring the one below:

* ``prospect``: in the customers table, no purchase by the as-of date;
* ``customer``: exactly one purchase (lecture 11's "shopper");
* ``client``: two or more purchases (a repeat customer);
* ``supporter``: a client whose latest survey is positive but not advocating: passive (NPS 7-8)
  or repurchase intent >= 4;
* ``advocate``: a client who is a promoter (NPS >= 9);
* ``partner``: reciprocal loyalty (a regular, high-value promoter).

Without a survey a repeat customer stays at ``client``: the upper rungs need survey evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

import polars as pl

from workbench.analyses.loyalty.attitude import DETRACTOR_MAX, PROMOTER_MIN
from workbench.analyses.loyalty.behaviour import REGULAR_THRESHOLD
from workbench.core import schema
from workbench.core.stable import stable_sum

_CID = schema.CUSTOMER_ID

INTENT_HIGH = 4.0
INTENT_LOW = 2.0
RECIPROCAL_TOP_SHARE = 0.20

TYPES = ("reciprocal", "premium", "inertia", "latent", "no loyalty",
         "regular, attitude unknown", "one-time, attitude unknown")
DICK_BASU = {("regular", "high"): "premium", ("regular", "low"): "inertia",
             ("one-time", "high"): "latent", ("one-time", "low"): "no loyalty",
             ("regular", "unknown"): "regular, attitude unknown",
             ("one-time", "unknown"): "one-time, attitude unknown"}
ATTITUDE_SEGMENTS = ("Loyal", "Neutral", "Vulnerable", "unknown")
LADDER = ("prospect", "customer", "client", "supporter", "advocate", "partner")
SIGNALS = ("nps", "intent", "satisfaction")


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def _signal_exprs(promoter_min: float, intent_high: float) -> dict[str, pl.Expr]:
    return {
        "nps": pl.when(pl.col("nps").is_not_null()).then(pl.col("nps") >= promoter_min),
        "intent": pl.when(pl.col("repurchase_intent").is_not_null())
        .then(pl.col("repurchase_intent") >= intent_high),
        "satisfaction": pl.when(pl.col("satisfaction_zone").is_not_null())
        .then(pl.col("satisfaction_zone") == "satisfied"),
    }


def attitude_axis(
    perceived: pl.DataFrame,
    *,
    signals: Sequence[str] = ("nps", "intent"),
    combine: Literal["all", "any", "majority"] = "all",
    promoter_min: float = PROMOTER_MIN,
    intent_high: float = INTENT_HIGH,
) -> pl.Expr:
    """Expression giving ``"high"`` / ``"low"`` / ``"unknown"`` attitude (rule: module docstring).

    ``"majority"`` is high when more than half of the answered signals are high.

    Examples
    --------
    >>> import polars as pl
    >>> p = pl.DataFrame({"nps": [9.0, 9.0, None, None], "repurchase_intent": [5.0, 3.0, 4.0, None],
    ...                   "satisfaction_zone": ["weak", "weak", None, None]})
    >>> p.select(attitude_axis(p)).to_series().to_list()
    ['high', 'low', 'high', 'unknown']
    """
    bad = [s for s in signals if s not in SIGNALS]
    if bad or not signals:
        raise ValueError(f"attitude signals must be some of {SIGNALS}, got {list(signals)}")
    if combine not in ("all", "any", "majority"):
        raise ValueError(f"combine must be 'all', 'any' or 'majority', got {combine!r}")
    exprs = _signal_exprs(promoter_min, intent_high)
    chosen = [exprs[s] for s in signals if s in _available(perceived, s)]
    if not chosen:
        return pl.lit("unknown")
    n_known = pl.sum_horizontal([e.is_not_null().cast(pl.Int32) for e in chosen])
    n_high = pl.sum_horizontal([e.fill_null(False).cast(pl.Int32) for e in chosen])
    high = {"all": n_high == n_known, "any": n_high >= 1, "majority": 2 * n_high > n_known}[combine]
    return (pl.when(n_known == 0).then(pl.lit("unknown"))
            .when(high).then(pl.lit("high")).otherwise(pl.lit("low")))


def _available(frame: pl.DataFrame, signal: str) -> tuple[str, ...]:
    col = {"nps": "nps", "intent": "repurchase_intent", "satisfaction": "satisfaction_zone"}[signal]
    return (signal,) if col in frame.columns else ()


def loyalty_types(
    behaviour: pl.DataFrame,
    perceived: pl.DataFrame | None,
    *,
    customers: pl.DataFrame | None = None,
    behaviour_rule: Literal["seed", "bvdp"] = "seed",
    regular_threshold: float = REGULAR_THRESHOLD,
    attitude_signals: Sequence[str] = ("nps", "intent"),
    attitude_combine: Literal["all", "any", "majority"] = "all",
    promoter_min: float = PROMOTER_MIN,
    detractor_max: float = DETRACTOR_MAX,
    intent_high: float = INTENT_HIGH,
    intent_low: float = INTENT_LOW,
    reciprocal_top_share: float = RECIPROCAL_TOP_SHARE,
    value_col: str | None = None,
) -> pl.DataFrame:
    """Type every customer on the behaviour x attitude matrix, with the reasons.

    Parameters
    ----------
    behaviour
        :func:`workbench.analyses.loyalty.behavioural_loyalty` output (buyers at the as-of date).
    perceived
        :func:`workbench.analyses.loyalty.perceived_loyalty` output (any subset of customers), or
        ``None`` when there are no surveys (every attitude unknown).
    customers
        Optional customers table: ids in it without a purchase are added as ladder stage
        ``"prospect"`` with ``behaviour`` null and ``loyalty_type`` ``"prospect"``.
    behaviour_rule
        ``"seed"`` (> ``regular_threshold`` purchases a year) or ``"bvdp"`` (Buckinx & Van den
        Poel 2005).
    regular_threshold
        Purchases a year (default 2; exactly 2 is one-time), used with ``behaviour_rule="seed"``.
    attitude_signals, attitude_combine, promoter_min, intent_high
        The attitude rule (module docstring).
    detractor_max, intent_low
        "Vulnerable" boundaries: NPS <= 6, repurchase intent <= 2.
    reciprocal_top_share
        Share of customers (by value, highest first) whose premium promoters are reciprocal
        (default 0.20, the top 20 %).
    value_col
        Column of ``behaviour`` holding the value used for reciprocal loyalty; default
        ``profit_last`` when it has any non-null value, else ``spend_last`` (currency, last
        ``trend_days``).

    Returns
    -------
    polars.DataFrame
        ``customer_id``, ``behaviour`` (regular / one-time), ``purchases_per_year``, ``attitude``
        (high / low / unknown), ``dick_basu``, ``loyalty_type``, ``reciprocal``,
        ``attitude_segment``, ``ladder_stage``, ``value``, ``value_basis``, ``nps``,
        ``nps_class``, ``repurchase_intent``, ``satisfaction_index``, ``satisfaction_share``,
        ``satisfaction_zone``, ``reasons``.

    Examples
    --------
    >>> import polars as pl
    >>> b = pl.DataFrame({"customer_id": ["a", "b"], "purchases_per_year": [3.4, 2.0],
    ...                   "n_purchases": [7, 2], "gap_cv": [0.3, None],
    ...                   "spend_last": [500.0, 80.0], "profit_last": [None, None]})
    >>> p = pl.DataFrame({"customer_id": ["a"], "surveyed": [True], "nps": [9.0],
    ...                   "nps_class": ["promoter"], "repurchase_intent": [5.0],
    ...                   "satisfaction_index": [172.0], "satisfaction_share": [0.86],
    ...                   "satisfaction_zone": ["satisfied"]})
    >>> t = loyalty_types(b, p, reciprocal_top_share=0.5)
    >>> t.select("customer_id", "loyalty_type", "ladder_stage").rows()
    [('a', 'reciprocal', 'partner'), ('b', 'one-time, attitude unknown', 'client')]
    >>> print(t["reasons"][0])  # doctest: +NORMALIZE_WHITESPACE
    3.4 purchases/yr > 2 (regular); NPS 9 (promoter); repurchase intent 5/5 (high);
    satisfaction 86 % (satisfied); attitude high (all of nps, intent);
    value 500.0 (spend) in the top 50 % (>= 500.0): reciprocal
    """
    if behaviour_rule not in ("seed", "bvdp"):
        raise ValueError(f"behaviour_rule must be 'seed' or 'bvdp', got {behaviour_rule!r}")
    if not 0 < reciprocal_top_share <= 1:
        raise ValueError("reciprocal_top_share must be in (0, 1]")
    value_col, basis = _value_column(behaviour, value_col)
    t = _behaviour_axis(behaviour, value_col, basis, behaviour_rule, regular_threshold)
    t = _with_attitude(t, perceived, attitude_signals, attitude_combine, promoter_min,
                       intent_high)
    t, cutoff = _with_types(t, promoter_min, reciprocal_top_share)
    t = _with_attitude_segment(t, detractor_max, intent_low)
    t = _with_ladder(t, promoter_min, detractor_max, intent_high)
    t = _with_reasons(t, attitude_signals, attitude_combine, intent_high, reciprocal_top_share,
                      cutoff)
    t = t.select("customer_id", "behaviour", "purchases_per_year", "n_purchases", "attitude",
                 "dick_basu", "loyalty_type", "reciprocal", "attitude_segment", "ladder_stage",
                 "value", "value_basis", *_ATTITUDE_COLUMNS, "reasons")
    return _with_prospects(t, customers).sort(_CID)


_ATTITUDE_COLUMNS = ("nps", "nps_class", "repurchase_intent", "satisfaction_index",
                     "satisfaction_share", "satisfaction_zone")


def _value_column(b: pl.DataFrame, value_col: str | None) -> tuple[str, str]:
    """The value column for reciprocal loyalty and its basis (``"profit"`` or ``"spend"``)."""
    if value_col is None:
        has_profit = "profit_last" in b.columns and b["profit_last"].is_not_null().any()
        value_col = "profit_last" if has_profit else "spend_last"
    return value_col, "profit" if value_col.startswith("profit") else "spend"


def _behaviour_axis(b: pl.DataFrame, value_col: str, basis: str, behaviour_rule: str,
                    regular_threshold: float) -> pl.DataFrame:
    """Regular / one-time per buyer with its reason (``_b_reason``), and the value columns."""
    ppy = pl.col("purchases_per_year")
    if behaviour_rule == "seed":
        regular = ppy > regular_threshold
        b_reason = pl.format("{} purchases/yr {} {} ({})", ppy.round(1),
                             pl.when(regular).then(pl.lit(">")).otherwise(pl.lit("<=")),
                             pl.lit(f"{regular_threshold:g}"),
                             pl.when(regular).then(pl.lit("regular")).otherwise(pl.lit("one-time")))
    else:
        # the means of two Float64 columns: a float, or None when all are null
        mean_f = cast("float | None", b["purchases_per_year"].mean())
        mean_cv = cast("float | None", b["gap_cv"].mean())
        regular = ((ppy > mean_f) & (pl.col("gap_cv") < mean_cv)).fill_null(False)
        b_reason = pl.format(
            "{} purchases/yr vs mean {}, gap CV {} vs mean {} (B&VdP: {})", ppy.round(1),
            pl.lit(_fmt(mean_f)), pl.col("gap_cv").round(2).cast(pl.String).fill_null("n/a"),
            pl.lit(_fmt(mean_cv, 2)),
            pl.when(regular).then(pl.lit("regular")).otherwise(pl.lit("one-time")))
    keep = [c for c in ("customer_id", "purchases_per_year", "n_purchases", "gap_cv", value_col)
            if c in b.columns]
    return b.select(keep).with_columns(
        pl.when(regular).then(pl.lit("regular")).otherwise(pl.lit("one-time")).alias("behaviour"),
        b_reason.alias("_b_reason"),
        pl.col(value_col).cast(pl.Float64).alias("value"),
        pl.lit(basis).alias("value_basis"),
    )


def _with_attitude(t: pl.DataFrame, perceived: pl.DataFrame | None, signals: Sequence[str],
                   combine: Literal["all", "any", "majority"], promoter_min: float,
                   intent_high: float) -> pl.DataFrame:
    """Join the survey answers (missing ones as nulls) and add the ``attitude`` axis."""
    if perceived is None:
        perceived = pl.DataFrame(schema={_CID: pl.String, "surveyed": pl.Boolean})
    p = perceived
    for c in _ATTITUDE_COLUMNS:
        if c not in p.columns:
            dtype = pl.String if c in ("nps_class", "satisfaction_zone") else pl.Float64
            p = p.with_columns(pl.lit(None, dtype=dtype).alias(c))
    t = t.join(p.select(_CID, *_ATTITUDE_COLUMNS), on=_CID, how="left")
    return t.with_columns(attitude_axis(t, signals=signals, combine=combine,
                                        promoter_min=promoter_min, intent_high=intent_high)
                          .alias("attitude"))


def _with_types(t: pl.DataFrame, promoter_min: float,
                reciprocal_top_share: float) -> tuple[pl.DataFrame, float]:
    """Add ``dick_basu``, ``reciprocal`` and ``loyalty_type``; also return the value cutoff."""
    key = pl.concat_str("behaviour", "attitude", separator="|")
    mapping = {f"{k[0]}|{k[1]}": v for k, v in DICK_BASU.items()}
    t = t.with_columns(key.replace_strict(mapping).alias("dick_basu"))
    if t.height:
        k = max(1, int(round(reciprocal_top_share * t.height)))
        cutoff = t["value"].fill_null(float("-inf")).sort(descending=True)[k - 1]
    else:
        cutoff = float("inf")
    top = pl.col("value").fill_null(float("-inf")) >= cutoff
    promoter = pl.col("nps") >= promoter_min
    recip = ((pl.col("dick_basu") == "premium") & promoter & top).fill_null(False)
    t = t.with_columns(recip.alias("reciprocal")).with_columns(
        pl.when("reciprocal").then(pl.lit("reciprocal")).otherwise(pl.col("dick_basu"))
        .alias("loyalty_type"))
    return t, cutoff


def _with_attitude_segment(t: pl.DataFrame, detractor_max: float,
                           intent_low: float) -> pl.DataFrame:
    """Add ``attitude_segment``: Loyal / Neutral / Vulnerable / unknown (lecture 9)."""
    vulnerable = ((pl.col("nps") <= detractor_max).fill_null(False)
                  | (pl.col("repurchase_intent") <= intent_low).fill_null(False)
                  | (pl.col("satisfaction_zone") == "loss").fill_null(False))
    return t.with_columns(
        pl.when(pl.col("attitude") == "unknown").then(pl.lit("unknown"))
        .when(pl.col("attitude") == "high").then(pl.lit("Loyal"))
        .when(vulnerable).then(pl.lit("Vulnerable"))
        .otherwise(pl.lit("Neutral")).alias("attitude_segment"))


def _with_ladder(t: pl.DataFrame, promoter_min: float, detractor_max: float,
                 intent_high: float) -> pl.DataFrame:
    """Add ``ladder_stage`` (Christopher, Payne & Ballantyne 1991; module docstring)."""
    n = pl.col("n_purchases")
    promoter = pl.col("nps") >= promoter_min
    passive = (pl.col("nps") > detractor_max) & (pl.col("nps") < promoter_min)
    supporter = passive.fill_null(False) | (pl.col("repurchase_intent") >= intent_high).fill_null(
        False)
    return t.with_columns(
        pl.when(pl.col("reciprocal")).then(pl.lit("partner"))
        .when(n < 2).then(pl.lit("customer"))
        .when(promoter.fill_null(False)).then(pl.lit("advocate"))
        .when(supporter).then(pl.lit("supporter"))
        .otherwise(pl.lit("client")).alias("ladder_stage"))


def _with_reasons(t: pl.DataFrame, signals: Sequence[str], combine: str, intent_high: float,
                  reciprocal_top_share: float, cutoff: float) -> pl.DataFrame:
    """Add ``reasons``: the figures and thresholds each customer's type rests on."""
    nps_r = pl.when(pl.col("nps").is_not_null()).then(
        pl.format("NPS {} ({})", pl.col("nps").cast(pl.Int64), pl.col("nps_class")))
    intent_r = pl.when(pl.col("repurchase_intent").is_not_null()).then(pl.format(
        "repurchase intent {}/5 ({})", pl.col("repurchase_intent").cast(pl.Int64),
        pl.when(pl.col("repurchase_intent") >= intent_high).then(pl.lit("high"))
        .otherwise(pl.lit("low"))))
    sat_r = pl.when(pl.col("satisfaction_share").is_not_null()).then(pl.format(
        "satisfaction {} % ({})", (pl.col("satisfaction_share") * 100).round(0).cast(pl.Int64),
        pl.col("satisfaction_zone")))
    rule = f"{combine} of {', '.join(signals)}"
    att_r = (pl.when(pl.col("attitude") == "unknown")
             .then(pl.when(pl.col("nps_class").is_null() & pl.col("repurchase_intent").is_null()
                           & pl.col("satisfaction_zone").is_null())
                   .then(pl.lit("no survey at or before the as-of date (attitude unknown)"))
                   .otherwise(pl.lit("survey without the rule's answers (attitude unknown)")))
             .otherwise(pl.format("attitude {} ({})", pl.col("attitude"), pl.lit(rule))))
    pct = int(round(reciprocal_top_share * 100))
    rec_r = pl.when(pl.col("reciprocal")).then(pl.format(
        "value {} ({}) in the top {} % (>= {}): reciprocal", pl.col("value").round(1),
        pl.col("value_basis"), pl.lit(pct), pl.lit(_fmt(cutoff) if t.height else "n/a")))
    return t.with_columns(pl.concat_str([pl.col("_b_reason"), nps_r, intent_r, sat_r, att_r,
                                         rec_r], separator="; ", ignore_nulls=True)
                          .alias("reasons"))


def _with_prospects(t: pl.DataFrame, customers: pl.DataFrame | None) -> pl.DataFrame:
    """Add the customers without a purchase as ``prospect`` rows (no behaviour, no value)."""
    if customers is None:
        return t
    prospects = customers.select(pl.col(_CID).cast(pl.String)).join(t.select(_CID), on=_CID,
                                                                      how="anti")
    if not prospects.height:
        return t
    return pl.concat([t, prospects.with_columns(
        pl.lit("prospect").alias("loyalty_type"), pl.lit("prospect").alias("ladder_stage"),
        pl.lit("unknown").alias("attitude"), pl.lit("unknown").alias("attitude_segment"),
        pl.lit(False).alias("reciprocal"),
        pl.lit(0, dtype=pl.Int64).alias("n_purchases"),
        pl.lit("no purchase by the as-of date (prospect)").alias("reasons"))],
        how="diagonal_relaxed")


def loyalty_matrix(types: pl.DataFrame) -> pl.DataFrame:
    """Counts and value per behaviour x attitude cell, with the unknown-attitude column.

    Prospects (no purchase) are left out.  ``customer_share`` and ``value_share`` are shares of
    all typed buyers; ``reciprocal`` counts the reciprocal customers inside the premium cell.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"behaviour": ["regular", "regular", "one-time"],
    ...                   "attitude": ["high", "unknown", "low"],
    ...                   "dick_basu": ["premium", "regular, attitude unknown", "no loyalty"],
    ...                   "reciprocal": [True, False, False], "value": [10.0, 5.0, 5.0]})
    >>> loyalty_matrix(t).filter(pl.col("attitude") == "high").select(
    ...     "behaviour", "customers", "value_share").rows()
    [('regular', 1, 0.5), ('one-time', 0, 0.0)]
    """
    buyers = types.filter(pl.col("behaviour").is_not_null())
    grid = pl.DataFrame({"behaviour": ["regular"] * 3 + ["one-time"] * 3,
                         "attitude": ["high", "low", "unknown"] * 2})
    grid = grid.with_columns(
        pl.concat_str("behaviour", "attitude", separator="|")
        .replace_strict({f"{k[0]}|{k[1]}": v for k, v in DICK_BASU.items()}).alias("dick_basu"))
    agg = buyers.group_by("behaviour", "attitude").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        stable_sum(pl.col("value").fill_null(0.0)).alias("value"),
        pl.col("reciprocal").sum().cast(pl.Int64).alias("reciprocal"))
    total_n = max(buyers.height, 1)
    total_v = (buyers.select(stable_sum(pl.col("value").fill_null(0.0))).item()
               if buyers.height else 0.0)
    out = grid.join(agg, on=["behaviour", "attitude"], how="left").with_columns(
        pl.col("customers").fill_null(0), pl.col("value").fill_null(0.0),
        pl.col("reciprocal").fill_null(0))
    return out.with_columns(
        (pl.col("customers") / total_n).alias("customer_share"),
        (pl.col("value") / total_v if total_v else pl.lit(None, dtype=pl.Float64))
        .alias("value_share"),
        pl.when(pl.col("customers") > 0).then(pl.col("value") / pl.col("customers"))
        .alias("value_per_customer"))


def type_summary(types: pl.DataFrame, by: str = "loyalty_type") -> pl.DataFrame:
    """Customers, value and their shares per ``by`` (default ``loyalty_type``; also
    ``ladder_stage``, ``attitude_segment``, ``dick_basu``); prospects included with value 0.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"loyalty_type": ["premium", "premium", "latent"],
    ...                   "value": [10.0, 20.0, 10.0]})
    >>> type_summary(t).row(0)
    ('premium', 2, 30.0, 0.6666666666666666, 0.75, 15.0)
    """
    tot_n = max(types.height, 1)
    tot_v = types.select(stable_sum(pl.col("value").fill_null(0.0))).item()
    known = {"loyalty_type": (*TYPES, "prospect"), "dick_basu": (*TYPES, "prospect"),
             "ladder_stage": LADDER, "attitude_segment": ATTITUDE_SEGMENTS}.get(by, ())
    order = {t: i for i, t in enumerate(known)}
    return (
        types.group_by(by)
        .agg(pl.len().cast(pl.Int64).alias("customers"),
             stable_sum(pl.col("value").fill_null(0.0)).alias("value"))
        .with_columns((pl.col("customers") / tot_n).alias("customer_share"),
                      (pl.col("value") / tot_v if tot_v else pl.lit(None, dtype=pl.Float64))
                      .alias("value_share"),
                      (pl.col("value") / pl.col("customers")).alias("value_per_customer"))
        .sort(pl.col(by).replace_strict(order, default=len(order), return_dtype=pl.Int32),
              pl.col(by))
    )


def type_examples(types: pl.DataFrame, per_type: int = 2) -> pl.DataFrame:
    """The ``per_type`` highest-value customers of each loyalty type, with their reasons.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"customer_id": ["a", "b", "c"], "loyalty_type": ["latent"] * 3,
    ...                   "value": [1.0, 3.0, 2.0], "reasons": ["r1", "r2", "r3"]})
    >>> type_examples(t, 2)["customer_id"].to_list()
    ['b', 'c']
    """
    order = {t: i for i, t in enumerate((*TYPES, "prospect"))}
    return (types.sort("value", "customer_id", descending=[True, False], nulls_last=True)
            .group_by("loyalty_type", maintain_order=True).head(per_type)
            .sort(pl.col("loyalty_type").replace_strict(order, default=len(order),
                                                        return_dtype=pl.Int32),
                  pl.col("value"), pl.col("customer_id"), descending=[False, True, False],
                  nulls_last=True)
            .select("loyalty_type", "customer_id", "value", "reasons"))
