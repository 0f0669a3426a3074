"""Old module paths of the flat layout, kept working for one release with a warning.

Until version 0.2 every module sat at the top of ``workbench/``; they now live in one
subpackage per layer (``docs/architecture.md``).  ``import workbench.rfm`` and
``from workbench.clv import BetaGeoModel`` still work: a finder at the front of
:data:`sys.meta_path` answers each old name with the module at its new place (the same module
object, so patches and ``isinstance`` checks see one class) and raises a
:class:`DeprecationWarning` naming the new path.  The public names of ``workbench`` itself
(``workbench.customer_summary`` and the rest) did not move and give no warning.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import FrameType, ModuleType

#: Old top-level module or package -> its place in the layered layout.
MOVED: dict[str, str] = {
    **dict.fromkeys(("kernels", "customer_scan", "sorting"), "native"),
    **dict.fromkeys(
        ("schema", "money", "quality", "prepare", "summary", "io", "project", "cache"), "core"
    ),
    **dict.fromkeys(
        ("rfm", "pareto", "migration", "kpi", "cohorts", "loyalty", "rules"), "analyses"
    ),
    "clv": "models",
    **dict.fromkeys(
        ("charts", "widgets", "tables", "formatting", "findings", "export"), "presentation"
    ),
    **dict.fromkeys(
        ("cli", "report", "serve", "serve_kernels", "lab", "run_summary", "project_check",
         "project_init", "sample_data", "templates"),
        "app",
    ),
}


def new_name(old: str) -> str | None:
    """The module path that replaced ``old``, or None when ``old`` did not move.

    Examples
    --------
    >>> new_name("workbench.clv.bgnbd")
    'workbench.models.clv.bgnbd'
    >>> new_name("workbench.errors") is None
    True
    """
    parts = old.split(".")
    if len(parts) < 2 or parts[0] != "workbench" or parts[1] not in MOVED:
        return None
    return ".".join(["workbench", MOVED[parts[1]], *parts[1:]])


def message(old: str, new: str) -> str:
    """The deprecation message for a module path that moved."""
    return f"{old} moved to {new}; the old path goes away in the next release"


def _importer_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the code that wrote the old import.

    :func:`warnings.warn` already steps over the import system's frames
    (``<frozen importlib._bootstrap>``); this module's frames and those of
    :func:`importlib.import_module` are counted here.
    """
    frame: FrameType | None = sys._getframe(1)
    level = 1
    own = (__file__, importlib.__file__)
    while frame is not None and frame.f_code.co_filename in own:
        frame = frame.f_back
        level += 1
    return level


class _Alias(importlib.abc.Loader):
    """Loads an old name as the module at its new place."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        self.spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        if "." not in self.old.removeprefix("workbench."):  # warn once, for the moved module
            warnings.warn(message(self.old, self.new), DeprecationWarning,
                          stacklevel=_importer_stacklevel())
        module = importlib.import_module(self.new)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system labelled the module with the alias's spec; give it its own back.
        module.__spec__ = self.spec


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = new_name(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(fullname, new))


def install() -> None:
    """Put the finder first on :data:`sys.meta_path` (once)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())
