"""Currency and number formats from a project's currency and locale (Babel's CLDR data).

The dashboard formats every number with one :class:`NumberFormats` built from the project's
``currency`` and ``locale`` (:class:`~workbench.presentation.widgets.state.Dataset`; default ``USD``
and ``en_US``): tiles and tables through its methods, charts through
:meth:`NumberFormats.vega_locale` (the Vega-Lite ``config.locale``, so a ``"$,.0f"`` tooltip format
shows the project's currency symbol where it belongs, e.g. ``1.234 €`` for ``EUR``/``de_DE``).

:func:`use_formats` sets the formats of the running dashboard (one per kernel under Voilà);
:func:`current` returns them.  Functions that format a number without being handed formats use
:func:`current`.

Examples
--------
>>> f = NumberFormats("EUR", "de_DE")
>>> f.money(1234.5), f.money(620624.1), f.integer(3409), f.percent(0.6969)
('1.234\\xa0€', '620.624\\xa0€', '3.409', '69,7%')
>>> NumberFormats().money(620624.1)
'$620.6K'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    format_percent,
    get_currency_symbol,
    parse_pattern,
)

DEFAULT_CURRENCY = "USD"
DEFAULT_LOCALE = "en_US"
#: Shown for a missing number.
MISSING = "–"


def _is_nan(value: float) -> bool:
    """Whether ``value`` is a float NaN (a missing number, like ``None``)."""
    return isinstance(value, float) and math.isnan(value)


def _parse_locale(locale: str | None) -> Locale:
    try:
        return Locale.parse((locale or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


@dataclass(frozen=True)
class NumberFormats:
    """Number, money and percent formats of one currency (ISO 4217) and locale.

    Parameters
    ----------
    currency
        ISO 4217 code (``"USD"``, ``"EUR"``, ``"GBP"``); ``None``: ``USD``.
    locale
        ``"en_US"``, ``"de_DE"``, ``"de-DE"`` or ``"en"``; ``None`` or unknown: ``en_US``.

    Examples
    --------
    >>> NumberFormats("GBP", "en_GB").money(12.5)
    '£12.50'
    """

    currency: str | None = DEFAULT_CURRENCY
    locale: str | None = DEFAULT_LOCALE

    @cached_property
    def _locale(self) -> Locale:
        return _parse_locale(self.locale)

    @property
    def code(self) -> str:
        """The currency code in use."""
        return (self.currency or DEFAULT_CURRENCY).upper()

    @property
    def symbol(self) -> str:
        """The currency symbol in this locale (``$``, ``€``, ``£``, ``CHF``)."""
        return get_currency_symbol(self.code, self._locale)

    def money(self, value: float | None, *, compact: bool | None = None) -> str:
        """An amount: in full below 10,000 (2 decimals below 100, else none), compact above.

        ``compact=False`` always gives the full amount with the currency's decimals;
        ``compact=True`` always the compact form (``$620.6K``, ``1,2 Mio. €``).  Where the
        locale has no compact form for the size (German thousands), the full amount without
        decimals.

        Examples
        --------
        >>> f = NumberFormats()
        >>> f.money(12.5), f.money(850.0), f.money(2_467_300.0), f.money(None)
        ('$12.50', '$850', '$2.5M', '–')
        """
        if value is None or _is_nan(value):
            return MISSING
        size = abs(value)
        if compact is False:
            return format_currency(value, self.code, locale=self._locale)
        if compact or size >= 10_000:
            text = format_compact_currency(value, self.code, locale=self._locale,
                                           fraction_digits=1)
            if any(c.isalpha() or ord(c) > 0x2FFF for c in text.replace(self.symbol, "")):
                return text
        if size >= 100:
            return format_currency(value, self.code, locale=self._locale,
                                   format=self._whole_pattern, currency_digits=False)
        return format_currency(value, self.code, locale=self._locale)

    @cached_property
    def _whole_pattern(self) -> str:
        pattern = self._locale.currency_formats["standard"].pattern
        return pattern.split(";")[0].replace(".00", "").replace(",00", "")

    def integer(self, value: float | None) -> str:
        """A count with the locale's grouping (``3,409``; ``3.409`` in German)."""
        if value is None or _is_nan(value):
            return MISSING
        return format_decimal(round(value), locale=self._locale)

    def decimal(self, value: float | None, digits: int = 2) -> str:
        """A number with ``digits`` decimals and grouping."""
        if value is None or _is_nan(value):
            return MISSING
        return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0",
                              locale=self._locale, decimal_quantization=True)

    def percent(self, value: float | None, digits: int = 1) -> str:
        """A share (0-1) as a percentage with ``digits`` decimals (``69.7%``; ``69,7 %``)."""
        if value is None or _is_nan(value):
            return MISSING
        return format_percent(value, format="#,##0." + "0" * digits + "%" if digits
                              else "#,##0%", locale=self._locale)

    def points(self, change: float | None, digits: int = 1) -> str:
        """A change of a share (0-1) in percentage points, signed: 100 x ``change`` pp.

        Examples
        --------
        >>> NumberFormats().points(-0.25), NumberFormats("EUR", "de_DE").points(0.0123)
        ('-25.0 pp', '+1,2 pp')
        """
        if change is None or _is_nan(change):
            return MISSING
        return f"{self.signed(100 * change, digits)} pp"

    def signed(self, value: float | None, digits: int = 1) -> str:
        """A number with ``digits`` decimals and an explicit sign (a change).

        Examples
        --------
        >>> NumberFormats().signed(2.6), NumberFormats("EUR", "de_DE").signed(-11.46)
        ('+2.6', '-11,5')
        """
        if value is None or _is_nan(value):
            return MISSING
        text = self.decimal(value, digits)
        symbols = self._locale.number_symbols
        symbols = symbols.get("latn", symbols) if hasattr(symbols, "get") else symbols
        if not text.startswith(("-", symbols.get("minusSign", "-"))):
            text = symbols.get("plusSign", "+") + text
        return text

    def count(self, n: int, noun: str, plural: str | None = None) -> str:
        """A count with its (English) noun, singular for exactly one (``plural``: noun + "s").

        Examples
        --------
        >>> NumberFormats().count(1, "customer"), NumberFormats("EUR", "de_DE").count(3409, "buyer")
        ('1 customer', '3.409 buyers')
        """
        word = noun if n == 1 else (plural if plural is not None else noun + "s")
        return f"{self.integer(n)} {word}"

    def vega_locale(self) -> dict[str, Any]:
        """The Vega-Lite ``config.locale`` of these formats (d3-format number locale).

        Examples
        --------
        >>> NumberFormats("EUR", "de_DE").vega_locale()["number"]["currency"]
        ['', '\\xa0€']
        """
        symbols = self._locale.number_symbols
        symbols = symbols.get("latn", symbols) if hasattr(symbols, "get") else symbols
        pattern = parse_pattern(self._locale.currency_formats["standard"])
        prefix = pattern.prefix[0].replace("¤", self.symbol)
        suffix = pattern.suffix[0].replace("¤", self.symbol)
        return {"number": {"decimal": symbols.get("decimal", "."),
                           "thousands": symbols.get("group", ","),
                           "grouping": [3], "currency": [prefix, suffix],
                           "percent": symbols.get("percentSign", "%")}}


_current = NumberFormats()


def use_formats(currency: str | None = None, locale: str | None = None) -> NumberFormats:
    """Set the formats of the running dashboard (``None``: the default USD / en_US).

    Examples
    --------
    >>> use_formats("EUR", "de_DE").code
    'EUR'
    >>> use_formats().code
    'USD'
    """
    global _current
    _current = NumberFormats(currency or DEFAULT_CURRENCY, locale or DEFAULT_LOCALE)
    return _current


def current() -> NumberFormats:
    """The formats set by :func:`use_formats` (default USD / en_US)."""
    return _current


def format_kpi(
    value: float | None,
    fmt: str,
    formats: NumberFormats | None = None,
    *,
    missing: str = "–",
    score: str = "{:+.0f}",
    other: str | None = None,
) -> str:
    """One KPI value in its format, the single rule the dashboard tiles and the reports share.

    ``int``: a count with grouping; ``currency``: :meth:`NumberFormats.money`; ``pct``: a
    share; ``score``: NPS points with their sign (``score`` is the pattern); any other format
    with the ``other`` pattern, or :meth:`NumberFormats.decimal` when it is ``None``.  A
    missing value (``None`` or NaN) shows as ``missing``.  ``formats`` defaults to
    :func:`current`.

    Examples
    --------
    >>> format_kpi(3409.0, "int"), format_kpi(None, "pct"), format_kpi(31.2, "score")
    ('3,409', '–', '+31')
    """
    f = formats if formats is not None else current()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if fmt == "int":
        return f.integer(value)
    if fmt == "currency":
        return f.money(value)
    if fmt == "pct":
        return f.percent(value)
    if fmt == "score":
        return score.format(value)
    return other.format(value) if other is not None else f.decimal(value)
