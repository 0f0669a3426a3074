"""The state a dashboard holds: loaded tables, the chosen as-of date and filter, cached results.

Widgets hold no analysis logic: every panel asks this object for frames, which it computes once
per (as-of date, filter) by calling the package's pure functions, and draws them with the chart
functions of :mod:`workbench.charts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import polars as pl

from workbench import schema
from workbench.formatting import DEFAULT_CURRENCY, DEFAULT_LOCALE, NumberFormats
from workbench.io import read_customers, read_surveys, read_transactions
from workbench.prepare import prepare_orders
from workbench.quality import DataQualityReport
from workbench.rfm import no_purchases_problem, rfm_segments
from workbench.summary import customer_summary, summary_from_orders

T = TypeVar("T")


@dataclass
class Dataset:
    """The three input tables of one data directory (surveys and customers may be absent)."""

    transactions: pl.DataFrame
    customers: pl.DataFrame | None = None
    surveys: pl.DataFrame | None = None
    #: The project's as-of date (``None``: the last transaction date) when read from a
    #: project file, with its currency and locale for display.
    as_of: dt.date | None = None
    currency: str | None = None
    locale: str | None = None

    @classmethod
    def from_config(cls, config: str | Path) -> Dataset:
        """Read the tables of a project file (``workbench.toml``, :mod:`workbench.project`).

        Column mapping, amount from quantity x price, id clean-up and identical lines are
        applied as the project says; the project's as-of date, currency and locale are kept.

        Raises
        ------
        ConfigError
            The project file is invalid.
        DataValidationError
            A table breaks the data contract.

        Examples
        --------
        >>> data = Dataset.from_config("workbench.toml")  # doctest: +SKIP
        """
        from workbench.project import load_project

        project = load_project(config)
        return cls(
            project.read_transactions(),
            project.read_customers(),
            project.read_surveys(),
            as_of=project.as_of,
            currency=project.currency,
            locale=project.locale,
        )

    @classmethod
    def from_dir(cls, data_dir: str | Path) -> Dataset:
        """Read ``transactions.csv`` (required), ``customers.csv`` and ``surveys.csv``.

        Parquet files of the same names are used when present.  A project file
        (a path ending in ``.toml``) is read with :meth:`from_config` instead.
        """
        d = Path(data_dir)
        if d.suffix.lower() == ".toml":
            return cls.from_config(d)

        def find(name: str) -> Path | None:
            for suffix in (".parquet", ".csv"):
                if (d / f"{name}{suffix}").exists():
                    return d / f"{name}{suffix}"
            return None

        tx = find("transactions")
        if tx is None:
            raise FileNotFoundError(f"{d}: no transactions.csv or transactions.parquet")
        cust, surv = find("customers"), find("surveys")
        return cls(
            read_transactions(tx),
            read_customers(cust) if cust else None,
            read_surveys(surv) if surv else None,
        )

    @property
    def first_date(self) -> dt.date | None:
        """The first order date of the data (``None`` without data rows)."""
        return self.transactions[schema.ORDER_DATE].min()

    @property
    def last_date(self) -> dt.date | None:
        """The last order date of the data (``None`` without data rows)."""
        return self.transactions[schema.ORDER_DATE].max()

    def filter_options(self) -> dict[str, list[str]]:
        """Customer attributes usable as filters, with their values."""
        if self.customers is None:
            return {}
        out = {}
        for col in ("region", "channel", "customer_type", "payment_terms"):
            if col in self.customers.columns:
                values = self.customers[col].unique().to_list()
                out[col] = sorted(v for v in values if v is not None)
        return out


@dataclass
class DashboardState:
    """One view of the data: an as-of date, a comparison date and a customer filter.

    Results are cached on the instance; a new selection makes a new state
    (:meth:`with_selection`), so panels never see half-updated data.
    """

    data: Dataset
    as_of: dt.date
    period_days: int = 90
    unit: str = "W"
    rules: str = "default"
    filter_column: str | None = None
    filter_value: str | None = None
    extras: dict = field(default_factory=dict)

    @property
    def previous_as_of(self) -> dt.date:
        """End of the comparison period: one period before ``as_of``."""
        return self.as_of - dt.timedelta(days=self.period_days)

    def with_selection(self, **changes) -> DashboardState:
        """A new state with some fields changed (empty cache)."""
        fields = {
            k: getattr(self, k)
            for k in (
                "data",
                "as_of",
                "period_days",
                "unit",
                "rules",
                "filter_column",
                "filter_value",
            )
        }
        fields.update(changes)
        return DashboardState(**fields)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per state: panels share results through this cache.

        Examples
        --------
        >>> kpis = state.cached("kpis", lambda: executive_kpis(state.transactions, state.as_of))
        ... # doctest: +SKIP
        """
        if key not in self.extras:
            self.extras[key] = compute()
        return self.extras[key]

    @cached_property
    def customer_ids(self) -> pl.Series | None:
        """Ids passing the attribute filter (``None`` = no filter)."""
        if not self.filter_column or self.filter_value in (None, "", "All"):
            return None
        cust = self.data.customers
        if cust is None or self.filter_column not in cust.columns:
            return None
        return cust.filter(pl.col(self.filter_column) == self.filter_value)[schema.CUSTOMER_ID]

    def _filtered(self, frame: pl.DataFrame | None) -> pl.DataFrame | None:
        if frame is None or self.customer_ids is None:
            return frame
        return frame.filter(pl.col(schema.CUSTOMER_ID).is_in(self.customer_ids.implode()))

    @cached_property
    def transactions(self) -> pl.DataFrame:
        return self._filtered(self.data.transactions)

    @cached_property
    def surveys(self) -> pl.DataFrame | None:
        return self._filtered(self.data.surveys)

    @cached_property
    def customers(self) -> pl.DataFrame | None:
        return self._filtered(self.data.customers)

    @cached_property
    def orders_and_quality(self) -> tuple[pl.DataFrame, DataQualityReport]:
        return prepare_orders(self.transactions, self.as_of)

    @property
    def orders(self) -> pl.DataFrame:
        return self.orders_and_quality[0]

    @cached_property
    def summary(self) -> pl.DataFrame:
        return summary_from_orders(self.orders, self.as_of, self.unit)

    @cached_property
    def previous_summary(self) -> pl.DataFrame:
        return customer_summary(self.transactions, self.previous_as_of, self.unit, allow_empty=True)

    def no_purchases(self) -> str | None:
        """Why the selection has no purchase to analyse, or ``None`` when it has some.

        One sentence for viewers, e.g. ``"No customers with purchases for this selection: no
        purchases on or before 2023-01-01 (the first purchase is on 2024-01-05)."``; panels
        show it in their place.
        """
        if self.summary.height:
            return None
        problem = no_purchases_problem(self.transactions, self.as_of)
        return f"No customers with purchases for this selection: {problem}."

    @cached_property
    def trailing_revenue(self) -> pl.DataFrame:
        """Net revenue per customer of the 12 months to the as-of date: the basis of the
        top-20 % share tile and the Concentration tab (:func:`workbench.kpi.trailing_revenue`).
        """
        from workbench.kpi import trailing_revenue

        return trailing_revenue(self.orders, self.as_of)

    @property
    def formats(self) -> NumberFormats:
        """Number and currency formats of the data's currency and locale (default USD)."""
        return NumberFormats(self.data.currency or DEFAULT_CURRENCY,
                             self.data.locale or DEFAULT_LOCALE)

    @cached_property
    def segments(self) -> pl.DataFrame:
        return rfm_segments(self.summary, self.rules)

    @cached_property
    def previous_segments(self) -> pl.DataFrame:
        """Segments at :attr:`previous_as_of`; empty when nobody had bought by then."""
        return rfm_segments(self.previous_summary, self.rules, allow_empty=True)
