"""A results cache on disk: compute an analysis once, serve it to every dashboard kernel.

Every viewer of a Voilà dashboard gets a kernel of its own.  Without a shared cache each of
them reads the data and recomputes every analysis; with it, the first kernel (or ``workbench
serve`` before it prints the URL) computes a result once and the others load it from disk.

Layout of a cache directory (default ``.workbench-cache/`` in the data folder, or next to the
project file; see :func:`default_cache_dir`)::

    .workbench-cache/
      v1/ab/ab12...ef.parquet     a frame (Polars -> Parquet)
      v1/cd/cd34...01.json        scalars, dicts, lists, dates (tagged JSON)
      v1/ef/ef56...23.pickle      other Python objects (fitted models), trusted cache only
      locks/ab12...ef.lock        one lock file per key being computed
      files/<path hash>.json      content hashes of data files, keyed by size and mtime

Keys are SHA-256 hashes of everything a result depends on (:func:`make_key`): the content
hash of the data files (:func:`file_digest`), the project settings, the as-of date, the
filter, the name of the result and the code version (:func:`code_version`).  Changing the
data or a setting changes the key, so stale results are never read; they are just no longer
asked for (:meth:`ResultsCache.prune` removes old files).

Two processes may ask for the same key at once: the first takes an exclusive lock
(:func:`fcntl.flock`) on the key's lock file and computes; the other waits on the lock and
then reads the stored result.  Files are written to a temporary name in the same directory
and moved into place with :func:`os.replace`, so a reader never sees half a file.

Examples
--------
>>> import polars as pl, tempfile
>>> cache = ResultsCache(tempfile.mkdtemp())
>>> key = make_key("demo", 1)
>>> cache.get_or_compute(key, lambda: pl.DataFrame({"a": [1, 2]}), kind="frame").height
2
>>> cache.get_or_compute(key, lambda: 1 / 0, kind="frame").height  # a hit: not recomputed
2
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import hashlib
import json
import logging
import math
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from workbench.errors import WorkbenchError

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

T = TypeVar("T")
Kind = Literal["frame", "json", "object", "auto"]

#: Environment variable naming the cache directory for the dashboard kernels.
CACHE_DIR_ENV = "WORKBENCH_CACHE_DIR"
#: Environment variable that turns the cache off (``0``, ``false``, ``off``).
CACHE_ENABLED_ENV = "WORKBENCH_CACHE"
#: Name of the default cache directory.
CACHE_DIR_NAME = ".workbench-cache"
#: Environment variable that fixes :func:`code_version` (``workbench serve`` sets it, so that
#: the server's warm-up and all its kernels agree for the server's lifetime).
CODE_VERSION_ENV = "WORKBENCH_CODE_VERSION"
#: Bumped when the layout or the encoding of stored results changes.
FORMAT_VERSION = 1
_SUFFIX = {"frame": ".parquet", "json": ".json", "object": ".pickle"}
_MISSING = object()


class CacheError(WorkbenchError, RuntimeError):
    """A result could not be stored (it is still returned; only the disk copy is missing)."""


# -- keys and fingerprints ---------------------------------------------------------------------


def _default(value: Any) -> Any:
    """JSON encoding of the values that may appear in a key."""
    if isinstance(value, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return {"__t__": type(value).__name__, "v": str(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(map(str, value))
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def make_key(*parts: Any) -> str:
    """A cache key: the SHA-256 hex digest of ``parts`` (JSON-encoded, sorted dict keys).

    Examples
    --------
    >>> import datetime as dt
    >>> make_key("kpis", dt.date(2024, 1, 31)) == make_key("kpis", dt.date(2024, 1, 31))
    True
    >>> make_key("kpis", 1) == make_key("kpis", "1")
    False
    >>> len(make_key())
    64
    """
    text = json.dumps([FORMAT_VERSION, *parts], sort_keys=True, default=_default)
    return hashlib.sha256(text.encode()).hexdigest()


def _hash_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: str | os.PathLike[str], memo_dir: str | os.PathLike[str] | None = None
                ) -> str:
    """Content hash (BLAKE2b) of a file, remembered per (size, mtime) in ``memo_dir``.

    Hashing a 100 MB file takes a fraction of a second; with ``memo_dir`` each kernel only
    ``stat``s the file and reads the remembered hash while size and modification time are
    unchanged.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = f.write_text("a,b\\n1,2\\n")
    >>> file_digest(f) == file_digest(f, memo_dir=f.parent / "memo")
    True
    """
    p = Path(path).resolve()
    if memo_dir is None:
        return _hash_file(p)
    st = p.stat()
    stamp = {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    memo = Path(memo_dir) / f"{hashlib.sha256(str(p).encode()).hexdigest()[:32]}.json"
    try:
        known = json.loads(memo.read_text())
        if {k: known.get(k) for k in stamp} == stamp and known.get("digest"):
            return str(known["digest"])
    except (OSError, ValueError):
        pass
    digest = _hash_file(p)
    with contextlib.suppress(OSError):
        _atomic_write_bytes(memo, json.dumps({**stamp, "digest": digest}).encode())
    return digest


_CODE_VERSION: str | None = None
#: Parts of the package that only present results (charts, widgets, commands): editing them
#: does not change a stored result, so they are left out of :func:`code_version`.
PRESENTATION = frozenset({"widgets", "charts", "rules_editor", "__main__.py", "cli.py",
                          "serve.py", "lab.py", "report.py", "export.py", "cache.py",
                          "project_init.py", "run_summary.py", "formatting.py"})


def code_version() -> str:
    """A fingerprint of the ``workbench`` code that computes results: the package version and
    the content of its analysis modules (all but :data:`PRESENTATION`), so that results
    computed by older code are not reused after an upgrade or an edit of an analysis.

    Examples
    --------
    >>> code_version() == code_version()
    True
    """
    global _CODE_VERSION
    if _CODE_VERSION is None and os.environ.get(CODE_VERSION_ENV):
        _CODE_VERSION = os.environ[CODE_VERSION_ENV]
    if _CODE_VERSION is None:
        root = Path(__file__).resolve().parents[1]  # the whole package, not only core/
        digest = hashlib.sha256()
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            digest.update(version("workbench").encode())
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if path.suffix not in (".py", ".toml", ".json", ".csv", ".c") or \
                    "__pycache__" in rel.parts or rel.parts[0] in PRESENTATION:
                continue
            digest.update(f"{rel}:".encode())
            with contextlib.suppress(OSError):
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        _CODE_VERSION = digest.hexdigest()[:16]
    return _CODE_VERSION


# -- encoding ----------------------------------------------------------------------------------


def _to_json(value: Any) -> Any:
    """``value`` as plain JSON, dates, tuples and non-finite floats tagged; TypeError else."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__t__": "float", "v": repr(value)}
    if isinstance(value, dt.datetime):
        return {"__t__": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__t__": "date", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"__t__": "timedelta", "v": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"__t__": "decimal", "v": str(value)}
    if isinstance(value, tuple):
        return {"__t__": "tuple", "v": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value) or "__t__" in value:
            raise TypeError("only dicts with str keys are stored as JSON")
        return {k: _to_json(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item) and type(value).__module__ == "numpy":
        return _to_json(item())
    raise TypeError(f"{type(value).__name__} is not stored as JSON")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        tag = value.get("__t__")
        if tag is None:
            return {k: _from_json(v) for k, v in value.items()}
        raw = value["v"]
        if tag == "float":
            return float(raw)
        if tag == "datetime":
            return dt.datetime.fromisoformat(raw)
        if tag == "date":
            return dt.date.fromisoformat(raw)
        if tag == "timedelta":
            return dt.timedelta(seconds=raw)
        if tag == "decimal":
            return decimal.Decimal(raw)
        if tag == "tuple":
            return tuple(_from_json(v) for v in raw)
        raise ValueError(f"unknown tag {tag!r}")
    return value


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("polars")


def kind_of(value: Any) -> str:
    """How ``value`` is stored: ``"frame"``, ``"json"`` or ``"object"``.

    Examples
    --------
    >>> import polars as pl
    >>> kind_of(pl.DataFrame()), kind_of({"a": (1, None)}), kind_of(object())
    ('frame', 'json', 'object')
    """
    if _is_frame(value):
        return "frame"
    try:
        _to_json(value)
    except (TypeError, ValueError):
        return "object"
    return "json"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- the cache ---------------------------------------------------------------------------------


class ResultsCache:
    """Results on disk under ``root``, keyed by :func:`make_key` hashes.

    Parameters
    ----------
    root
        The cache directory (created on first write, mode 0o700).
    lock_timeout
        Seconds to wait for another process computing the same key before computing anyway.
    objects
        Store results that are neither frames nor JSON (fitted models) with :mod:`pickle`.
        Such files are only read back when owned by the current user.

    Attributes
    ----------
    hits, misses
        Counters of :meth:`get_or_compute` in this process.

    Examples
    --------
    >>> import tempfile
    >>> cache = ResultsCache(tempfile.mkdtemp())
    >>> cache.get_or_compute(make_key("x"), lambda: {"n": 3}, kind="json")
    {'n': 3}
    >>> cache.hits, cache.misses
    (0, 1)
    """

    def __init__(self, root: str | os.PathLike[str], *, lock_timeout: float = 600.0,
                 objects: bool = True) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self.objects = objects
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"ResultsCache({str(self.root)!r})"

    # paths
    def path(self, key: str, kind: str) -> Path:
        """File of ``key`` stored as ``kind``."""
        return self.root / f"v{FORMAT_VERSION}" / key[:2] / f"{key}{_SUFFIX[kind]}"

    @property
    def files_dir(self) -> Path:
        """Where :func:`file_digest` remembers the hashes of data files."""
        return self.root / "files"

    def _ensure_root(self) -> None:
        if not self.root.exists():
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    # reading and writing
    def get(self, key: str, kind: Kind = "auto", default: Any = None) -> Any:
        """The stored result of ``key``, or ``default`` when there is none (or it is unreadable).

        Examples
        --------
        >>> import tempfile
        >>> ResultsCache(tempfile.mkdtemp()).get(make_key("nothing"), default="none")
        'none'
        """
        value = self._read(key, kind)
        return default if value is _MISSING else value

    def _read(self, key: str, kind: Kind) -> Any:
        for k in ("frame", "json", "object") if kind == "auto" else (kind,):
            path = self.path(key, k)
            try:
                if k == "frame":
                    import polars as pl

                    return pl.read_parquet(path)
                if k == "json":
                    return _from_json(json.loads(path.read_bytes()))
                if not self.objects or path.stat().st_uid != os.getuid():
                    continue
                with open(path, "rb") as handle:
                    return pickle.load(handle)  # noqa: S301 - our own files, owner checked
            except FileNotFoundError:
                continue
            except Exception:  # noqa: BLE001 - a broken file is a miss, recomputed
                logger.warning("cache: unreadable %s, recomputing", path, exc_info=True)
        return _MISSING

    def put(self, key: str, value: Any, kind: Kind = "auto") -> Path | None:
        """Store ``value`` under ``key`` atomically; the file written, or ``None`` when
        ``value`` cannot be stored as ``kind`` (objects with ``objects=False``).

        Raises
        ------
        CacheError
            When the file cannot be written (disk full, no permission).
        """
        stored = kind_of(value) if kind == "auto" else kind
        if stored == "object" and not self.objects:
            return None
        path = self.path(key, stored)
        try:
            self._ensure_root()
            path.parent.mkdir(parents=True, exist_ok=True)
            if stored == "frame":
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                           dir=path.parent)
                os.close(fd)
                try:
                    value.write_parquet(tmp, compression="lz4", statistics=False)
                    os.replace(tmp, path)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                    raise
            elif stored == "json":
                _atomic_write_bytes(path, json.dumps(_to_json(value)).encode())
            else:
                _atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception as exc:
            raise CacheError(f"cannot store {key[:12]} as {stored}: {exc}") from exc
        return path

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[bool]:
        """Hold the exclusive lock of ``key`` (yields whether it was obtained in time).

        Without a writable cache directory the block runs unlocked (yields ``False``).
        """
        try:
            self._ensure_root()
            (self.root / "locks").mkdir(exist_ok=True)
            handle = open(self.root / "locks" / f"{key}.lock", "a+b")  # noqa: SIM115
        except OSError:
            yield False
            return
        import fcntl

        got = False
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    got = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(0.05)
            yield got
        finally:
            if got:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def get_or_compute(self, key: str, fn: Callable[[], T], kind: Kind = "auto") -> T:
        """The stored result of ``key``; on a miss ``fn()``, stored for the next caller.

        A miss takes the key's lock first, so that two processes asking at once compute once:
        the second waits, then reads what the first stored.  When the result cannot be stored
        (a read-only directory, an object that does not pickle) it is returned all the same.

        Parameters
        ----------
        key
            From :func:`make_key`.
        fn
            Computes the result; exceptions propagate and nothing is stored.
        kind
            ``"frame"`` (a Polars DataFrame, Parquet), ``"json"`` (scalars, dicts, lists,
            dates), ``"object"`` (pickle) or ``"auto"`` (chosen from the value).

        Examples
        --------
        >>> import tempfile
        >>> cache = ResultsCache(tempfile.mkdtemp())
        >>> cache.get_or_compute(make_key("n"), lambda: 41 + 1)
        42
        >>> cache.get_or_compute(make_key("n"), lambda: 0), cache.hits
        (42, 1)
        """
        value = self._read(key, kind)
        if value is not _MISSING:
            self.hits += 1
            return value
        with self.lock(key):
            value = self._read(key, kind)  # computed by another process meanwhile?
            if value is not _MISSING:
                self.hits += 1
                return value
            self.misses += 1
            started = time.perf_counter()
            value = fn()
            try:
                self.put(key, value, kind)
            except CacheError:
                logger.warning("cache: result not stored", exc_info=True)
            logger.info("cache: computed %s in %.2f s", key[:12], time.perf_counter() - started)
        return value

    def prune(self, max_age_days: float = 30.0) -> int:
        """Remove results not read or written for ``max_age_days``; returns how many.

        Examples
        --------
        >>> import tempfile
        >>> ResultsCache(tempfile.mkdtemp()).prune()
        0
        """
        cutoff = time.time() - max_age_days * 86400
        removed = 0
        for path in (self.root / f"v{FORMAT_VERSION}").glob("*/*"):
            with contextlib.suppress(OSError):
                st = path.stat()
                if max(st.st_atime, st.st_mtime) < cutoff:
                    path.unlink()
                    removed += 1
        return removed


def cache_enabled() -> bool:
    """Whether :data:`CACHE_ENABLED_ENV` leaves the cache on (the default).

    Examples
    --------
    >>> cache_enabled() in (True, False)
    True
    """
    return os.environ.get(CACHE_ENABLED_ENV, "1").strip().lower() not in ("0", "false", "off",
                                                                            "no")


def default_cache_dir(source: str | os.PathLike[str]) -> Path:
    """The default cache directory of a data folder or project file.

    ``<folder>/.workbench-cache`` for a data folder, ``<dir of the file>/.workbench-cache`` for
    a project file; when that place is not writable, ``~/.cache/workbench/<hash of source>``.

    Examples
    --------
    >>> default_cache_dir("sample_data").as_posix().endswith("sample_data/.workbench-cache")
    True
    >>> # a folder that does not exist: a folder of the user's cache, named by a hash of the path
    >>> default_cache_dir("/no/such/place").parent.name
    'workbench'
    """
    src = Path(source).resolve()
    base = src if src.is_dir() else src.parent
    candidate = base / CACHE_DIR_NAME
    if candidate.is_dir() and os.access(candidate, os.W_OK) or \
            not candidate.exists() and base.is_dir() and os.access(base, os.W_OK):
        return candidate
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return home / "workbench" / hashlib.sha256(str(src).encode()).hexdigest()[:16]


def open_cache(source: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
               ) -> ResultsCache | None:
    """The cache of a data folder or project: ``cache_dir``, else :data:`CACHE_DIR_ENV`, else
    :func:`default_cache_dir`; ``None`` when the cache is turned off (:func:`cache_enabled`).

    Examples
    --------
    >>> open_cache("sample_data", "/tmp/wb-cache")
    ResultsCache('/tmp/wb-cache')
    """
    if not cache_enabled():
        return None
    chosen = cache_dir or os.environ.get(CACHE_DIR_ENV) or default_cache_dir(source)
    return ResultsCache(chosen)
