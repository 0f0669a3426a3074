"""A four-customer data set written out inline, for the widgets' examples and quick tries.

Eight orders of customers ``C1``-``C4`` from 5 Jan to 28 Jun 2024 (no returns), with a region
per customer.  Small enough that every figure in the examples can be checked by hand:

=========  ==========  ======  ==================================
customer   region      orders  order dates (amount, USD)
=========  ==========  ======  ==================================
C1         North       3       15 Jan (100), 10 Mar (50), 20 Jun (80)
C2         South       2       1 Feb (20), 30 May (30)
C3         North       1       5 Jan (200)
C4         South       2       12 Apr (10), 28 Jun (15)
=========  ==========  ======  ==================================

For example, the net revenue of the 90 days to 28 Jun 2024 (31 Mar - 28 Jun) is
80 + 30 + 10 + 15 = 135, and 80 for the North region alone.
"""

from __future__ import annotations

import polars as pl

from workbench.presentation.widgets.state import Dataset

#: The demo orders: (customer, order id, order date, amount).
DEMO_ORDERS: tuple[tuple[str, str, str, float], ...] = (
    ("C1", "O1", "2024-01-15", 100.0),
    ("C1", "O2", "2024-03-10", 50.0),
    ("C1", "O3", "2024-06-20", 80.0),
    ("C2", "O4", "2024-02-01", 20.0),
    ("C2", "O5", "2024-05-30", 30.0),
    ("C3", "O6", "2024-01-05", 200.0),
    ("C4", "O7", "2024-04-12", 10.0),
    ("C4", "O8", "2024-06-28", 15.0),
)
#: The demo customers' regions.
DEMO_REGIONS: dict[str, str] = {"C1": "North", "C2": "South", "C3": "North", "C4": "South"}


def demo_dataset() -> Dataset:
    """The demo data (:data:`DEMO_ORDERS`, :data:`DEMO_REGIONS`) as a validated
    :class:`~workbench.presentation.widgets.state.Dataset`, without surveys.

    Examples
    --------
    >>> data = demo_dataset()
    >>> data.n_customers, data.first_date, data.last_date
    (4, datetime.date(2024, 1, 5), datetime.date(2024, 6, 28))
    >>> data.filter_options()
    {'region': ['North', 'South']}
    """
    from workbench.core.io.readers import validate_customers, validate_transactions

    cid, oid, day, amount = (list(col) for col in zip(*DEMO_ORDERS, strict=True))
    transactions = validate_transactions(
        pl.DataFrame({"customer_id": cid, "order_id": oid, "order_date": day, "amount": amount}),
        source="demo transactions")
    customers = validate_customers(
        pl.DataFrame({"customer_id": list(DEMO_REGIONS), "region": list(DEMO_REGIONS.values())}),
        source="demo customers")
    return Dataset(transactions, customers)
