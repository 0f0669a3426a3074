"""Native acceleration: the compiled customer scan and the code that calls it.

``_kernels.c`` is built by ``pip install`` (optional); :mod:`workbench.native.kernels` loads it
with ctypes, :mod:`workbench.native.customer_scan` and :mod:`workbench.native.sorting` call it.
Each has a pure Polars / NumPy path that gives the same results when the library is missing.
The lowest layer: it imports nothing else from the workbench (docs/architecture.md).
"""
