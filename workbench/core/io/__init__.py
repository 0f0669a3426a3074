"""Readers for the workbench's input tables; the data contract is
:mod:`workbench.core.io.readers`."""

from workbench.core.io.cdnow import read_cdnow
from workbench.core.io.options import ReadOptions
from workbench.core.io.readers import (
    DEFAULT_MAX_ABS_AMOUNT,
    DEFAULT_MAX_DATE,
    DEFAULT_MIN_DATE,
    MISSING_CUSTOMER_ID,
    clean_ids,
    read_customers,
    read_surveys,
    read_table,
    read_transactions,
    split_missing_customer_id,
    validate_customers,
    validate_surveys,
    validate_transactions,
)

__all__ = [
    "DEFAULT_MAX_ABS_AMOUNT",
    "DEFAULT_MAX_DATE",
    "DEFAULT_MIN_DATE",
    "MISSING_CUSTOMER_ID",
    "ReadOptions",
    "clean_ids",
    "read_cdnow",
    "read_customers",
    "read_surveys",
    "read_table",
    "read_transactions",
    "split_missing_customer_id",
    "validate_customers",
    "validate_surveys",
    "validate_transactions",
]
