"""The settings of the loyalty analysis: :class:`LoyaltySettings`, validated once.

Every threshold of :func:`workbench.analyses.loyalty.analyse_loyalty` in one frozen object: the
defaults are those of docs/loyalty.md, each field is checked when the object is built (a
:class:`~workbench.errors.ConfigError` naming the field and what is allowed), and
:func:`dataclasses.asdict` (or :meth:`LoyaltySettings.as_frame`) prints and saves them with a
report, so a reader knows which thresholds produced its figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import polars as pl

from workbench.analyses.loyalty.classify import SIGNALS
from workbench.errors import ConfigError, clip

BEHAVIOUR_RULES = ("seed", "bvdp")
COMBINE_RULES = ("all", "any", "majority")
SHARE_BASES = ("max", "weights")
#: Number of satisfaction criteria a survey can answer (docs/loyalty.md, 'Satisfaction index').
N_CRITERIA = 8


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{name} must be a number, got {clip(repr(value))}")
    return float(value)


def _whole(name: str, value: object, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {clip(repr(value))}")
    if value < low or (high is not None and value > high):
        allowed = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {allowed}, got {value}")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {clip(repr(value))}"
        )


@dataclass(frozen=True)
class LoyaltySettings:
    """Thresholds of :func:`~workbench.analyses.loyalty.analyse_loyalty` (source: docs/loyalty.md).

    Attributes
    ----------
    period_days
        Length of the trend and index periods (docs/loyalty.md, 'Behavioural loyalty' and
        'Loyalty index'): days, a whole number >= 1; default 365.
    regular_threshold
        Purchases a year above which a customer is regular ('Behavioural loyalty'; exactly
        this many is one-time): purchases a year, finite and >= 0; default 2.0.
    min_tenure_days
        Floor of the tenure used to annualise purchases ('Behavioural loyalty'): days, a whole
        number >= 1; default 365.
    behaviour_rule
        Behavioural axis of the types ('Loyalty types'): ``"seed"`` (regular / one-time) or
        ``"bvdp"`` (Buckinx & Van den Poel 2005); default ``"seed"``.
    attitude_signals
        Signals of the attitudinal axis ('Loyalty types'): a non-empty tuple of ``"nps"``,
        ``"intent"``, ``"satisfaction"``; default ``("nps", "intent")``.
    attitude_combine
        How the signals combine: ``"all"``, ``"any"`` or ``"majority"``; default ``"all"``.
    min_answered
        Criteria (of 8) with score and weight needed for a satisfaction index ('Satisfaction
        index'): criteria, 1 to 8; default 6.
    share_basis
        Denominator of the satisfaction share ('Satisfaction index'): ``"max"`` (200 points)
        or ``"weights"``; default ``"max"``.
    reciprocal_top_share
        Share of customers by value whose premium promoters are reciprocal ('Loyalty types'):
        a fraction in (0, 1]; default 0.20.
    a_n, a_p
        Loyalty index coefficients of regular and one-time customers ('Loyalty index'):
        dimensionless, finite, >= 0, not both 0; defaults 1.0 and 0.3.
    point_cost
        ``V_p`` of the value index ('Value index'): currency per value point, > 0; default 1.0.
    spend_drop
        Spend-reduction early warning: the fall of spend against the previous period
        (docs/loyalty.md, 'Early warnings'): a fraction in (0, 1]; default 0.30.
    n_boot
        Bootstrap resamples of the key drivers ('Key drivers'): resamples, a whole number >= 0
        (0 skips the driver analysis); default 1000.
    seed
        Seed of the bootstrap: a whole number >= 0; default 0.

    Raises
    ------
    workbench.errors.ConfigError
        A field outside its allowed values or range; the message names the field.

    Examples
    --------
    >>> s = LoyaltySettings(spend_drop=0.4, n_boot=0)
    >>> s.spend_drop, s.period_days
    (0.4, 365)
    >>> LoyaltySettings(share_basis="mean")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: share_basis must be one of 'max', 'weights', got 'mean'
    """

    period_days: int = 365
    regular_threshold: float = 2.0
    min_tenure_days: int = 365
    behaviour_rule: Literal["seed", "bvdp"] = "seed"
    attitude_signals: tuple[str, ...] = ("nps", "intent")
    attitude_combine: Literal["all", "any", "majority"] = "all"
    min_answered: int = 6
    share_basis: Literal["max", "weights"] = "max"
    reciprocal_top_share: float = 0.20
    a_n: float = 1.0
    a_p: float = 0.3
    point_cost: float = 1.0
    spend_drop: float = 0.30
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        _whole("period_days", self.period_days, 1)
        _whole("min_tenure_days", self.min_tenure_days, 1)
        _whole("min_answered", self.min_answered, 1, N_CRITERIA)
        _whole("n_boot", self.n_boot, 0)
        _whole("seed", self.seed, 0)
        if (
            not math.isfinite(_number("regular_threshold", self.regular_threshold))
            or self.regular_threshold < 0
        ):
            raise ConfigError(
                f"regular_threshold must be finite and >= 0, got {self.regular_threshold}"
            )
        _choice("behaviour_rule", self.behaviour_rule, BEHAVIOUR_RULES)
        _choice("attitude_combine", self.attitude_combine, COMBINE_RULES)
        _choice("share_basis", self.share_basis, SHARE_BASES)
        self._check_signals()
        for name in ("reciprocal_top_share", "spend_drop"):
            value = _number(name, getattr(self, name))
            if not 0 < value <= 1:
                raise ConfigError(f"{name} must be a fraction in (0, 1], got {value}")
        a_n, a_p = _number("a_n", self.a_n), _number("a_p", self.a_p)
        if not (
            math.isfinite(a_n) and math.isfinite(a_p) and a_n >= 0 and a_p >= 0 and a_n + a_p > 0
        ):
            raise ConfigError(
                f"a_n and a_p must be finite, >= 0 and not both 0, got a_n={a_n}, a_p={a_p}"
            )
        cost = _number("point_cost", self.point_cost)
        if not (math.isfinite(cost) and cost > 0):
            raise ConfigError(
                f"point_cost must be a positive number (currency per point), got {cost}"
            )

    def _check_signals(self) -> None:
        signals = self.attitude_signals
        if isinstance(signals, str) or not isinstance(signals, tuple | list):
            raise ConfigError(
                f"attitude_signals must be a tuple of {', '.join(SIGNALS)}, got "
                f"{clip(repr(signals))}"
            )
        bad = [s for s in signals if s not in SIGNALS]
        if bad or not signals:
            raise ConfigError(
                f"attitude_signals must be some of {', '.join(SIGNALS)} (at least "
                f"one), got {clip(repr(list(signals)))}"
            )
        # a list is accepted and kept as a tuple, so the settings stay hashable and frozen
        object.__setattr__(self, "attitude_signals", tuple(signals))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the settings, in order.

        Examples
        --------
        >>> LoyaltySettings.field_names()[:2]
        ('period_days', 'regular_threshold')
        """
        return tuple(f.name for f in fields(cls))

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (:func:`dataclasses.asdict`), e.g. for JSON.

        Examples
        --------
        >>> LoyaltySettings().as_dict()["a_p"]
        0.3
        """
        return asdict(self)

    def as_frame(self) -> pl.DataFrame:
        """The settings as a two-column text table (``setting``, ``value``) for a report.

        Examples
        --------
        >>> LoyaltySettings().as_frame().row(4)
        ('attitude_signals', 'nps, intent')
        """

        def text(value: object) -> str:
            return ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)

        items = self.as_dict()
        return pl.DataFrame({"setting": list(items), "value": [text(v) for v in items.values()]})
