"""Column names and constants of the data contract (docs/data-rules.md, 'Input tables').

Every reader returns frames with these canonical column names, so the analysis
modules never guess at names.
"""

from __future__ import annotations

from typing import Final

import polars as pl

CUSTOMER_ID: Final = "customer_id"
ORDER_DATE: Final = "order_date"
AMOUNT: Final = "amount"
ORDER_ID: Final = "order_id"
MARGIN: Final = "margin"
COST: Final = "cost"
PROFIT: Final = "profit"
SURVEY_DATE: Final = "survey_date"

#: Required and optional columns per table, with the dtype each is cast to.
TRANSACTION_REQUIRED: Final = {CUSTOMER_ID: pl.String, ORDER_DATE: pl.Date, AMOUNT: pl.Float64}
TRANSACTION_OPTIONAL: Final = {
    ORDER_ID: pl.String,
    MARGIN: pl.Float64,
    COST: pl.Float64,
    "channel": pl.String,
    "category": pl.String,
    "quantity": pl.Float64,
}
CUSTOMER_REQUIRED: Final = {CUSTOMER_ID: pl.String}
CUSTOMER_OPTIONAL: Final = {
    "signup_date": pl.Date,
    "region": pl.String,
    "channel": pl.String,
    "customer_type": pl.String,
    "payment_terms": pl.String,
}
#: Allowed values of the categorical customer columns (checked on read).
CUSTOMER_TYPES: Final = ("B2C", "B2B")
PAYMENT_TERMS: Final = ("prepayment", "credit")

#: The eight satisfaction criteria of Okhunov (docs/loyalty.md, 'Satisfaction index'):
#: price, logistics, service, availability of information, competence of managers,
#: product quality, reliability, level of service.  Survey files carry
#: ``score_<criterion>`` (1-5) and ``weight_<criterion>`` (1-5) for each.
CRITERIA: Final = (
    "price",
    "logistics",
    "service",
    "information",
    "competence",
    "quality",
    "reliability",
    "service_level",
)
SURVEY_REQUIRED: Final = {CUSTOMER_ID: pl.String, SURVEY_DATE: pl.Date}
SURVEY_OPTIONAL: Final = {
    "nps": pl.Float64,
    "repurchase_intent": pl.Float64,
    **{f"score_{c}": pl.Float64 for c in CRITERIA},
    **{f"weight_{c}": pl.Float64 for c in CRITERIA},
}
#: Valid ranges of the survey answers (inclusive).
SURVEY_RANGES: Final = {
    "nps": (0, 10),
    "repurchase_intent": (1, 5),
    **{f"score_{c}": (1, 5) for c in CRITERIA},
    **{f"weight_{c}": (1, 5) for c in CRITERIA},
}

#: Time units of the customer summary: days, weeks, calendar months.
TIME_UNITS: Final = ("D", "W", "M")
