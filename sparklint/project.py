"""Finding the project: its root, its source files, and each file lowered into the model
(from a per-file cache when the file has not changed, in worker processes when there are many)."""

from __future__ import annotations

import fnmatch
import gc
import hashlib
import os
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sparklint import __version__
from sparklint import model as m
from sparklint.deepstack import run_deep
from sparklint.frontends import SOURCE_SUFFIXES, lower
from sparklint.settings import Settings

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", "build.sbt", "pom.xml", "build.gradle", ".git")
MAX_FILE_BYTES = 8 * 1024 * 1024
CACHE_FORMAT = 4  # bump when the model's pickled shape changes
PARALLEL_THRESHOLD = 48


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # posix, relative to the root


def find_root(paths: list[Path], explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit.resolve()
    start = paths[0].resolve() if paths else Path.cwd()
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


def discover(root: Path, settings: Settings) -> list[SourceFile]:
    patterns = (*settings.exclude, *settings.extend_exclude)
    found: list[SourceFile] = []
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(directory, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not _excluded(rel_dir + d, patterns) and not d.startswith("."))
        for filename in sorted(filenames):
            if filename.endswith(SOURCE_SUFFIXES) and not _excluded(rel_dir + filename, patterns):
                found.append(SourceFile(Path(directory) / filename, rel_dir + filename))
    return found


def _lower_file(source: SourceFile) -> m.Module:
    data = source.path.read_bytes()
    started = time.perf_counter()
    module = lower(source.rel, data)
    module.extra["lower_seconds"] = time.perf_counter() - started
    return module


class ModuleCache:
    """Lowered modules on disk, keyed by path, size, mtime and sparklint's version."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        if directory is not None:
            try:
                directory.mkdir(parents=True, exist_ok=True)
                gitignore = directory.parent / ".gitignore"
                if directory.parent.name == ".sparklint_cache" and not gitignore.exists():
                    gitignore.write_text("# Created by sparklint\n*\n")
            except OSError:
                self.directory = None

    def _entry(self, source: SourceFile) -> Path | None:
        if self.directory is None:
            return None
        try:
            stat = source.path.stat()
        except OSError:
            return None
        key = f"{source.rel}\0{stat.st_size}\0{stat.st_mtime_ns}\0{__version__}\0{CACHE_FORMAT}"
        return self.directory / (hashlib.sha1(key.encode()).hexdigest() + ".pickle")

    def get(self, source: SourceFile) -> m.Module | None:
        entry = self._entry(source)
        if entry is None:
            return None
        try:
            with entry.open("rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
            return None

    def put(self, source: SourceFile, module: m.Module) -> None:
        entry = self._entry(source)
        if entry is None:
            return
        try:
            temporary = entry.with_suffix(".tmp")
            with temporary.open("wb") as handle:
                pickle.dump(module, handle, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(entry)
        except (OSError, pickle.PickleError, RecursionError):
            pass


def load_modules(files: list[SourceFile], root: Path, settings: Settings) -> tuple[list[m.Module], list[str]]:
    """Every file lowered into the model, plus warnings for files that could not be read."""
    cache_dir = None
    if settings.use_cache:
        cache_dir = (settings.cache_dir or root / ".sparklint_cache") / f"modules-{__version__}"
    cache = ModuleCache(cache_dir)
    modules: dict[str, m.Module] = {}
    warnings: list[str] = []
    pending: list[SourceFile] = []
    for source in files:
        try:
            size = source.path.stat().st_size
        except OSError as error:
            warnings.append(f"{source.rel}: cannot read ({error.strerror})")
            continue
        if size > MAX_FILE_BYTES:
            warnings.append(f"{source.rel}: skipped, {size // 1024 // 1024} MiB is over the {MAX_FILE_BYTES // 1024 // 1024} MiB limit for one file")
            continue
        cached = cache.get(source)
        if cached is not None:
            cached.extra["lower_seconds"] = 0.0  # read from the cache, not lowered
            modules[source.rel] = cached
        else:
            pending.append(source)
    for source, module in zip(pending, _lower_all(pending, settings, warnings)):
        if module is not None:
            modules[source.rel] = module
            cache.put(source, module)
    return [modules[source.rel] for source in files if source.rel in modules], warnings


def _lower_all(pending: list[SourceFile], settings: Settings, warnings: list[str]) -> list[m.Module | None]:
    jobs = settings.jobs or os.cpu_count() or 1
    if jobs > 1 and len(pending) >= PARALLEL_THRESHOLD:
        batches = [pending[i::jobs * 4] for i in range(jobs * 4)]
        try:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(_lower_batch_safe, batches))
            by_rel = {module.path: module for batch in results for module in batch if module is not None}
            return [by_rel.get(source.rel) for source in pending]
        except (OSError, RuntimeError):
            pass  # no worker processes here (a sandbox, a frozen build): lower in this process
    with collecting_libcst_garbage():
        return run_deep(lambda: _lower_sequentially(pending, warnings))


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


def _lower_sequentially(pending: list[SourceFile], warnings: list[str]) -> list[m.Module | None]:
    out: list[m.Module | None] = []
    for source in pending:
        try:
            out.append(_lower_file(source))
        except OSError as error:
            warnings.append(f"{source.rel}: cannot read ({error.strerror})")
            out.append(None)
    return out


def _lower_batch_safe(batch: list[SourceFile]) -> list[m.Module | None]:
    with collecting_libcst_garbage():
        return run_deep(lambda: _lower_batch(batch))


def _lower_batch(batch: list[SourceFile]) -> list[m.Module | None]:
    out: list[m.Module | None] = []
    for source in batch:
        try:
            out.append(_lower_file(source))
        except OSError:
            out.append(None)
    return out
