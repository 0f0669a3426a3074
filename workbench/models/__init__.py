"""Statistical models: the CLV models of :mod:`workbench.models.clv` (purchase models, the
Gamma-Gamma spend model, fits, comparisons, holdout checks and intervals).

Imports only the data core (docs/architecture.md).
"""
