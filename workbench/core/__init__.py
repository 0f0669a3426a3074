"""The data core: the data contract, readers, exact money, the data rules, the data-quality
ledger, the customer summary, project files and the results cache.

Every analysis and model starts from what this layer produces; it imports only
:mod:`workbench.native` and :mod:`workbench.errors` (docs/architecture.md).
"""
