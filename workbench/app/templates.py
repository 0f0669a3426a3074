"""Where the report notebooks and the dashboards are: package data, found through
:mod:`importlib.resources`.

The repository keeps them at its top level, where analysts open them: ``notebooks/`` (the
report notebooks) and ``dashboards/`` (the Voilà dashboards).  Building the package maps the
two folders into it (``pyproject.toml``: ``[tool.setuptools.package-dir]``), so a wheel holds
them as ``workbench/_templates/notebooks/`` and ``workbench/_templates/dashboards/``; nothing
is copied in the repository, so there is one copy to edit.

An editable install (``pip install -e .``) does not copy package data: there the folders are
read from the source tree the install points at, found in the install's own metadata
(``direct_url.json``, PEP 610), not by guessing from the package's location.

Examples
--------
>>> template_dir("notebooks").name, template_dir("dashboards").name
('notebooks', 'dashboards')
>>> sorted(p.name for p in template_dir("dashboards").glob("*.ipynb"))
['executive.ipynb']
"""

from __future__ import annotations

import importlib.metadata
import json
import urllib.parse
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Literal

from workbench.errors import ConfigError

#: The two template folders (their names in the repository and in the package).
TemplateKind = Literal["notebooks", "dashboards"]
KINDS: tuple[TemplateKind, ...] = ("notebooks", "dashboards")
#: Folder of the package that holds the templates in a built wheel.
PACKAGED_DIR = "_templates"
#: The distribution whose metadata says where an editable install's source tree is.
DISTRIBUTION = "workbench"


def editable_source(distribution: str = DISTRIBUTION) -> Path | None:
    """The source tree of an editable install of ``distribution``, or ``None``.

    Read from the install's ``direct_url.json`` (PEP 610): ``{"url": "file:///...",
    "dir_info": {"editable": true}}``.  A wheel install, an install from an archive or a
    missing distribution give ``None``.

    Examples
    --------
    >>> editable_source("no-such-distribution") is None
    True
    """
    # Every metadata folder of that name on sys.path, in order: run from a checkout, the
    # build's own ``workbench.egg-info`` (no direct_url.json) comes before the installed one.
    # Only a source tree whose package is the one imported counts: a wheel installed in a venv
    # that also sees an editable install's metadata (a .pth to another site-packages) is not
    # that checkout.
    package = Path(__file__).resolve().parents[1]  # workbench/, above app/
    for dist in importlib.metadata.distributions(name=distribution):
        source = _editable_url(dist.read_text("direct_url.json"))
        if source is not None and (distribution != DISTRIBUTION
                                   or (source / package.name).resolve() == package):
            return source
    return None


def _editable_url(text: str | None) -> Path | None:
    """The local folder of a PEP 610 ``direct_url.json`` of an editable install, else None."""
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    url = str(info.get("url", "")) if isinstance(info, dict) else ""
    dir_info = info.get("dir_info") if isinstance(info, dict) else None
    if not (isinstance(dir_info, dict) and dir_info.get("editable")):
        return None
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "file":
        return None
    return Path(urllib.request.url2pathname(parsed.path))


def packaged_dir(kind: TemplateKind) -> Path | None:
    """The ``kind`` folder inside the installed package (a wheel install), or ``None``.

    Examples
    --------
    >>> packaged_dir("notebooks") is None or packaged_dir("notebooks").name == "notebooks"
    True
    """
    found = resources.files("workbench").joinpath(PACKAGED_DIR, kind)
    # a wheel unpacked in site-packages is a real folder; Voilà and papermill need one
    if isinstance(found, Path) and found.is_dir():
        return found
    return None


def template_dir(kind: TemplateKind) -> Path:
    """The folder of the report notebooks (``"notebooks"``) or the dashboards
    (``"dashboards"``).

    The package's own copy when the package was built (a wheel), else the folder of the
    source tree of an editable install.

    Raises
    ------
    ConfigError
        When neither exists (an install that lost its package data): reinstall.

    Examples
    --------
    >>> (template_dir("notebooks") / "rfm_segmentation.ipynb").is_file()
    True
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    packaged = packaged_dir(kind)
    if packaged is not None:
        return packaged
    source = editable_source()
    if source is not None and (source / kind).is_dir():
        return source / kind
    raise ConfigError(
        f"the {kind} are missing from this installation of workbench "
        f"({resources.files('workbench')}): reinstall it (pip install workbench, or "
        "pip install -e . in a checkout)"
    )


def project_root() -> Path:
    """The folder whose ``sample_data/`` and ``reports/`` the commands use by default.

    The source tree of an editable install (a checkout: ``sample_data/`` is committed there),
    else the current directory (an installed package works where it is run).

    Examples
    --------
    >>> project_root().is_dir()
    True
    """
    source = editable_source()
    if source is not None and source.is_dir():
        return source
    return Path.cwd().resolve()
