"""Analyses on the customer summary: RFM scores and segments, Pareto concentration, segment
migration, executive KPIs, cohorts and loyalty typing.

Imports the data core and the models below it (docs/architecture.md).
"""
