"""How to read an input file: :class:`ReadOptions`, one frozen set of reader settings.

The readers of :mod:`workbench.core.io.readers` (``read_transactions``, ``read_customers``,
``read_surveys`` and their ``validate_*`` twins) share the same dialect, column and range
settings.  They are gathered here once, validated once when the object is built, and can be
printed or saved with :func:`dataclasses.asdict`.  The rules behind each field are the data
contract in the module docstring of :mod:`workbench.core.io.readers` and docs/data-rules.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final

from workbench.errors import ConfigError, clip

#: Earliest accepted date in any date column (``min_date=`` changes it).
DEFAULT_MIN_DATE: Final = dt.date(1900, 1, 1)
#: Latest accepted date in any date column (``max_date=`` changes it).
DEFAULT_MAX_DATE: Final = dt.date(2200, 12, 31)
#: Largest accepted absolute value of amount, margin, cost and quantity (``max_abs_amount=``).
DEFAULT_MAX_ABS_AMOUNT: Final = 1e12
#: Choices of ``id_case=``: letter case of ``customer_id`` and ``order_id``.
ID_CASES: Final = ("keep", "upper", "lower")
#: Choices of ``missing_customer_id=`` (transactions): refuse lines without a customer id,
#: or keep them (with a null ``customer_id``) for ``split_missing_customer_id``.
MISSING_CUSTOMER_ID: Final = ("refuse", "keep")

#: Fields that only the transactions readers use (the customers and surveys readers ignore
#: them when given in a :class:`ReadOptions`, and refuse them as keywords, as before).
TRANSACTION_ONLY: Final = ("max_abs_amount", "amount_from", "missing_customer_id")


def as_date(value: object, name: str) -> dt.date:
    """``value`` (a date, a date-time or ISO ``YYYY-MM-DD`` text) as a date.

    Raises
    ------
    workbench.errors.ConfigError
        The text is not an ISO date; the message names the setting ``name``.

    Examples
    --------
    >>> as_date("2024-03-01", "min_date")
    datetime.date(2024, 3, 1)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"{name}: cannot read {clip(repr(value), 40)} as a date (use YYYY-MM-DD)"
        ) from None


@dataclass(frozen=True)
class ReadOptions:
    """Settings of the input readers, validated once (rules: :mod:`workbench.core.io.readers`).

    Attributes
    ----------
    columns
        Renames ``{your_name: canonical_name}`` applied before validation (``None``: none).
    date_format
        A strptime format forcing how date text is parsed (``None``: ISO and compact dates).
    timezone
        Business time zone: offsets in date-times are converted to it before the date is taken
        (default ``"UTC"``).
    separator
        CSV field separator, one character; ``None`` (default) means a tab for ``.tsv`` and a
        comma otherwise.  Ignored for Parquet files and frames.
    encoding
        CSV text encoding: ``"utf8"`` (default), ``"utf8-lossy"`` or a Python codec name.
    quote_char
        CSV quote character (default ``'"'``); ``None`` turns quoting off.
    min_date, max_date
        Accepted range of every date column (dates; ISO text is converted): defaults
        :data:`DEFAULT_MIN_DATE` (1900-01-01) and :data:`DEFAULT_MAX_DATE` (2200-12-31).
    max_abs_amount
        Largest accepted absolute value of ``amount``, ``margin``, ``cost`` and ``quantity``
        (currency or units; default :data:`DEFAULT_MAX_ABS_AMOUNT`, 1e12; ``inf``: no bound).
        Transactions only.
    decimal_comma
        Number text uses a decimal comma (``3,5``; ``1.234,5``).
    id_trailing_zeros
        ``17850.0`` ids become ``17850`` in ``customer_id`` and ``order_id``.
    id_case
        Letter case of ``customer_id`` and ``order_id``: one of :data:`ID_CASES`.
    amount_from
        ``(quantity_column, unit_price_column)``: ``amount`` is computed as their product.
        Transactions only.
    missing_customer_id
        Lines without a customer id: one of :data:`MISSING_CUSTOMER_ID`.  Transactions only.

    Raises
    ------
    workbench.errors.ConfigError
        A field outside its allowed values; the message names the field.

    Examples
    --------
    >>> opts = ReadOptions(separator=";", decimal_comma=True, min_date="2000-01-01")
    >>> opts.min_date, opts.separator
    (datetime.date(2000, 1, 1), ';')
    >>> ReadOptions(id_case="title")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: id_case must be one of keep, upper, lower, got 'title'
    """

    columns: Mapping[str, str] | None = None
    date_format: str | None = None
    timezone: str = "UTC"
    separator: str | None = None
    encoding: str = "utf8"
    quote_char: str | None = '"'
    min_date: dt.date = DEFAULT_MIN_DATE
    max_date: dt.date = DEFAULT_MAX_DATE
    max_abs_amount: float = DEFAULT_MAX_ABS_AMOUNT
    decimal_comma: bool = False
    id_trailing_zeros: bool = False
    id_case: str = "keep"
    amount_from: tuple[str, str] | None = None
    missing_customer_id: str = field(default="refuse")

    def __post_init__(self) -> None:
        # frozen: normalised values are set through object.__setattr__, once, here
        lo, hi = as_date(self.min_date, "min_date"), as_date(self.max_date, "max_date")
        if lo > hi:
            raise ConfigError(f"min_date {lo} is after max_date {hi}")
        object.__setattr__(self, "min_date", lo)
        object.__setattr__(self, "max_date", hi)
        if self.columns is not None:
            object.__setattr__(self, "columns", dict(self.columns))
        if self.amount_from is not None:
            object.__setattr__(self, "amount_from", tuple(self.amount_from))
        if self.id_case not in ID_CASES:
            raise ConfigError(f"id_case must be one of {', '.join(ID_CASES)}, got {self.id_case!r}")
        if self.missing_customer_id not in MISSING_CUSTOMER_ID:
            raise ConfigError(
                f"missing_customer_id must be one of {', '.join(MISSING_CUSTOMER_ID)}, got "
                f"{self.missing_customer_id!r}"
            )
        amount = self.max_abs_amount
        if (
            isinstance(amount, bool)
            or not isinstance(amount, int | float)
            or math.isnan(amount)
            or amount <= 0
        ):
            raise ConfigError(
                "max_abs_amount must be a positive number (inf: no bound), got "
                f"{clip(repr(amount))}"
            )

    @classmethod
    def from_keywords(
        cls,
        options: ReadOptions | None,
        keywords: Mapping[str, Any],
        reader: str,
        *,
        allowed: tuple[str, ...] | None = None,
    ) -> ReadOptions:
        """The options of a reader call: ``options`` or the old keyword arguments, not both.

        ``allowed`` lists the keywords the reader accepts (default: every field).

        Raises
        ------
        TypeError
            A keyword the reader does not accept, or both ``options`` and keywords.

        Examples
        --------
        >>> ReadOptions.from_keywords(None, {"separator": ";"}, "read_x").separator
        ';'
        """
        names = allowed if allowed is not None else tuple(f.name for f in fields(cls))
        unknown = [k for k in keywords if k not in names]
        if unknown:
            raise TypeError(f"{reader}() got an unexpected keyword argument {unknown[0]!r}")
        if options is not None and keywords:
            raise TypeError(
                f"{reader}(): give either options= or the keyword arguments "
                f"({', '.join(keywords)}), not both"
            )
        if options is not None:
            if not isinstance(options, cls):
                raise TypeError(
                    f"{reader}(): options must be a ReadOptions, got {type(options).__name__}"
                )
            return options
        return cls(**keywords)


#: Every field name of :class:`ReadOptions`.
READ_OPTION_NAMES: Final = tuple(f.name for f in fields(ReadOptions))
