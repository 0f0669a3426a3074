"""Every face survives empty and odd data: the library, the dashboard state and panels.

The odd inputs: header-only transactions, all-returns data, an as-of date before the first
purchase, exactly one customer, and no repeat buyer.  Each analysis either works where the
result is well defined (RFM, Pareto and KPIs on one customer or on one-time buyers) or raises
one clear error: a :class:`~workbench.errors.DataValidationError` when there is no purchase to
analyse, a :class:`~workbench.errors.ModelError` stating the minimum when a model cannot be
fitted.  The report notebooks are run on the same cases in ``test_empty_reports.py``.
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as widgets
import polars as pl
import pytest

import workbench as wb
from workbench.analyses import loyalty
from workbench.analyses.rfm import no_purchases_problem, require_purchases
from workbench.core.io import validate_transactions
from workbench.errors import DataValidationError, ModelError
from workbench.models import clv
from workbench.presentation.widgets import ExecutiveDashboard
from workbench.presentation.widgets.panel import error_html, strip_paths, viewer_message
from workbench.presentation.widgets.state import DashboardState, Dataset

AS_OF = dt.date(2024, 12, 31)
BEFORE = dt.date(2023, 1, 1)


def transactions(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={"customer_id": pl.String, "order_date": pl.String,
                                       "amount": pl.String}, orient="row")
    return validate_transactions(frame)


EMPTY = transactions([])
ALL_RETURNS = transactions([("a", "2024-01-01", "-10"), ("b", "2024-02-01", "-5")])
ONE_CUSTOMER = transactions([("a", "2024-01-01", "10"), ("a", "2024-03-01", "5"),
                             ("a", "2024-06-01", "7")])
NO_REPEAT = transactions([("a", "2024-01-01", "10"), ("b", "2024-03-01", "5"),
                          ("c", "2024-06-01", "7")])

#: (transactions, as-of date, expected words of the DataValidationError)
NO_PURCHASE = {
    "header-only": (EMPTY, AS_OF, "no data rows"),
    "all-returns": (ALL_RETURNS, AS_OF, "all 2 rows are returns"),
    "as-of-before-first": (ONE_CUSTOMER, BEFORE,
                           "no purchases on or before 2023-01-01 (the first purchase is on "
                           "2024-01-01)"),
}
TOO_FEW = {"one-customer": ONE_CUSTOMER, "no-repeat-buyer": NO_REPEAT}


def summary_of(tx: pl.DataFrame, as_of: dt.date = AS_OF) -> pl.DataFrame:
    return wb.customer_summary(tx, as_of, allow_empty=True)


# -- no purchase on or before the as-of date ------------------------------------------------------


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", NO_PURCHASE)
def test_no_purchase_is_one_data_validation_error(case):
    tx, as_of, words = NO_PURCHASE[case]
    pattern = words.replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(DataValidationError, match=pattern):  # the summary says why
        wb.customer_summary(tx, as_of)
    summary = summary_of(tx, as_of)
    assert summary.height == 0  # with allow_empty, an empty table
    with pytest.raises(DataValidationError, match="no customers with a purchase") as info:
        wb.rfm_segments(summary)
    assert info.value.column is None
    calls = {
        "rfm_scores": lambda: wb.rfm_scores(summary),
        "top_share": lambda: wb.top_share(summary),
        "gini": lambda: wb.gini(summary),
        "lorenz_curve": lambda: wb.lorenz_curve(summary),
        "pareto_table": lambda: wb.pareto_table(summary),
        "fit_clv": lambda: clv.fit_clv(summary),
        "check_clv_data": lambda: clv.check_clv_data(summary, as_of=as_of, transactions=tx),
    }
    for name, call in calls.items():
        with pytest.raises(DataValidationError, match="no "):
            call()
            pytest.fail(f"{name} did not raise")
    with pytest.raises(DataValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        wb.executive_kpis(tx, as_of)
    with pytest.raises(DataValidationError, match="no purchases"):
        clv.clv_table(tx, as_of)
    with pytest.raises(DataValidationError, match="no purchases"):
        loyalty.purchase_model_inputs(tx, as_of)
    orders, _ = wb.prepare_orders(tx, as_of)
    with pytest.raises(DataValidationError, match="no customers with a purchase on or before"):
        loyalty.analyse_loyalty(orders, as_of, n_boot=0)
    with pytest.raises(DataValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        require_purchases(summary, as_of, tx, source="transactions.csv")


@pytest.mark.parametrize("case", NO_PURCHASE)
def test_models_on_no_customer_raise_model_errors(case):
    tx, as_of, _ = NO_PURCHASE[case]
    summary = summary_of(tx, as_of)
    for model in (clv.BetaGeoModel(), clv.ParetoNBDModel(), clv.GammaGammaModel()):
        with pytest.raises(ModelError, match="needs at least 2 customers") as info:
            model.fit(summary)
        assert "found 0 (the summary has no customers)" in str(info.value)


def test_no_purchases_problem_wording():
    assert no_purchases_problem(EMPTY, AS_OF) == "no purchases: the transactions have no data rows"
    assert no_purchases_problem(ALL_RETURNS.head(1), AS_OF) == (
        "no purchases: the only row is a return (amounts of zero or less)")
    assert no_purchases_problem(ONE_CUSTOMER, "2023-01-01") == (
        "no purchases on or before 2023-01-01 (the first purchase is on 2024-01-01)")
    # a purchase and its return: a positive amount, but nothing left once returns are netted
    cancelled = transactions([("a", "2024-01-01", "10"), ("a", "2024-01-05", "-10")])
    assert no_purchases_problem(cancelled, AS_OF) == (
        "no purchases on or before 2024-12-31 once returns are netted")
    assert no_purchases_problem(None, AS_OF) == (
        "no customers with a purchase on or before 2024-12-31")


# -- too little for a model, fine for RFM ---------------------------------------------------------


@pytest.mark.parametrize("case", TOO_FEW)
def test_models_state_their_minimum(case):
    summary = summary_of(TOO_FEW[case])
    n, repeat = summary.height, int((summary["frequency"] > 0).sum())
    among = f"among {n} customer" + ("s" if n != 1 else "")
    for model, name in ((clv.BetaGeoModel(), "BG/NBD"), (clv.ParetoNBDModel(), "Pareto/NBD")):
        with pytest.raises(ModelError) as info:
            model.fit(summary)
        assert str(info.value) == (f"{name} needs at least 2 customers with repeat purchases; "
                                   f"found {repeat} {among}")
        assert isinstance(info.value, ValueError)  # callers catching ValueError keep working
    with pytest.raises(ModelError, match="Gamma-Gamma needs at least 2 customers"):
        clv.GammaGammaModel().fit(summary)
    with pytest.raises(ModelError, match="BG/NBD needs at least 2 customers with repeat"):
        clv.fit_clv(summary)
    with pytest.raises(ModelError, match="Pareto/NBD needs at least 2"):
        clv.check_clv_data(summary, "paretonbd")
    with pytest.raises(ModelError, match="at least 3 repeat customers"):
        clv.check_spend_frequency_independence(summary)
    with pytest.raises(ModelError, match="BG/NBD needs"):
        loyalty.purchase_model_inputs(TOO_FEW[case], AS_OF)


def test_one_customer_gets_documented_middle_scores():
    summary = summary_of(ONE_CUSTOMER)
    segments = wb.rfm_segments(summary)
    assert segments.select("R", "F", "M").row(0) == (3, 3, 3)
    assert segments["segment"].to_list() == ["Potential Loyalist"]
    assert wb.top_share(summary) == 1.0 and wb.gini(summary) == 0.0
    assert wb.pareto_table(summary)["customers"].to_list() == [1] * 5
    table = wb.segment_table(segments, summary)
    assert table["customer_share"].to_list() == [1.0]


def test_no_repeat_buyer_shares_the_frequency_score():
    summary = summary_of(NO_REPEAT)
    scores = wb.rfm_scores(summary)
    assert scores["F"].unique().to_list() == [3]  # all tie: one shared score
    assert sorted(scores["R"].to_list()) == [1, 3, 5]  # recency still ranks
    kpis = {r["kpi"]: r for r in wb.executive_kpis(NO_REPEAT, AS_OF).iter_rows(named=True)}
    assert kpis["repeat_rate"]["value"] == 0.0


def test_empty_previous_segments_mean_everyone_is_new():
    # the comparison date lies before the first purchase: "No purchase yet", not an error
    previous = wb.rfm_segments(summary_of(NO_REPEAT, BEFORE), allow_empty=True)
    assert previous.height == 0
    moves = wb.segment_migration(previous, wb.rfm_segments(summary_of(NO_REPEAT)))
    assert set(moves["segment_from"]) == {wb.NO_PURCHASE_YET}
    history = wb.segment_history(NO_REPEAT, [BEFORE, AS_OF])
    assert history["as_of"].unique().to_list() == [AS_OF]
    with pytest.raises(DataValidationError, match="no customers at the later date"):
        wb.segment_migration(previous, previous)


@pytest.mark.filterwarnings("ignore:value_index:UserWarning")
def test_loyalty_runs_on_one_customer_and_one_time_buyers():
    for tx in TOO_FEW.values():
        orders, _ = wb.prepare_orders(tx, AS_OF)
        la = loyalty.analyse_loyalty(orders, AS_OF, n_boot=0)
        assert la.behaviour.height == tx["customer_id"].n_unique()


# -- what dashboard viewers see ------------------------------------------------------------------


def test_viewer_message_has_no_server_path_and_no_values():
    err = DataValidationError("/srv/secret/data/transactions.csv", "amount",
                              "text in a numeric column", [3, 9], ["Jane Doe", "12 Main St"], 2)
    text = viewer_message(err)
    assert text == ("transactions.csv: column 'amount': text in a numeric column in 2 rows; "
                    "first rows: 3, 9")
    assert "/srv" not in error_html(err) and "Jane" not in error_html(err)
    missing = FileNotFoundError("/srv/secret/data: no transactions.csv or transactions.parquet")
    assert viewer_message(missing) == "data: no transactions.csv or transactions.parquet"
    assert strip_paths("BG/NBD and Pareto/NBD, 1/2") == "BG/NBD and Pareto/NBD, 1/2"
    assert len(viewer_message(ValueError("x" * 5000))) <= 300


def panel_texts(dash: ExecutiveDashboard) -> dict[str, str]:
    out = {}
    for panel in dash.panels:
        parts, todo = [], list(panel.widget.children)
        while todo:
            w = todo.pop(0)
            if isinstance(w, widgets.HTML):
                parts.append(w.value)
            todo.extend(getattr(w, "children", ()))
        out[type(panel).__name__] = " ".join(parts)
    return out


@pytest.mark.parametrize("case", NO_PURCHASE)
def test_every_panel_says_there_is_no_purchase(case):
    tx, as_of, words = NO_PURCHASE[case]
    dash = ExecutiveDashboard(Dataset(tx), as_of=as_of, lazy=False)
    assert dash.state is not None and dash.message.layout.display == "none"
    texts = panel_texts(dash)
    assert set(texts) == {"KpiPanel", "SegmentsPanel", "MigrationPanel", "ParetoPanel",
                          "ClvPanel", "AtRiskExport", "LoyaltyPanel", "CohortPanel",
                          "CustomerView"}
    for name, text in texts.items():
        if name in ("CustomerView", "AtRiskExport"):  # an id / a list to export: nothing yet
            assert "wb-error" not in text and "Traceback" not in text, name
            continue
        assert "wb-notice" in text and words.replace("(", "").split()[0] in text, name
        assert "wb-error" not in text and "Traceback" not in text, name
    assert all(tile.layout.display == "none" for tile in dash.kpis.tiles.values())


def test_header_only_data_builds_a_dashboard_with_messages():
    dash = ExecutiveDashboard(Dataset(EMPTY), lazy=False)
    assert "No transactions in the data" in dash.status.value
    assert "the transactions have no data rows" in panel_texts(dash)["SegmentsPanel"]


@pytest.mark.parametrize("case", TOO_FEW)
def test_panels_on_too_few_repeat_customers(case):
    dash = ExecutiveDashboard(Dataset(TOO_FEW[case]), as_of=AS_OF, lazy=False)
    texts = panel_texts(dash)
    for name in ("KpiPanel", "SegmentsPanel", "MigrationPanel", "ParetoPanel", "LoyaltyPanel"):
        assert "wb-error" not in texts[name], (name, texts[name][:300])
    assert "Lifetime value could not be computed for this selection: BG/NBD needs at least 2 " \
           "customers with repeat purchases" in texts["ClvPanel"]
    assert "Early warnings are ranked without P(alive)" in texts["LoyaltyPanel"]
    assert "No survey data" in texts["LoyaltyPanel"]


def test_state_message_for_a_filtered_selection():
    customers = pl.DataFrame({"customer_id": ["a", "b", "c", "z"],
                              "region": ["N", "N", "S", "E"]})
    state = DashboardState(Dataset(NO_REPEAT, customers), AS_OF, filter_column="region",
                           filter_value="E")
    assert state.no_purchases() == ("No customers with purchases for this selection: the "
                                    "selected customers have no transactions.")
    assert DashboardState(Dataset(NO_REPEAT, customers), AS_OF).no_purchases() is None
    # a selected customer who bought, but only after the as-of date
    north = DashboardState(Dataset(NO_REPEAT, customers), BEFORE, filter_column="region",
                           filter_value="N")
    assert north.no_purchases() == ("No customers with purchases for this selection on or "
                                    "before 2023-01-01 (the first purchase is on 2024-01-01).")


@pytest.mark.parametrize(("tx", "as_of", "expected"), [
    (EMPTY, AS_OF, "No customers with purchases: the transactions have no data rows."),
    (ONE_CUSTOMER, BEFORE, "No customers with purchases on or before 2023-01-01 (the first "
                           "purchase is on 2024-01-01)."),
    (ALL_RETURNS, AS_OF, "No customers with purchases: all 2 rows are returns (amounts of zero "
                         "or less)."),
])
def test_state_message_without_a_filter(tx, as_of, expected):
    """No filter chosen: the sentence neither blames "this selection" nor repeats "no
    purchases"; an "All" filter value is no filter."""
    assert DashboardState(Dataset(tx), as_of).no_purchases() == expected
    customers = pl.DataFrame({"customer_id": ["a", "b"], "region": ["N", "S"]})
    assert DashboardState(Dataset(tx, customers), as_of, filter_column="region",
                          filter_value="All").no_purchases() == expected


def test_unreadable_data_dir_shows_file_name_not_path_or_values(tmp_path):
    folder = tmp_path / "secret-folder"
    folder.mkdir()
    (folder / "transactions.csv").write_text(
        "customer_id,order_date,amount\nC1,2024-01-01,10\nC2,2024-01-02,Jane Doe\n")
    dash = ExecutiveDashboard.from_dir(folder)
    text = dash.widget.children[0].value
    assert "could not be read" in text and "transactions.csv" in text and "amount" in text
    assert str(tmp_path) not in text and "secret-folder" not in text and "Jane" not in text
    assert dash.state is None
