"""LoyaltySettings: defaults of docs/loyalty.md, validation once, and analyse_loyalty taking it."""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import pytest

from workbench.analyses.loyalty import LoyaltySettings, analyse_loyalty, loyalty_settings
from workbench.core.prepare import prepare_orders
from workbench.errors import ConfigError

AS_OF = "2025-12-31"
# the small orders below carry no cost: the value index says so with a warning
pytestmark = pytest.mark.filterwarnings("ignore:value_index:UserWarning")


def test_defaults_are_those_of_the_docs():
    # docs/loyalty.md: 365-day periods, > 2 purchases a year, 365-day tenure floor, the seed
    # behaviour rule, NPS and intent combined with "all", 6 of 8 criteria, the 200-point max,
    # top 20 %, a_n = 1, a_p = 0.3, V_p = 1, 30 % spend drop, 1,000 resamples
    assert dataclasses.asdict(LoyaltySettings()) == {
        "period_days": 365,
        "regular_threshold": 2.0,
        "min_tenure_days": 365,
        "behaviour_rule": "seed",
        "attitude_signals": ("nps", "intent"),
        "attitude_combine": "all",
        "min_answered": 6,
        "share_basis": "max",
        "reciprocal_top_share": 0.20,
        "a_n": 1.0,
        "a_p": 0.3,
        "point_cost": 1.0,
        "spend_drop": 0.30,
        "n_boot": 1000,
        "seed": 0,
    }


def test_settings_are_frozen_hashable_and_printable():
    s = LoyaltySettings(attitude_signals=["nps"], spend_drop=0.5)
    assert s.attitude_signals == ("nps",)  # a list is kept as a tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.spend_drop = 0.1  # type: ignore[misc]
    assert hash(s) == hash(LoyaltySettings(attitude_signals=("nps",), spend_drop=0.5))
    saved = json.loads(json.dumps(s.as_dict()))
    assert saved["spend_drop"] == 0.5 and saved["attitude_signals"] == ["nps"]
    assert LoyaltySettings(**{**saved, "attitude_signals": tuple(saved["attitude_signals"])}) == s
    frame = s.as_frame()
    assert frame.columns == ["setting", "value"] and frame.height == 15
    assert dict(frame.iter_rows())["attitude_signals"] == "nps"
    assert "spend_drop=0.5" in repr(s)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("period_days", 0, "period_days must be at least 1, got 0"),
        ("period_days", 36.5, "period_days must be a whole number, got 36.5"),
        ("min_tenure_days", -1, "min_tenure_days must be at least 1, got -1"),
        ("min_answered", 9, "min_answered must be between 1 and 8, got 9"),
        ("n_boot", -5, "n_boot must be at least 0, got -5"),
        ("seed", True, "seed must be a whole number, got True"),
        ("regular_threshold", float("inf"), "regular_threshold must be finite and >= 0"),
        ("regular_threshold", "2", "regular_threshold must be a number, got '2'"),
        ("behaviour_rule", "rfm", "behaviour_rule must be one of 'seed', 'bvdp', got 'rfm'"),
        ("attitude_combine", "most", "attitude_combine must be one of 'all', 'any', 'majority'"),
        ("share_basis", "sum", "share_basis must be one of 'max', 'weights', got 'sum'"),
        ("attitude_signals", (), "attitude_signals must be some of nps, intent, satisfaction"),
        ("attitude_signals", ("nps", "csat"), "attitude_signals must be some of"),
        ("attitude_signals", "nps", "attitude_signals must be a tuple of"),
        ("reciprocal_top_share", 0.0, "reciprocal_top_share must be a fraction in (0, 1]"),
        ("reciprocal_top_share", 1.5, "reciprocal_top_share must be a fraction in (0, 1]"),
        ("spend_drop", float("nan"), "spend_drop must be a number, got nan"),
        ("a_n", -1.0, "a_n and a_p must be finite, >= 0 and not both 0"),
        ("point_cost", 0, "point_cost must be a positive number"),
    ],
)
def test_bad_settings_name_the_field_and_what_is_allowed(field, value, message):
    with pytest.raises(ConfigError) as info:
        LoyaltySettings(**{field: value})
    assert str(info.value).startswith(message)


def test_both_coefficients_zero_is_refused_but_one_may_be():
    with pytest.raises(ConfigError, match="not both 0"):
        LoyaltySettings(a_n=0.0, a_p=0.0)
    assert LoyaltySettings(a_n=0.0).a_p == 0.3
    assert LoyaltySettings(spend_drop=1, reciprocal_top_share=1).spend_drop == 1


def test_keywords_or_settings_not_both():
    assert loyalty_settings(keywords={"n_boot": 0}) == LoyaltySettings(n_boot=0)
    with pytest.raises(TypeError, match="not both"):
        loyalty_settings(LoyaltySettings(), {"n_boot": 0})
    with pytest.raises(TypeError, match="unexpected keyword argument 'spend_drp'"):
        loyalty_settings(keywords={"spend_drp": 0.2})
    with pytest.raises(TypeError, match="must be a LoyaltySettings, got dict"):
        loyalty_settings({"n_boot": 0})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def orders() -> pl.DataFrame:
    # three customers: a buys 4 times in 2025 (regular), b twice (one-time), c once
    tx = pl.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
            "order_date": [
                "2025-01-10",
                "2025-04-10",
                "2025-07-10",
                "2025-10-10",
                "2025-02-01",
                "2025-09-01",
                "2025-05-05",
            ],
            "amount": [100.0, 120.0, 80.0, 100.0, 50.0, 70.0, 30.0],
        }
    ).with_columns(pl.col("order_date").str.to_date())
    out, _ = prepare_orders(tx, AS_OF)
    return out


def test_analyse_loyalty_takes_settings_and_records_them(orders):
    s = LoyaltySettings(n_boot=0, regular_threshold=1.5)
    la = analyse_loyalty(orders, AS_OF, settings=s)
    assert la.settings is s
    assert la.params == {"as_of": la.as_of, **dataclasses.asdict(s)}
    # > 1.5 purchases a year: a (4) and b (2) are regular, c (1) one-time
    behaviour = dict(la.behaviour.select("customer_id", "behaviour").iter_rows())
    assert behaviour == {"a": "regular", "b": "regular", "c": "one-time"}


def test_old_keywords_give_the_same_analysis(orders):
    by_keywords = analyse_loyalty(orders, AS_OF, n_boot=0, regular_threshold=1.5)
    by_settings = analyse_loyalty(
        orders, AS_OF, settings=LoyaltySettings(n_boot=0, regular_threshold=1.5)
    )
    assert by_keywords.settings == by_settings.settings
    assert by_keywords.params == by_settings.params
    assert by_keywords.types.equals(by_settings.types)
    assert by_keywords.key_figures() == by_settings.key_figures()
    default = analyse_loyalty(orders, AS_OF, n_boot=0)
    # the default threshold 2: b's two purchases are one-time (exactly 2 is one-time)
    assert dict(default.behaviour.select("customer_id", "behaviour").iter_rows())["b"] == (
        "one-time"
    )


def test_analyse_loyalty_refuses_both_and_bad_keywords(orders):
    with pytest.raises(TypeError, match="not both"):
        analyse_loyalty(orders, AS_OF, settings=LoyaltySettings(), n_boot=0)
    with pytest.raises(ConfigError, match="spend_drop must be a fraction"):
        analyse_loyalty(orders, AS_OF, spend_drop=-0.3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nboot'"):
        analyse_loyalty(orders, AS_OF, nboot=0)
