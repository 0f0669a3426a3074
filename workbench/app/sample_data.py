"""Deterministic sample data: a fictional retailer with a known ground truth.

The generator simulates a customer base whose purchasing follows the BG/NBD model and whose
spend per purchase follows the Gamma-Gamma model, with documented parameters
(:data:`GROUND_TRUTH`), so that the CLV fitting of the workbench can be checked against the
truth and every analysis of the workbench has realistic data to run on.

Models
------
*Purchases* (BG/NBD, Fader, Hardie & Lee 2005, "Counting your customers the easy way: an
alternative to the Pareto/NBD model", Marketing Science 24(2), 275-284). Each customer has a
purchase rate ``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha``, purchases per week)
and a dropout probability ``p ~ Beta(a, b)``. While alive, repeat purchases arrive at rate
``lambda``; after each repeat purchase the customer becomes inactive with probability ``p``.
The first purchase (acquisition) is spread over the first two years of the period.

Day resolution: the customer summary of the workbench collapses the purchases of one customer
on one day into one purchase (docs/definitions.md, 'Order and purchase'), so the simulation
never produces two purchases of a customer on the same day. It simulates the process in whole
days: on each day a live customer buys with probability ``lambda / 7`` (the Poisson process
thinned to at most one event a day with the same expected rate; the gaps are geometric in
days). The expected
number of purchases in any period is exactly the BG/NBD one; only the variance of the count of
the (rare) customers who buy several times a week is slightly smaller than Poisson. Fitting
the BG/NBD by maximum likelihood to the day-collapsed weekly summary of the default set gives
``r, alpha, a, b = 0.205, 2.27, 0.595, 4.10`` (standard errors 0.003, 0.052, 0.029, 0.29)
against the truth ``0.2, 2.2, 0.6, 4.0``; on 200,000-400,000 customers (other seeds) the
estimates stay within about 1-3 % of the truth. (Merging same-day events instead, i.e. a daily
probability ``1 - exp(-lambda / 7)``, biased ``alpha`` up by about 6 %.)

*Spend per purchase* (Gamma-Gamma; Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value
curves for customer base analysis", Journal of Marketing Research 42(4), 415-430, after
Colombo & Jiang 1999, "A stochastic RFM model", Journal of Interactive Marketing 13(3)).
Each customer has ``nu ~ Gamma(q, v)`` (shape ``q``, rate ``v``) and each purchase has value
``z ~ Gamma(p, nu)`` (shape ``p``, rate ``nu``); the mean spend of a customer is ``p / nu``.
Purchase rate and spend are independent, as the model assumes.
The simulated value is what the customer finally pays (net of returns): an order that gets a
partial return (about 3 % of orders, at most 60 % of the order) is grossed up so that its sale
lines minus its return line equal the simulated value. Netting the returns into their order
(by ``order_id``, at the order date) and fitting the Gamma-Gamma model to the mean repeat
purchase value of the default set gives ``p, q, v = 4.46, 3.78, 45.2`` (standard errors 0.21,
0.08, 2.9) against the truth ``4.5, 3.8, 45``; the gross values (sale lines only) give
``4.36, 3.77, 46.7``, still within the error. Amounts are rounded to cents. A return counted
as a purchase of its own on its own date is *not* consistent with the truth.

*Customer type*: the B2B label (about 15 %) is given to the customers with the highest value
of a latent index that rises with both the simulated purchase rate and the simulated spend
level, so B2B customers buy more often and spend more per purchase. The label is assigned
from the draws, not the draws from the label: the population distribution of ``lambda`` and
``nu`` stays exactly the ground truth.

*Attitude* (for the surveys and the Dick & Basu 1994 loyalty matrix): a latent attitude
``A = rho * B + sqrt(1 - rho**2) * e`` with ``B`` the standardized behaviour (normal score
of the purchase rate plus the standardized alive-at-the-end indicator) and ``e`` standard
normal noise. NPS, repurchase intent and the eight criterion scores are noisy readings of
``A``; criterion ``c`` reads ``y_c = L_c * A + sqrt(1 - L_c**2) * e_c`` with the loadings
``L_c`` of ``GROUND_TRUTH["attitude"]["loadings"]`` (quality and reliability strongly,
price weakly), cut into 1-5. The stated weights (importance) are independent of the
attitude and deliberately differ from the loadings (price is stated important, but drives
little), as derived and stated importance commonly do.

Data quality: the main sample is clean (no nulls, no text in numbers, no future order dates)
except for the documented, realistic features: multi-line orders, partial returns (negative
lines with the order's id, dated after the order), a handful of exact duplicate transaction
rows (:data:`N_DUPLICATE_ROWS`), a few surveys dated after the end of the period, and a few
surveys with unanswered criteria.

Examples
--------
>>> from workbench.app.sample_data import generate_sample_data
>>> data = generate_sample_data(n_customers=500, seed=1)
>>> sorted(data)
['customers', 'surveys', 'transactions']
>>> data["customers"].height
500
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from statistics import NormalDist
from typing import Any, Final

import numpy as np
import polars as pl

from workbench.core.schema import CRITERIA

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "GROUND_TRUTH",
    "N_DUPLICATE_ROWS",
    "generate_benchmark_transactions",
    "generate_sample_data",
    "write_benchmark_transactions",
    "write_sample_data",
]

DEFAULT_SEED: Final = 20261124
DEFAULT_START: Final = dt.date(2024, 1, 1)
DEFAULT_END: Final = dt.date(2026, 6, 30)
#: Number of exact duplicate transaction rows planted for the data-quality report.
N_DUPLICATE_ROWS: Final = 5

#: The parameters the data are simulated from (see the module docstring for the models).
#: ``bgnbd`` uses weeks as the time unit (``lambda`` in purchases per week); ``gamma_gamma``
#: follows the ``lifetimes`` naming (``v`` is the rate of the Gamma distribution of ``nu``).
GROUND_TRUTH: Final[dict[str, Any]] = {
    "bgnbd": {"r": 0.2, "alpha": 2.2, "a": 0.6, "b": 4.0, "unit": "W"},
    "gamma_gamma": {"p": 4.5, "q": 3.8, "v": 45.0},
    "attitude": {
        "rho": 0.5,
        "loadings": {
            "price": 0.15,
            "logistics": 0.40,
            "service": 0.55,
            "information": 0.30,
            "competence": 0.45,
            "quality": 0.80,
            "reliability": 0.75,
            "service_level": 0.50,
        },
    },
    "acquisition_years": 2.0,
    "b2b_share": 0.15,
    "return_share": 0.03,
    "max_return_fraction": 0.6,
    "survey_share": 0.175,
}

_REGIONS: Final = ("North", "South", "East", "West", "Central")
_REGION_P: Final = (0.24, 0.22, 0.20, 0.20, 0.14)
_ACQ_CHANNELS: Final = ("online", "store", "referral", "partner", "sales_rep")
_ACQ_P_B2C: Final = (0.45, 0.35, 0.12, 0.08, 0.00)
_ACQ_P_B2B: Final = (0.15, 0.05, 0.10, 0.20, 0.50)
#: Beta parameters of each customer's share of online orders, by acquisition channel.
_ONLINE_BETA: Final = ((6.0, 2.0), (2.0, 6.0), (3.0, 3.0), (3.0, 3.0), (2.5, 3.5))
#: Category name, typical unit price, cost share range (cost / amount).
_CATEGORIES: Final = (
    ("electronics", 120.0, 0.68, 0.75),
    ("home", 35.0, 0.58, 0.68),
    ("garden", 25.0, 0.55, 0.65),
    ("apparel", 30.0, 0.55, 0.62),
    ("office", 12.0, 0.62, 0.72),
    ("toys", 20.0, 0.57, 0.66),
)
_CAT_P_B2C: Final = (0.18, 0.22, 0.12, 0.25, 0.08, 0.15)
_CAT_P_B2B: Final = (0.25, 0.15, 0.10, 0.05, 0.40, 0.05)
_LINES_P: Final = (0.45, 0.30, 0.15, 0.10)  # 1, 2, 3, 4 lines per order
_RETURN_DRAW_P: Final = 0.043  # before the eligibility filters: ~3 % of orders get a return
#: Survey design.
_SECOND_SURVEY_SHARE: Final = 0.15
_MISSING_CRITERIA_SHARE: Final = 0.03
#: Mean of the latent stated importance per criterion (cut into weights 1-5).
_WEIGHT_MEANS: Final = {
    "price": 0.8,
    "logistics": 0.2,
    "service": 0.3,
    "information": -0.4,
    "competence": 0.0,
    "quality": 0.9,
    "reliability": 0.6,
    "service_level": 0.1,
}
#: Shift of the latent score per criterion (price is rated lower than quality, say).
_SCORE_SHIFTS: Final = {
    "price": -0.3,
    "logistics": 0.1,
    "service": 0.0,
    "information": -0.1,
    "competence": 0.1,
    "quality": 0.2,
    "reliability": 0.15,
    "service_level": 0.0,
}
_SCORE_CUTS: Final = np.array([-1.64, -1.04, -0.20, 0.77])  # 5/10/27/36/22 % at shift 0
_WEIGHT_CUTS: Final = np.array([-1.5, -0.8, 0.0, 0.9])


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _normal_scores(x: np.ndarray) -> np.ndarray:
    """Rank-based normal scores (van der Waerden) of ``x``; ties broken by position."""
    n = x.size
    ranks = np.empty(n, dtype=np.float64)
    ranks[np.argsort(x, kind="stable")] = np.arange(1, n + 1)
    inv = NormalDist().inv_cdf
    return np.array([inv(u) for u in ranks / (n + 1)])


def _standardize(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


def _id_series(name: str, prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Zero-padded identifiers such as ``C000123``."""
    s = pl.Series(name, numbers, dtype=pl.Int64)
    return pl.select((pl.lit(prefix) + s.cast(pl.String).str.zfill(width)).alias(name)).to_series()


def _dates(name: str, start: dt.date, days: np.ndarray) -> pl.Series:
    epoch = start.toordinal() - dt.date(1970, 1, 1).toordinal()
    return (pl.Series(name, days, dtype=pl.Int32) + epoch).cast(pl.Date)


def _acquisition_days(rng: np.random.Generator, n: int, start: dt.date, n_days: int) -> np.ndarray:
    """Days (offsets from ``start``) of first purchases: mild growth and a Nov-Dec peak."""
    offsets = np.arange(n_days)
    months = np.array([(start + dt.timedelta(days=int(d))).month for d in offsets])
    w = (1.0 + 0.35 * offsets / max(n_days - 1, 1)) * np.where(months >= 11, 1.4, 1.0)
    return rng.choice(offsets, size=n, p=w / w.sum())


def _simulate_bgnbd_days(
    rng: np.random.Generator,
    lam: np.ndarray,
    p_drop: np.ndarray,
    first_day: np.ndarray,
    end_day: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate the BG/NBD process in days.

    Returns the owner (customer index) and day of every purchase, first purchases included,
    and whether each customer is still alive at ``end_day``.
    """
    n = lam.size
    q_day = np.clip(lam / 7.0, 1e-12, 1.0)  # daily purchase probability
    drop_after = rng.geometric(p_drop)  # the repeat purchase after which the customer leaves
    count = np.zeros(n, dtype=np.int64)
    current = first_day.astype(np.int64).copy()
    owners = [np.arange(n)]
    days = [current.copy()]
    active = np.arange(n)
    while active.size:
        nxt = current[active] + rng.geometric(q_day[active])
        inside = nxt <= end_day
        active, nxt = active[inside], nxt[inside]
        current[active] = nxt
        count[active] += 1
        owners.append(active)
        days.append(nxt)
        active = active[count[active] < drop_after[active]]
    alive = count < drop_after
    return np.concatenate(owners), np.concatenate(days), alive


def _split_cents(
    rng: np.random.Generator, total: np.ndarray, n_parts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split integer totals into ``n_parts`` positive integer parts that sum to the total.

    Returns the index of the total each part belongs to and the parts.
    """
    parent = np.repeat(np.arange(total.size), n_parts)
    w = 0.5 + rng.gamma(2.0, size=parent.size)  # no crumbs: each part >= ~1/5 of an even share
    starts = np.concatenate(([0], np.cumsum(n_parts)[:-1]))
    w = w / np.add.reduceat(w, starts)[parent]
    free = (total - n_parts)[parent]  # every part gets one cent, the rest by weight
    parts = np.floor(w * free).astype(np.int64) + 1
    rest = total - np.add.reduceat(parts, starts)
    parts[starts] += rest
    return parent, parts


def _separate_equal_lines(parent: np.ndarray, parts: np.ndarray) -> None:
    """Move a cent between two lines of one order with equal amounts (in place).

    Keeps the order total; only the planted duplicates may then be exact duplicate rows.
    """
    for _ in range(100):
        changed = False
        for lag in (1, 2, 3):
            same = (parent[lag:] == parent[:-lag]) & (parts[lag:] == parts[:-lag])
            same &= parts[:-lag] > 1
            hit = np.flatnonzero(same)
            if hit.size:
                parts[hit] -= 1
                parts[hit + lag] += 1
                changed = True
        if not changed:
            return


# --------------------------------------------------------------------------------------
# the sample data set
# --------------------------------------------------------------------------------------


def generate_sample_data(
    n_customers: int = 20_000,
    seed: int = DEFAULT_SEED,
    start: dt.date | str = DEFAULT_START,
    end: dt.date | str = DEFAULT_END,
    *,
    include_latent: bool = False,
) -> dict[str, pl.DataFrame]:
    """Simulate the sample retailer: transactions, customers and surveys.

    Parameters
    ----------
    n_customers : int
        Number of customers (all of them buy at least once).
    seed : int
        Seed of ``numpy.random.Generator(PCG64(seed))``; the same arguments give identical
        frames.
    start, end : datetime.date or ISO string
        First and last day of the observation period (inclusive). First purchases are spread
        over the first ``GROUND_TRUTH["acquisition_years"]`` years (at most 80 % of the period).
    include_latent : bool
        Also return a ``"latent"`` frame with the simulated per-customer truth (``lam``,
        ``p_drop``, ``nu``, ``alive``, ``attitude``, ``behaviour``), for model checks.

    Returns
    -------
    dict[str, polars.DataFrame]
        ``transactions`` (``customer_id``, ``order_id``, ``order_date``, ``amount``, ``cost``,
        ``channel``, ``category``, ``quantity``), ``customers`` (``customer_id``,
        ``signup_date``, ``region``, ``channel``, ``customer_type``, ``payment_terms``) and
        ``surveys`` (``customer_id``, ``survey_date``, ``nps``, ``repurchase_intent``,
        ``score_<criterion>``, ``weight_<criterion>``).

    Notes
    -----
    Models and parameters: see the module docstring and :data:`GROUND_TRUTH`. Order ids
    follow the chronological order of the purchases. Returns (negative lines) carry the id of
    the order they belong to and a later date, never after ``end``; the sale lines of such an
    order minus its return equal the simulated (Gamma-Gamma) purchase value.

    Examples
    --------
    >>> data = generate_sample_data(n_customers=300, seed=7)
    >>> tx = data["transactions"]
    >>> tx.columns[:4]
    ['customer_id', 'order_id', 'order_date', 'amount']
    >>> bool((tx["order_date"].max() <= DEFAULT_END))
    True
    """
    # long: one seeded simulation: the draws must stay in this order for the same seed to give the
    # same data
    if n_customers < 1:
        raise ValueError("n_customers must be at least 1")
    start, end = _as_date(start), _as_date(end)
    n_days = (end - start).days + 1
    if n_days < 30:
        raise ValueError("the period must span at least 30 days")
    end_day = n_days - 1
    rng = np.random.Generator(np.random.PCG64(seed))
    n = n_customers
    bg, gg = GROUND_TRUTH["bgnbd"], GROUND_TRUTH["gamma_gamma"]

    # --- customers' latent parameters -------------------------------------------------
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], size=n)
    p_drop = rng.beta(bg["a"], bg["b"], size=n)
    nu = rng.gamma(gg["q"], 1.0 / gg["v"], size=n)
    acq_days = min(round(365.25 * GROUND_TRUTH["acquisition_years"]), int(0.8 * n_days))
    first = np.sort(_acquisition_days(rng, n, start, acq_days))  # ids follow acquisition
    owner, day, alive = _simulate_bgnbd_days(rng, lam, p_drop, first, end_day)

    z_lam = _normal_scores(lam)
    z_nu = _normal_scores(-nu)  # small rate nu = high spend
    b2b_index = 0.75 * z_lam + 0.55 * z_nu + 0.45 * rng.standard_normal(n)
    n_b2b = round(GROUND_TRUTH["b2b_share"] * n)
    is_b2b = np.zeros(n, dtype=bool)
    if n_b2b:
        is_b2b[np.argsort(-b2b_index, kind="stable")[:n_b2b]] = True

    # --- customers table ------------------------------------------------------------------
    region = rng.choice(len(_REGIONS), size=n, p=_REGION_P)
    acq = np.where(
        is_b2b,
        rng.choice(len(_ACQ_CHANNELS), size=n, p=_ACQ_P_B2B),
        rng.choice(len(_ACQ_CHANNELS), size=n, p=_ACQ_P_B2C),
    )
    credit = np.where(is_b2b, rng.random(n) < 0.85, rng.random(n) < 0.04)
    same_day = rng.random(n) < 0.55
    lead = np.where(same_day, 0, rng.geometric(1 / 30, size=n))
    signup = np.maximum(first - lead, 0)
    cust_ids = _id_series("customer_id", "C", np.arange(1, n + 1), max(6, len(str(n))))
    customers = pl.DataFrame(
        [
            cust_ids,
            _dates("signup_date", start, signup),
            pl.Series("region", np.array(_REGIONS)[region]),
            pl.Series("channel", np.array(_ACQ_CHANNELS)[acq]),
            pl.Series("customer_type", np.where(is_b2b, "B2B", "B2C")),
            pl.Series("payment_terms", np.where(credit, "credit", "prepayment")),
        ]
    )

    # --- purchases (orders) ----------------------------------------------------------------
    order = np.lexsort((owner, day))  # chronological, ties by customer
    owner, day = owner[order], day[order]
    n_orders = owner.size
    value = rng.gamma(gg["p"], 1.0 / nu[owner])
    n_lines = 1 + rng.choice(4, size=n_orders, p=_LINES_P)
    n_lines = np.where(
        is_b2b[owner], np.minimum(n_lines + (rng.random(n_orders) < 0.4), 4), n_lines
    )
    cents = np.maximum(np.rint(value * 100).astype(np.int64), n_lines)
    online_share = np.empty(n)
    for k, (ba, bb) in enumerate(_ONLINE_BETA):
        sel = acq == k
        online_share[sel] = rng.beta(ba, bb, size=int(sel.sum()))
    online = rng.random(n_orders) < online_share[owner]

    # --- order lines ----------------------------------------------------------------------
    line_order, line_cents = _split_cents(rng, cents, n_lines)
    n_tx = line_order.size
    line_owner = owner[line_order]
    line_b2b = is_b2b[line_owner]
    cat = np.where(
        line_b2b,
        rng.choice(len(_CATEGORIES), size=n_tx, p=_CAT_P_B2B),
        rng.choice(len(_CATEGORIES), size=n_tx, p=_CAT_P_B2C),
    )
    unit_price = np.array([c[1] for c in _CATEGORIES])[cat] * rng.lognormal(0.0, 0.35, size=n_tx)
    quantity = np.maximum(np.rint(line_cents / 100 / unit_price), 1).astype(np.int64)
    line_start = np.concatenate(([0], np.cumsum(n_lines)[:-1]))

    # --- returns: part of one line of ~3 % of the orders, 1-60 days later ------------------
    # The simulated value is what the customer keeps (net); an order with a return is grossed
    # up so that gross - returned = simulated value, the returned part at most 60 % of it.
    delay = np.minimum(1 + rng.geometric(1 / 12, size=n_orders), 60)
    can_return = (day + delay <= end_day) & ((n_lines > 1) | (quantity[line_start] > 1))
    ret_orders = np.flatnonzero((rng.random(n_orders) < _RETURN_DRAW_P) & can_return)
    ret_line = line_start[ret_orders] + np.floor(
        rng.random(ret_orders.size) * n_lines[ret_orders]
    ).astype(np.int64)
    ret_of = quantity[ret_line]
    max_k = np.where(n_lines[ret_orders] == 1, ret_of - 1, ret_of)
    ret_qty = 1 + np.floor(rng.random(ret_orders.size) * max_k).astype(np.int64)
    frac = line_cents[ret_line] * ret_qty / ret_of / cents[ret_orders]
    keep = frac <= GROUND_TRUTH["max_return_fraction"]
    ret_orders, ret_line, ret_qty, ret_of, frac = (
        x[keep] for x in (ret_orders, ret_line, ret_qty, ret_of, frac)
    )
    scale = np.ones(n_orders)
    scale[ret_orders] = 1.0 / (1.0 - frac)
    gross = np.rint(cents * scale).astype(np.int64)
    line_cents = np.floor(line_cents * scale[line_order]).astype(np.int64)
    line_cents[line_start] += gross - np.add.reduceat(line_cents, line_start)
    _separate_equal_lines(line_order, line_cents)
    ret_cents = -np.rint(line_cents[ret_line] * ret_qty / ret_of).astype(np.int64)

    lo = np.array([c[2] for c in _CATEGORIES])[cat]
    hi = np.array([c[3] for c in _CATEGORIES])[cat]
    cost_share = lo + (hi - lo) * rng.random(n_tx)
    line_cost = np.rint(line_cents * cost_share).astype(np.int64)
    ret_cost = -np.rint(line_cost[ret_line] * ret_qty / ret_of).astype(np.int64)
    line_day = day[line_order]

    all_order = np.concatenate((line_order, ret_orders))
    all_day = np.concatenate((line_day, day[ret_orders] + delay[ret_orders]))
    all_cents = np.concatenate((line_cents, ret_cents))
    all_cost = np.concatenate((line_cost, ret_cost))
    all_cat = np.concatenate((cat, cat[ret_line]))
    all_qty = np.concatenate((quantity, -ret_qty))
    seq = np.arange(all_order.size)  # lines keep their position, returns come last
    rows = np.lexsort((seq, all_order, all_day))
    # a handful of exact duplicate rows (sale lines), each right after its original
    if N_DUPLICATE_ROWS and n_tx > 10 * N_DUPLICATE_ROWS:
        dup = rng.choice(n_tx, size=N_DUPLICATE_ROWS, replace=False)
        pos = np.flatnonzero(np.isin(rows, dup))
        rows = np.insert(rows, pos + 1, rows[pos])

    order_ids = _id_series("order_id", "O", all_order[rows] + 1, max(7, len(str(n_orders))))
    transactions = pl.DataFrame(
        [
            cust_ids.gather(owner[all_order[rows]]),
            order_ids,
            _dates("order_date", start, all_day[rows]),
            pl.Series("amount", all_cents[rows] / 100.0),
            pl.Series("cost", all_cost[rows] / 100.0),
            pl.Series("channel", np.where(online[all_order[rows]], "online", "store")),
            pl.Series("category", np.array([c[0] for c in _CATEGORIES])[all_cat[rows]]),
            pl.Series("quantity", all_qty[rows]),
        ]
    )

    # --- attitude and surveys ----------------------------------------------------------------
    rho = GROUND_TRUTH["attitude"]["rho"]
    behaviour = _standardize(z_lam + _standardize(alive.astype(np.float64)))
    attitude = rho * behaviour + np.sqrt(1.0 - rho**2) * rng.standard_normal(n)
    surveys = _surveys(rng, n, cust_ids, owner, day, attitude, start, end_day)

    out = {"transactions": transactions, "customers": customers, "surveys": surveys}
    if include_latent:
        out["latent"] = pl.DataFrame(
            [
                cust_ids,
                pl.Series("lam", lam),
                pl.Series("p_drop", p_drop),
                pl.Series("nu", nu),
                pl.Series("alive", alive),
                pl.Series("behaviour", behaviour),
                pl.Series("attitude", attitude),
                pl.Series("b2b", is_b2b),
            ]
        )
    return out


def _surveys(
    rng: np.random.Generator,
    n: int,
    cust_ids: pl.Series,
    owner: np.ndarray,
    day: np.ndarray,
    attitude: np.ndarray,
    start: dt.date,
    end_day: int,
) -> pl.DataFrame:
    """Post-purchase surveys of a random 17.5 % of the customers (some twice)."""
    n_sv = max(1, round(GROUND_TRUTH["survey_share"] * n))
    who = np.sort(rng.choice(n, size=n_sv, replace=False))
    by_cust = np.lexsort((day, owner))
    counts = np.bincount(owner, minlength=n)
    first_idx = np.concatenate(([0], np.cumsum(counts)[:-1]))
    # survey 1: 1-14 days after a random purchase of the customer
    k = (rng.random(n_sv) * counts[who]).astype(np.int64)
    d1 = day[by_cust[first_idx[who] + k]] + rng.integers(1, 15, size=n_sv)
    # survey 2 for some: 2-12 months later, kept if it falls within the period
    second = rng.random(n_sv) < _SECOND_SURVEY_SHARE
    d2 = d1 + rng.integers(60, 366, size=n_sv)
    second &= d2 <= end_day
    sv_cust = np.concatenate((who, who[second]))
    sv_day = np.concatenate((d1, d2[second]))
    rows = np.lexsort((sv_day, sv_cust))
    sv_cust, sv_day = sv_cust[rows], sv_day[rows]
    m = sv_cust.size

    a = attitude[sv_cust] + 0.3 * rng.standard_normal(m)  # the mood of the day
    nps = np.clip(np.rint(8.0 + 1.8 * a + 1.0 * rng.standard_normal(m)), 0, 10).astype(np.int64)
    intent = np.clip(np.rint(3.6 + 0.9 * a + 0.7 * rng.standard_normal(m)), 1, 5).astype(np.int64)
    cols: list[pl.Series] = [
        cust_ids.gather(sv_cust),
        _dates("survey_date", start, sv_day),
        pl.Series("nps", nps),
        pl.Series("repurchase_intent", intent),
    ]
    loadings = GROUND_TRUTH["attitude"]["loadings"]
    missing = np.zeros((m, len(CRITERIA)), dtype=bool)
    with_missing = np.flatnonzero(rng.random(m) < _MISSING_CRITERIA_SHARE)
    n_missing = 1 + (rng.random(with_missing.size) < 0.35)
    for i, k_miss in zip(with_missing, n_missing, strict=True):
        missing[i, rng.choice(len(CRITERIA), size=k_miss, replace=False)] = True
    scores, weights = [], []
    for j, c in enumerate(CRITERIA):
        load = loadings[c]
        y = load * a + np.sqrt(1.0 - load**2) * rng.standard_normal(m) + _SCORE_SHIFTS[c]
        s = 1 + np.searchsorted(_SCORE_CUTS, y)
        w = 1 + np.searchsorted(_WEIGHT_CUTS, _WEIGHT_MEANS[c] + rng.standard_normal(m))
        mask = pl.Series(missing[:, j])
        scores.append(pl.Series(f"score_{c}", s, dtype=pl.Int64).set(mask, None))
        weights.append(pl.Series(f"weight_{c}", w, dtype=pl.Int64).set(mask, None))
    return pl.DataFrame(cols + scores + weights)


def write_sample_data(
    out_dir: str | Path = "sample_data",
    n_customers: int = 20_000,
    seed: int = DEFAULT_SEED,
    start: dt.date | str = DEFAULT_START,
    end: dt.date | str = DEFAULT_END,
) -> dict[str, Path]:
    """Generate the sample data and write ``transactions.csv``, ``customers.csv``, ``surveys.csv``.

    Parameters
    ----------
    out_dir : str or Path
        Directory to write to (created if missing; existing files are overwritten).
    n_customers, seed, start, end
        As in :func:`generate_sample_data`.

    Returns
    -------
    dict[str, Path]
        The path of each written file, keyed ``transactions`` / ``customers`` / ``surveys``.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_sample_data(tempfile.mkdtemp(), n_customers=200, seed=3)
    >>> sorted(p.name for p in paths.values())
    ['customers.csv', 'surveys.csv', 'transactions.csv']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = generate_sample_data(n_customers=n_customers, seed=seed, start=start, end=end)
    paths: dict[str, Path] = {}
    for name in ("transactions", "customers", "surveys"):
        path = out / f"{name}.csv"
        data[name].write_csv(path, float_precision=2, date_format="%Y-%m-%d", line_terminator="\n")
        paths[name] = path
    return paths


# --------------------------------------------------------------------------------------
# the benchmark log
# --------------------------------------------------------------------------------------


def generate_benchmark_transactions(
    n_rows: int = 10_000_000,
    n_customers: int = 3_600_000,
    seed: int = DEFAULT_SEED,
    start: dt.date | str = DEFAULT_START,
    end: dt.date | str = DEFAULT_END,
) -> pl.DataFrame:
    """A large transaction log (``customer_id``, ``order_date``, ``amount``) for benchmarks.

    Same flavour as :func:`generate_sample_data` (BG/NBD purchase counts, Gamma-Gamma spend,
    parameters of :data:`GROUND_TRUTH`) but cruder and fully vectorized: each customer's
    number of repeat purchases is ``min(Poisson(lambda * T), Geometric(p))``, the repeat
    purchases fall uniformly in the customer's active span, and the log is then cut (or
    topped up with extra repeat purchases of repeat buyers) to exactly ``n_rows`` rows. A
    customer may have several rows on one day. Rows are sorted by date.

    Parameters
    ----------
    n_rows : int
        Exact number of rows; at least ``n_customers`` (every customer buys once).
    n_customers : int
        Number of customers.
    seed : int
        Random seed (``numpy.random.Generator(PCG64(seed))``).
    start, end : datetime.date or ISO string
        The period; first purchases fall in its first 80 %.

    Returns
    -------
    polars.DataFrame

    Examples
    --------
    >>> df = generate_benchmark_transactions(n_rows=1_000, n_customers=400, seed=1)
    >>> df.shape
    (1000, 3)
    """
    if n_customers < 1 or n_rows < n_customers:
        raise ValueError("need n_customers >= 1 and n_rows >= n_customers")
    start, end = _as_date(start), _as_date(end)
    n_days = (end - start).days + 1
    rng = np.random.Generator(np.random.PCG64(seed))
    bg, gg = GROUND_TRUTH["bgnbd"], GROUND_TRUTH["gamma_gamma"]
    n = n_customers
    lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], size=n)
    p_drop = rng.beta(bg["a"], bg["b"], size=n)
    nu = rng.gamma(gg["q"], 1.0 / gg["v"], size=n)
    first = rng.integers(0, max(1, int(0.8 * n_days)), size=n)
    t_weeks = (n_days - 1 - first) / 7.0
    drop_after = rng.geometric(p_drop)
    n_poisson = rng.poisson(lam * t_weeks)
    k = np.minimum(n_poisson, drop_after)
    # active span in days: to the end if alive, else about to the drop-out purchase
    died = n_poisson >= drop_after
    span = np.full(n, 0.0)
    span[~died] = 7.0 * t_weeks[~died]
    span[died] = np.minimum(
        7.0 * t_weeks[died], rng.gamma(drop_after[died], 7.0 / np.maximum(lam[died], 1e-9))
    )
    rep_owner = np.repeat(np.arange(n), k)
    need = n_rows - n
    if rep_owner.size >= need:
        keep = np.sort(rng.permutation(rep_owner.size)[:need])
        rep_owner = rep_owner[keep]
    else:
        pool = rep_owner if rep_owner.size else np.arange(n)
        rep_owner = np.sort(
            np.concatenate((rep_owner, rng.choice(pool, size=need - rep_owner.size)))
        )
    rep_day = first[rep_owner] + np.maximum(
        np.ceil(rng.random(rep_owner.size) * span[rep_owner]), 1
    ).astype(np.int64)
    rep_day = np.minimum(rep_day, n_days - 1)
    owners = np.concatenate((np.arange(n), rep_owner))
    days = np.concatenate((first, rep_day)).astype(np.int16 if n_days < 32_000 else np.int32)
    order = np.argsort(days, kind="stable")
    owners, days = owners[order], days[order]
    amount = np.round(rng.gamma(gg["p"], 1.0 / nu[owners]), 2)
    width = max(7, len(str(n)))
    return pl.DataFrame(
        [
            _id_series("customer_id", "C", owners + 1, width),
            _dates("order_date", start, days.astype(np.int32)),
            pl.Series("amount", amount),
        ]
    )


def write_benchmark_transactions(path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`generate_benchmark_transactions` to ``path`` (``.parquet`` or ``.csv``).

    Parameters
    ----------
    path : str or Path
        Output file; the suffix chooses the format (``.parquet``/``.pq`` or ``.csv``).
    **kwargs
        Passed to :func:`generate_benchmark_transactions`.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_benchmark_transactions(
    ...     pathlib.Path(tempfile.mkdtemp()) / "log.parquet", n_rows=500, n_customers=100
    ... )
    >>> p.suffix
    '.parquet'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise ValueError(f"unknown format {path.suffix!r}: use .parquet or .csv")
    df = generate_benchmark_transactions(**kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        df.write_csv(path, float_precision=2, date_format="%Y-%m-%d", line_terminator="\n")
    else:
        df.write_parquet(path)
    return path
