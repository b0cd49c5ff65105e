"""Finding the project: its root, its source files, and each file lowered into the model
(from a per-file cache when the file has not changed, in worker processes when there are many)."""

from __future__ import annotations

import fnmatch
import functools
import gc
import hashlib
import io
import os
import pickle
import stat
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Mapping

from sparklint import __version__
from sparklint import model as m
from sparklint.atomic import write_atomically
from sparklint.deepstack import run_deep
from sparklint.graph.index import referenced_names
from sparklint.graph.sparkconf import conf_in_code
from sparklint.frontends import SOURCE_SUFFIXES, language_of, lower, unparsable
from sparklint.incremental import engine_fingerprint
from sparklint.settings import Settings
from sparklint.workers import Failure, run_isolated

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "build.sbt", "pom.xml", "build.gradle", ".git")
MAX_FILE_BYTES = 8 * 1024 * 1024
CACHE_FORMAT = 9  # bump when the model's pickled shape changes
MIN_KEPT_UNUSED = 1000  # cache entries of files this run did not see that are always kept


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # posix, relative to the root


def resolved(path: Path) -> Path:
    """The absolute path without symlinks; a symlink loop is left as it is instead of raising
    (reading it then fails with one warning, like any unreadable file)."""
    return Path(os.path.realpath(path))


def find_root(paths: list[Path], explicit: Path | None) -> Path:
    if explicit is not None:
        return resolved(explicit)
    start = resolved(paths[0]) if paths else Path.cwd()
    if start.is_file():
        start = start.parent
    for candidate in (start, *start.parents):
        if any((candidate / marker).exists() for marker in ROOT_MARKERS):
            return candidate
    return start


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    parts = rel.split("/")
    for pattern in patterns:
        if "/" in pattern or "*" in pattern or "?" in pattern:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern.rstrip("/") + "/*"):
                return True
        if pattern in parts:
            return True
    return False


def _walk(root: Path, settings: Settings):
    """(directory, its path relative to the root with a trailing `/`, its file names), skipping
    hidden and excluded folders."""
    patterns = (*settings.exclude, *settings.extend_exclude)
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(directory, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not _excluded(rel_dir + d, patterns) and not d.startswith("."))
        yield directory, rel_dir, sorted(filenames)


def discover(root: Path, settings: Settings, known: "FileMemory | None" = None) -> list[SourceFile]:
    """The project's source files. With `known` (kept by a process that checks again and again),
    the last listing is reused while no directory it walked has changed."""
    patterns = (*settings.exclude, *settings.extend_exclude)
    key = (str(root), patterns)
    if known is not None and known.listing is not None and known.listing[0] == key and _unchanged(known.listing[1]):
        return known.listing[2]
    started = time.time()
    found: list[SourceFile] = []
    directories: list[tuple[str, tuple | None]] = []
    for directory, rel_dir, filenames in _walk(root, settings):
        directories.append((directory, _signature(directory)))
        for filename in filenames:
            if filename.endswith(SOURCE_SUFFIXES) and not _excluded(rel_dir + filename, patterns):
                found.append(SourceFile(Path(directory) / filename, rel_dir + filename))
    if known is not None:
        settled = all(signature is not None and _settled(signature, started) for _, signature in directories)
        known.listing = (key, tuple(directories), found) if settled else None
    return found


class FileMemory:
    """What a long-lived process knows of the project's files from its last run: the directory
    listing, and each file's bytes and digest with the file's status when it was read. A file
    or directory whose status (modification and change times, size, inode) is the same is taken
    as unchanged; one changed within the last seconds before it was read is always read again,
    since a second change in the same clock tick would leave its times as they were."""

    def __init__(self) -> None:
        self.listing: tuple | None = None
        self.texts: dict[str, tuple[tuple, SourceText]] = {}


SETTLED_SECONDS = 2.0


def _signature(path: str | Path) -> tuple | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_ctime_ns, status.st_size, status.st_ino, status.st_dev, status.st_mode)


def _settled(signature: tuple, read_at: float) -> bool:
    return max(signature[0], signature[1]) / 1e9 < read_at - SETTLED_SECONDS


def _unchanged(directories: tuple) -> bool:
    return all(_signature(directory) == signature for directory, signature in directories)


@dataclass(frozen=True, slots=True)
class SourceText:
    """A file's bytes as this run sees them (from disk, or an editor's unsaved buffer)."""

    source: SourceFile
    data: bytes
    digest: str  # of the path and the bytes: what the lowered module depends on


def _lower(text: SourceText) -> m.Module:
    started = time.perf_counter()
    module = lower(text.source.rel, text.data)
    referenced_names(module)  # what every run needs of each module, kept with it in the cache
    conf_in_code(module)
    module.extra["lower_seconds"] = time.perf_counter() - started
    module.extra["cached"] = False
    module.extra["digest"] = text.digest
    return module


class ModuleCache:
    """Lowered modules on disk, keyed by a hash of the file's path and contents (never by its
    mtime: a checkout or a formatter that rewrites the same bytes keeps its entries), and kept
    from growing without end."""

    def __init__(self, directory: Path | None, engine: str = "") -> None:
        self.directory = directory
        self.engine = engine  # sparklint's own code: a lowered module is only good for the code that lowered it
        self.used: set[str] = set()
        if directory is not None:
            try:
                directory.mkdir(parents=True, exist_ok=True)
                gitignore = directory.parent / ".gitignore"
                if directory.parent.name == ".sparklint_cache" and not gitignore.exists():
                    gitignore.write_text("# Created by sparklint\n*\n")
            except OSError:
                self.directory = None

    def _entry(self, text: SourceText) -> Path | None:
        if self.directory is None:
            return None
        name = hashlib.blake2b(f"{text.digest}\0{self.engine}".encode(), digest_size=16).hexdigest()
        self.used.add(name)
        return self.directory / f"{name}.pickle"

    def keep(self, text: SourceText) -> None:
        """Count `text`'s entry as used by this run (its module came from memory), so pruning keeps it."""
        self._entry(text)

    def get(self, text: SourceText) -> m.Module | None:
        entry = self._entry(text)
        if entry is None:
            return None
        try:
            with entry.open("rb") as handle:
                module = load_module(handle)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None
        return module if isinstance(module, m.Module) and module.path == text.source.rel else None

    def entry(self, text: SourceText) -> Path | None:
        """Where `text`'s module is kept (counted as used by this run), or None without a cache."""
        return self._entry(text)

    def put(self, text: SourceText, module: m.Module) -> None:
        entry = self._entry(text)
        if entry is not None:
            try:
                write_atomically(entry, encoded(module))
            except (pickle.PickleError, RecursionError):
                pass

    def prune(self) -> None:
        """Drop the entries this run did not use once they outnumber the ones it did, oldest
        first, so the cache stays about the size of the project (other branches' files keep
        their entries for a while)."""
        if self.directory is None:
            return
        try:
            entries = [entry for entry in self.directory.iterdir() if entry.suffix == ".pickle"]
            unused = [entry for entry in entries if entry.stem not in self.used]
            excess = len(unused) - max(len(self.used), MIN_KEPT_UNUSED)
            if excess <= 0:
                return
            unused.sort(key=lambda entry: entry.stat().st_mtime)
            for entry in unused[:excess]:
                entry.unlink(missing_ok=True)
        except OSError:
            pass


# A cached module is two pickles: its functions' and methods' bodies as one blob, then the module
# with each body replaced by a reference into the blob. Loading it reads the blob as bytes only;
# the bodies are unpickled when the analysis first reads one (`model.LazyCode`), so a re-check
# that analyses a few groups does not rebuild the code of every module in the project.


class _BodyReference:
    __slots__ = ("index", "names")

    def __init__(self, index: int, names: tuple[str, ...] | None = None) -> None:
        self.index = index
        self.names = names

    def __reduce__(self):
        return (_loaded_body, (self.index,)) if self.names is None else (_loaded_body, (self.index, self.names))


_LOADING = threading.local()  # the bodies of the module being unpickled on this thread


def _loaded_body(index: int, names: tuple[str, ...] | None = None) -> m.LazyCode:
    return m.LazyCode(_LOADING.bodies, index, names)


def dump_module(module: m.Module, out) -> None:
    bodies: list = []

    def referenced(function: m.Function) -> m.Function:
        bodies.append(function.body)
        return replace(function, body=_BodyReference(len(bodies) - 1))

    def fields_referenced(fields: tuple) -> tuple | _BodyReference:
        if not fields:
            return fields
        bodies.append(fields)
        return _BodyReference(len(bodies) - 1, tuple(name for name, _ in fields))

    header = replace(module, functions=tuple(map(referenced, module.functions)),
                     classes=tuple(replace(klass, methods=tuple(map(referenced, klass.methods)),
                                           fields=fields_referenced(klass.fields))
                                   for klass in module.classes))
    pickle.dump(pickle.dumps(tuple(bodies), protocol=pickle.HIGHEST_PROTOCOL), out, protocol=pickle.HIGHEST_PROTOCOL)
    pickle.dump(header, out, protocol=pickle.HIGHEST_PROTOCOL)


def encoded(module: m.Module) -> bytes:
    out = io.BytesIO()
    dump_module(module, out)
    return out.getvalue()


def load_module(handle) -> object:
    bodies = pickle.load(handle)
    if not isinstance(bodies, bytes):
        raise ValueError("not a cached module")
    _LOADING.bodies = m.CachedBodies(bodies)
    try:
        return pickle.load(handle)
    finally:
        del _LOADING.bodies


def cache_directory(root: Path, settings: Settings) -> Path:
    return settings.cache_dir or root / ".sparklint_cache"


CONF_FILES = ("spark-defaults.conf",)
SCRIPT_SUFFIXES = (".sh", ".bash")  # where `spark-submit --conf k=v` lines live
MAX_CONF_FILES = 1000
MAX_CONF_FILE_BYTES = 1024 * 1024  # a configuration or a script is smaller than this


def read_conf_files(root: Path, settings: Settings) -> list[tuple[str, str]]:
    """`spark-defaults.conf` files and shell scripts under the root, as (relative path, text),
    skipping hidden and excluded folders: the Spark properties the jobs may run with."""
    found: list[tuple[str, str]] = []
    for directory, rel_dir, filenames in _walk(root, settings):
        for name in filenames:
            if (name in CONF_FILES or name.endswith(SCRIPT_SUFFIXES)) and len(found) < MAX_CONF_FILES:
                data = read_regular_file(Path(directory) / name, MAX_CONF_FILE_BYTES)
                if not isinstance(data, str):
                    found.append((rel_dir + name, data.decode("utf-8", errors="replace")))
    return found


def read_source(source: SourceFile, overlays: Mapping[str, bytes]) -> SourceText | str:
    """The file's bytes, or why they cannot be read (one line)."""
    data = overlays.get(source.rel)
    if data is None:
        data = read_regular_file(source.path, MAX_FILE_BYTES)
        if isinstance(data, str):
            return f"{source.rel}: {data}"
    key = hashlib.blake2b(digest_size=16)
    key.update(os.fsencode(f"{source.rel}\0{CACHE_FORMAT}\0"))
    key.update(data)
    return SourceText(source, data, key.hexdigest())


def read_regular_file(path: Path, limit: int) -> bytes | str:
    """The bytes of a regular file of at most `limit` bytes, or why not. Anything else a source
    name can point at (a FIFO, /dev/zero, a symlink loop, a socket) is refused before it is
    read, and the open file is checked again, in case it was swapped in between."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "skipped, not a regular file"
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        return f"cannot read ({error.strerror})"
    with os.fdopen(descriptor, "rb") as handle:
        try:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                return "skipped, not a regular file"
            if status.st_size > limit:
                return _too_large(status.st_size, limit)
            data = handle.read(limit + 1)
        except OSError as error:
            return f"cannot read ({error.strerror})"
    return _too_large(len(data), limit) if len(data) > limit else data


def _too_large(size: int, limit: int) -> str:
    return f"skipped, {size // 1024 // 1024} MiB is over the {limit // 1024 // 1024} MiB limit for one file"


def read_sources(files: list[SourceFile], overlays: Mapping[str, bytes] | None = None,
                 known: FileMemory | None = None) -> tuple[list[SourceText], list[str]]:
    """Every file's bytes and digest, plus warnings for files that could not be read. With
    `known`, a file on disk whose status is as it was when last read is not read again."""
    texts: list[SourceText] = []
    warnings: list[str] = []
    overlays = overlays or {}
    remembered: dict[str, tuple[tuple, SourceText]] = {}
    for source in files:
        text: SourceText | str | None = None
        signature = None
        if known is not None and source.rel not in overlays:
            signature = _signature(source.path)
            last = known.texts.get(source.rel)
            if last is not None and signature is not None and last[0] == signature and last[1].source == source:
                text = last[1]
        if text is None:
            started = time.time()
            text = read_source(source, overlays)
            if signature is not None and not isinstance(text, str) and _settled(signature, started) \
                    and signature == _signature(source.path):
                remembered[source.rel] = (signature, text)
        elif signature is not None:
            remembered[source.rel] = (signature, text)
        if isinstance(text, str):
            warnings.append(text)
        else:
            texts.append(text)
    if known is not None:
        known.texts = remembered
    return texts, warnings


def load_modules(files: list[SourceFile], root: Path, settings: Settings,
                 overlays: Mapping[str, bytes] | None = None) -> tuple[list[m.Module], list[str]]:
    """Every file lowered into the model, plus warnings for files that could not be read.
    `overlays` maps paths relative to the root to contents that replace what is on disk."""
    texts, warnings = read_sources(files, overlays)
    return lower_sources(texts, root, settings), warnings


def module_cache(root: Path, settings: Settings) -> ModuleCache:
    return ModuleCache(cache_directory(root, settings) / f"modules-{__version__}" if settings.use_cache else None,
                       engine_fingerprint())


def lower_sources(texts: list[SourceText], root: Path, settings: Settings, prune: bool = True,
                  known: Mapping[str, m.Module] | None = None,
                  lowered: Mapping[str, m.Module] | None = None) -> list[m.Module]:
    """The files read by `read_sources` lowered into the model, from `known` (modules by digest,
    kept in memory) or the cache where it can. `lowered` are modules by digest this run lowered
    already: taken as they are. `prune=False` when `texts` are only some of the project's files
    (the cache keeps the rest)."""
    cache = module_cache(root, settings)
    modules: dict[str, m.Module] = {}
    pending: list[SourceText] = []
    for text in texts:
        if lowered and text.digest in lowered:
            cache.keep(text)
            modules[text.source.rel] = lowered[text.digest]
            continue
        remembered = known.get(text.digest) if known else None
        if remembered is not None:
            cache.keep(text)
        cached = remembered if remembered is not None else cache.get(text)
        if cached is not None:
            cached.extra["lower_seconds"] = 0.0  # read from the cache, not lowered
            cached.extra["cached"] = True
            cached.extra["digest"] = text.digest
            modules[text.source.rel] = cached
        else:
            pending.append(text)
    for text, (module, stored) in zip(pending, _lower_all(pending, settings, cache)):
        modules[text.source.rel] = module
        if not stored and not module.extra.get("worker_failed"):  # a deadline missed on a busy machine may be met next time
            cache.put(text, module)
    if prune:
        cache.prune()
    return [modules[text.source.rel] for text in texts if text.source.rel in modules]


def _lower_all(pending: list[SourceText], settings: Settings, cache: ModuleCache) -> list[tuple[m.Module, bool]]:
    """Each file's module, and whether it is in the cache already: worker processes write their
    own entries, and hand the module over in the same encoding (its code then loads lazily)."""
    if not pending:
        return []
    jobs = settings.jobs or os.cpu_count() or 1
    try:
        languages = tuple(sorted({language_of(text.source.rel) or "" for text in pending}))
        results = run_isolated(_lower_and_keep, [(text, cache.entry(text)) for text in pending], jobs,
                               finish=_decoded, warm_up=functools.partial(_warm_up, languages))
    except OSError:  # no worker processes here (a sandbox): lower in this process, screened only
        return [(module, False) for module in _lower_batch(pending)]
    lowered: list[tuple[m.Module, bool]] = []
    for text, result in zip(pending, results):
        if isinstance(result, tuple):  # decoded by `_decoded`
            lowered.append(result)
        elif isinstance(result, m.Module):  # too deeply nested to encode for the cache
            lowered.append((result, False))
        else:
            lowered.append((_not_lowered(text, result.reason), False))
    return lowered


def _decoded(result: tuple[bytes, bool] | m.Module) -> tuple[m.Module, bool] | m.Module:
    """A worker's module decoded in full as it arrives, while the workers lower the next files
    (a module too deeply nested to encode for the cache arrives as it is)."""
    if isinstance(result, m.Module):
        return result
    data, stored = result
    try:
        module = load_module(io.BytesIO(data))
        m.load_code(module)
    except (pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError, RecursionError):
        return Failure("the parsed file could not be handed over")
    return module, stored


# Lowered once in each worker before its first file: libcst's first parse in a process costs
# about 0.1 s of imports and set-up, which would otherwise be charged to whichever file came first.
WARM_UP_SOURCES = {"python": ("_warm_up.py", b"x = f(1)\n"), "scala": ("_warm_up.scala", b"object W { val x = f(1) }\n")}


def _warm_up(languages: tuple[str, ...]) -> None:
    for language in languages:
        if language in WARM_UP_SOURCES:
            lower(*WARM_UP_SOURCES[language])


def _lower_and_keep(job: tuple[SourceText, Path | None]) -> tuple[bytes, bool] | m.Module:
    """In a worker: the file lowered and encoded as a cache entry, written to `entry` if given."""
    text, entry = job
    module = _lower_collected(text)
    try:
        data = encoded(module)
    except (pickle.PickleError, RecursionError):
        return module
    return data, entry is not None and write_atomically(entry, data)


def _lower_collected(text: SourceText) -> m.Module:
    with collecting_libcst_garbage():
        return _lower(text)


def _not_lowered(text: SourceText, reason: str) -> m.Module:
    module = unparsable(text.source.rel, text.data, reason)
    module.extra.update(lower_seconds=0.0, cached=False, digest=text.digest, worker_failed=True)
    return module


@contextmanager
def collecting_libcst_garbage() -> Iterator[None]:
    """libcst leaves reference cycles behind (about 270 objects per file): collect them, but
    rarely, since the analysis itself runs with the collector paused."""
    was_enabled = gc.isenabled()
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    gc.enable()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not was_enabled:
            gc.disable()


def _lower_batch(batch: list[SourceText]) -> list[m.Module]:
    with collecting_libcst_garbage():
        return run_deep(lambda: [_lower(text) for text in batch])
