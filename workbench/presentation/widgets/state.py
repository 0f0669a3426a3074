"""The state a dashboard holds: loaded tables, the chosen as-of date and filter, cached results.

Widgets hold no analysis logic: every panel asks this object for frames, which it computes once
per (as-of date, filter) by calling the package's pure functions, and draws them with the chart
functions of :mod:`workbench.presentation.charts`.

With a results cache (:mod:`workbench.core.cache`, :meth:`Dataset.open`) every result a panel asks
for through :meth:`DashboardState.cached` is computed once per (data content, settings, as-of
date, filter) for all kernels and processes, and loaded from disk afterwards; the tables
themselves are then only read when a result is missing (:class:`CachedDataset`), so a
dashboard kernel that finds everything in the cache never holds the raw data.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import polars as pl

from workbench.core import schema
from workbench.presentation.formatting import DEFAULT_CURRENCY, DEFAULT_LOCALE, NumberFormats

if TYPE_CHECKING:
    from workbench.core.cache import Kind, ResultsCache
    from workbench.core.quality import DataQualityReport
    from workbench.core.summary import Unit

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
    #: The results cache shared by the dashboards of this data (``None``: results are kept
    #: in memory only), and the content hash of the data and project settings it is keyed by.
    cache: ResultsCache | None = field(default=None, repr=False, compare=False)
    fingerprint: str | None = field(default=None, repr=False, compare=False)
    #: Lines of the transactions file without a customer id, set aside as the project file
    #: asks (``missing_customer_id = "set_aside"``); counted, never analysed.
    lines_without_customer_id: int = 0

    @classmethod
    def from_config(cls, config: str | Path) -> Dataset:
        """Read the tables of a project file (``workbench.toml``, :mod:`workbench.core.project`).

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
        A project file (written to a temporary folder here) on the sample transactions:

        >>> import tempfile
        >>> from pathlib import Path
        >>> folder = Path(tempfile.mkdtemp())
        >>> tx = Path("sample_data/transactions.csv").resolve().as_posix()
        >>> _ = (folder / "workbench.toml").write_text(
        ...     f'[project]\\ncurrency = "EUR"\\nas_of = "2025-12-31"\\n'
        ...     f'[transactions]\\npath = "{tx}"\\n')
        >>> data = Dataset.from_config(folder / "workbench.toml")
        >>> data.as_of, data.currency, data.last_date  # sample data: 2024-01-01 to 2026-06-30
        (datetime.date(2025, 12, 31), 'EUR', datetime.date(2026, 6, 30))
        >>> import shutil; shutil.rmtree(folder)
        """
        from workbench.core.project import load_project

        project = load_project(config)
        transactions, without_id = project.read_lines()
        return cls(
            transactions,
            project.read_customers(),
            project.read_surveys(),
            as_of=project.as_of,
            currency=project.currency,
            locale=project.locale,
            lines_without_customer_id=without_id.height,
        )

    @classmethod
    def from_dir(cls, data_dir: str | Path) -> Dataset:
        """Read ``transactions.csv`` (required), ``customers.csv`` and ``surveys.csv``.

        Parquet files of the same names are used when present.  A project file
        (a path ending in ``.toml``) is read with :meth:`from_config` instead.
        """
        from workbench.core.io import read_customers, read_surveys, read_transactions

        d = Path(data_dir)
        if d.suffix.lower() == ".toml":
            return cls.from_config(d)
        tx, cust, surv = (_find_table(d, name) for name in ("transactions", "customers",
                                                             "surveys"))
        if tx is None:
            raise FileNotFoundError(f"{d}: no transactions.csv or transactions.parquet")
        return cls(
            read_transactions(tx),
            read_customers(cust) if cust else None,
            read_surveys(surv) if surv else None,
        )

    @classmethod
    def open(cls, source: str | Path, cache_dir: str | os.PathLike[str] | None = None
             ) -> Dataset:
        """The data of a folder or project file, served through the results cache.

        Returns a :class:`CachedDataset`, which reads the tables only when a result is not in
        the cache; with the cache turned off (``WORKBENCH_CACHE=0``) the tables are read now
        (:meth:`from_dir`).

        Parameters
        ----------
        source
            A data folder or a project file (``.toml``).
        cache_dir
            Cache directory; default ``WORKBENCH_CACHE_DIR`` or
            :func:`workbench.core.cache.default_cache_dir`.

        Raises
        ------
        FileNotFoundError, ConfigError, DataValidationError
            As :meth:`from_dir`, when the data (not yet in the cache) cannot be read.

        Examples
        --------
        The sample data (2024-01-01 to 2026-06-30), with a cache in a temporary folder; the
        first opening reads the tables, a second one finds what it needs in the cache:

        >>> import tempfile
        >>> cache_dir = tempfile.mkdtemp()
        >>> data = Dataset.open("sample_data", cache_dir)
        >>> type(data).__name__, data.last_date, data.loaded
        ('CachedDataset', datetime.date(2026, 6, 30), True)
        >>> again = Dataset.open("sample_data", cache_dir)
        >>> again.last_date, again.loaded
        (datetime.date(2026, 6, 30), False)
        >>> import shutil; shutil.rmtree(cache_dir)
        """
        from workbench.core.cache import open_cache

        cache = open_cache(source, cache_dir)
        if cache is None:
            return cls.from_dir(source)
        return CachedDataset(source, cache)

    @property
    def first_date(self) -> dt.date | None:
        """The first order date of the data (``None`` without data rows)."""
        # a Date column: its minimum is a date (Polars types ``min()`` as any scalar)
        return cast("dt.date | None", self.transactions[schema.ORDER_DATE].min())

    @property
    def last_date(self) -> dt.date | None:
        """The last order date of the data (``None`` without data rows)."""
        return cast("dt.date | None", self.transactions[schema.ORDER_DATE].max())

    @property
    def n_customers(self) -> int:
        """Distinct customers with a transaction."""
        return self.transactions[schema.CUSTOMER_ID].n_unique()

    def filter_options(self) -> dict[str, list[str]]:
        """Customer attributes usable as filters, with their values."""
        if self.customers is None:
            return {}
        out: dict[str, list[str]] = {}
        for col in ("region", "channel", "customer_type", "payment_terms"):
            if col in self.customers.columns:
                values = self.customers[col].unique().to_list()
                out[col] = sorted(v for v in values if v is not None)
        return out

    def describe(self) -> dict[str, Any]:
        """What a dashboard shows before any analysis: dates, customers, filters, project
        as-of date, currency and locale (JSON-ready; cached by :class:`CachedDataset`)."""
        return {"first_date": self.first_date, "last_date": self.last_date,
                "n_customers": self.n_customers, "filter_options": self.filter_options(),
                "as_of": self.as_of, "currency": self.currency, "locale": self.locale,
                "lines_without_customer_id": self.lines_without_customer_id}


def _find_table(folder: Path, name: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        if (folder / f"{name}{suffix}").exists():
            return folder / f"{name}{suffix}"
    return None


def data_fingerprint(source: str | Path, memo_dir: str | Path | None = None) -> str:
    """Content hash of a data folder or project file: the tables' bytes and the project file.

    Changing a data file or a project setting (column mapping, as-of date, currency...) gives
    another fingerprint, so results cached for the old ones are not used.

    Examples
    --------
    >>> data_fingerprint("sample_data") == data_fingerprint("sample_data")
    True
    >>> data_fingerprint("sample_data") == data_fingerprint("sample_data/cdnow")
    False
    """
    from workbench.core.cache import file_digest, make_key

    src = Path(source)
    parts: list[Any] = []
    if src.suffix.lower() == ".toml":
        from workbench.core.project import load_project

        project = load_project(src)
        parts.append(("project", file_digest(src, memo_dir)))
        for table in (project.transactions, project.customers, project.surveys):
            if table is not None and Path(table.path).is_file():
                parts.append((table.table, file_digest(table.path, memo_dir)))
    else:
        for name in ("transactions", "customers", "surveys"):
            path = _find_table(src, name)
            if path is not None:
                parts.append((path.name, file_digest(path, memo_dir)))
    return make_key("data", parts)


class CachedDataset(Dataset):
    """A :class:`Dataset` that reads its tables only when a result is missing from the cache.

    The dates, customer count and filter values the dashboard needs before any panel are a
    cached result too (:meth:`Dataset.describe`), so opening a dashboard on cached data reads
    no table.  The fingerprint (:func:`data_fingerprint`) is taken when the object is made.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.core.cache import ResultsCache
    >>> cache = ResultsCache(tempfile.mkdtemp())
    >>> CachedDataset("sample_data", cache).n_customers  # read: the sample has 20,000
    20000
    >>> data = CachedDataset("sample_data", cache)
    >>> data.n_customers, data.loaded  # from the cache: no table read
    (20000, False)
    >>> import shutil; shutil.rmtree(cache.root)
    """

    def __init__(self, source: str | Path, cache: ResultsCache) -> None:
        from workbench.core.cache import code_version, make_key

        self.source = Path(source)
        self.cache = cache
        self.fingerprint = data_fingerprint(self.source, cache.files_dir)
        self._tables: Dataset | None = None
        meta = cache.get_or_compute(make_key("describe", self.fingerprint, code_version()),
                                    lambda: self.tables.describe(), kind="json")
        self._meta: dict[str, Any] = meta
        self.as_of = meta.get("as_of")
        self.currency = meta.get("currency")
        self.locale = meta.get("locale")
        self.lines_without_customer_id = int(meta.get("lines_without_customer_id") or 0)

    def __repr__(self) -> str:
        return f"CachedDataset({str(self.source)!r}, {self.cache!r})"

    @property
    def tables(self) -> Dataset:
        """The tables, read on first use."""
        if self._tables is None:
            self._tables = Dataset.from_dir(self.source)
        return self._tables

    @property
    def loaded(self) -> bool:
        """Whether the tables have been read."""
        return self._tables is not None

    # The tables are read-only views of the data source: setting one raises AttributeError
    # (the setters exist so that the properties may stand in for the Dataset fields).
    @property
    def transactions(self) -> pl.DataFrame:
        return self.tables.transactions

    @transactions.setter
    def transactions(self, value: pl.DataFrame) -> None:
        raise AttributeError("CachedDataset.transactions is read from the data source")

    @property
    def customers(self) -> pl.DataFrame | None:
        return self.tables.customers

    @customers.setter
    def customers(self, value: pl.DataFrame | None) -> None:
        raise AttributeError("CachedDataset.customers is read from the data source")

    @property
    def surveys(self) -> pl.DataFrame | None:
        return self.tables.surveys

    @surveys.setter
    def surveys(self, value: pl.DataFrame | None) -> None:
        raise AttributeError("CachedDataset.surveys is read from the data source")

    @property
    def first_date(self) -> dt.date | None:
        return self._meta.get("first_date")

    @property
    def last_date(self) -> dt.date | None:
        return self._meta.get("last_date")

    @property
    def n_customers(self) -> int:
        return int(self._meta.get("n_customers") or 0)

    def filter_options(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in (self._meta.get("filter_options") or {}).items()}


@dataclass
class DashboardState:
    """One view of the data: an as-of date, a comparison date and a customer filter.

    Results are cached on the instance; a new selection makes a new state
    (:meth:`with_selection`), so panels never see half-updated data.  When the data has a
    results cache (:meth:`Dataset.open`), :meth:`cached` also stores results there, shared by
    every kernel.
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

    @property
    def has_filter(self) -> bool:
        """Whether a customer filter applies (known without reading the customers table)."""
        if not self.filter_column or self.filter_value in (None, "", "All"):
            return False
        if isinstance(self.data, CachedDataset):
            return self.filter_column in self.data.filter_options()
        cust = self.data.customers
        return cust is not None and self.filter_column in cust.columns

    @cached_property
    def view_key(self) -> tuple:
        """What the results of this state depend on besides the data: the as-of date, period,
        time unit, segment rules (by content when a file) and the filter."""
        rules: Any = self.rules
        if isinstance(rules, (str, Path)) and Path(rules).is_file():
            from workbench.core.cache import file_digest

            rules = ("file", file_digest(rules))
        filt = (self.filter_column, self.filter_value) if self.has_filter else None
        return (self.as_of, self.period_days, self.unit, str(rules), filt)

    def cache_key(self, key: str) -> str | None:
        """The results-cache key of result ``key`` of this state (``None`` without a cache)."""
        if self.data.cache is None or self.data.fingerprint is None:
            return None
        from workbench.core.cache import code_version, make_key

        return make_key("state", self.data.fingerprint, code_version(), self.view_key, key)

    def cached(self, key: str, compute: Callable[[], T], kind: Kind = "auto") -> T:
        """``compute()`` once per state: panels share results through this cache.

        With a results cache on the data the result is also looked up there first and stored
        there after computing (frames as Parquet, scalars as JSON, other objects pickled), so
        other kernels, later selections of the same view and restarts reuse it.

        Examples
        --------
        >>> import datetime as dt
        >>> from workbench.presentation.widgets.demo import demo_dataset
        >>> state = DashboardState(demo_dataset(), dt.date(2024, 6, 28))
        >>> state.cached("orders", lambda: state.transactions.height)  # 8 demo orders
        8
        >>> state.cached("orders", lambda: 0)  # computed once per state
        8
        """
        if key not in self.extras:
            cache, full = self.data.cache, self.cache_key(key)
            if cache is None or full is None:
                self.extras[key] = compute()
            else:
                self.extras[key] = cache.get_or_compute(full, compute, kind)
        return self.extras[key]

    @cached_property
    def customer_ids(self) -> pl.Series | None:
        """Ids passing the attribute filter (``None`` = no filter)."""
        if not self.has_filter:
            return None
        cust = self.data.customers
        if cust is None or self.filter_column not in cust.columns:
            return None
        return cust.filter(pl.col(self.filter_column) == self.filter_value)[schema.CUSTOMER_ID]

    @overload
    def _filtered(self, frame: pl.DataFrame) -> pl.DataFrame: ...

    @overload
    def _filtered(self, frame: None) -> None: ...

    @overload
    def _filtered(self, frame: pl.DataFrame | None) -> pl.DataFrame | None: ...

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
        from workbench.core.prepare import prepare_orders

        return prepare_orders(self.transactions, self.as_of)

    @property
    def orders(self) -> pl.DataFrame:
        return self.cached("orders", lambda: self.orders_and_quality[0], "frame")

    @property
    def summary(self) -> pl.DataFrame:
        from workbench.core.summary import summary_from_orders

        # the unit is checked by the summary function (a clear error when not D, W or M)
        return self.cached("summary", lambda: summary_from_orders(
            self.orders, self.as_of, cast("Unit", self.unit)), "frame")

    @property
    def customer_count(self) -> int:
        """Customers who bought by the as-of date (the rows of :attr:`summary`).

        Cached as a number, so a kernel whose panels show only the count (the segment chart's
        subtitle) never loads the per-customer summary from the results cache.

        Examples
        --------
        >>> import datetime as dt
        >>> from workbench.presentation.widgets.demo import demo_dataset
        >>> DashboardState(demo_dataset(), dt.date(2024, 6, 28)).customer_count  # 4 demo buyers
        4
        """
        return int(self.cached("customer_count", lambda: self.summary.height, "json"))

    @property
    def previous_summary(self) -> pl.DataFrame:
        from workbench.core.summary import customer_summary

        return self.cached("previous_summary", lambda: customer_summary(
            self.transactions, self.previous_as_of, cast("Unit", self.unit), allow_empty=True),
                           "frame")

    def no_purchases(self) -> str | None:
        """Why the selection has no purchase to analyse, or ``None`` when it has some.

        One sentence for viewers; panels show it in their place. It says "for this selection"
        only when a customer filter applies (:attr:`has_filter`), and names no file path.

        Examples
        --------
        The demo data (:mod:`workbench.presentation.widgets.demo`) start on 5 Jan 2024:

        >>> import datetime as dt
        >>> from workbench.presentation.widgets.demo import demo_dataset
        >>> DashboardState(demo_dataset(), dt.date(2023, 12, 31)).no_purchases()
        'No customers with purchases on or before 2023-12-31 (the first purchase is on 2024-01-05).'
        >>> DashboardState(demo_dataset(), dt.date(2024, 6, 28)).no_purchases() is None
        True
        """

        def compute() -> str | None:
            if self.summary.height:
                return None
            from workbench.analyses.rfm import no_purchases_problem

            lead = "No customers with purchases"
            if self.has_filter:
                lead += " for this selection"
                if self.transactions.height == 0 and self.data.transactions.height > 0:
                    return f"{lead}: the selected customers have no transactions."
            problem = no_purchases_problem(self.transactions, self.as_of)
            # the problem starts "no purchases: <why>" or "no purchases on or before <date> ..."
            # (workbench.core.summary.no_purchases_problem): say "no purchases" once
            rest = problem.removeprefix("no purchases")
            if rest == problem:  # another wording: keep it whole after a colon
                rest = f": {problem}"
            return f"{lead}{rest}."

        return self.cached("no_purchases", compute, "json")

    @property
    def trailing_revenue(self) -> pl.DataFrame:
        """Net revenue per customer of the 12 months to the as-of date: the basis of the
        top-20 % share tile and the Concentration tab
        (:func:`workbench.analyses.kpi.trailing_revenue`).
        """
        from workbench.analyses.kpi import trailing_revenue

        return self.cached("trailing_revenue", lambda: trailing_revenue(self.orders, self.as_of),
                           "frame")

    @property
    def formats(self) -> NumberFormats:
        """Number and currency formats of the data's currency and locale (default USD)."""
        return NumberFormats(self.data.currency or DEFAULT_CURRENCY,
                             self.data.locale or DEFAULT_LOCALE)

    @property
    def segments(self) -> pl.DataFrame:
        from workbench.analyses.rfm import rfm_segments

        return self.cached("segments", lambda: rfm_segments(self.summary, self.rules), "frame")

    @property
    def previous_segments(self) -> pl.DataFrame:
        """Segments at :attr:`previous_as_of`; empty when nobody had bought by then."""
        from workbench.analyses.rfm import rfm_segments

        return self.cached("previous_segments", lambda: rfm_segments(
            self.previous_summary, self.rules, allow_empty=True), "frame")
