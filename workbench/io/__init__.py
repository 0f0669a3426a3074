"""Readers for the workbench's input tables (the data contract of ``DOMAIN.md`` §1)."""

from workbench.io.cdnow import read_cdnow
from workbench.io.readers import (
    read_customers,
    read_surveys,
    read_table,
    read_transactions,
    validate_customers,
    validate_surveys,
    validate_transactions,
)

__all__ = [
    "read_cdnow",
    "read_customers",
    "read_surveys",
    "read_table",
    "read_transactions",
    "validate_customers",
    "validate_surveys",
    "validate_transactions",
]
