"""Reusing the last analysis of a project when nothing it depends on changed.

The analysis of a project is a function of its files' contents (each lowered module carries the
digest of its path and bytes), of the settings that change what rules report, and of
sparklint's own code (`engine_fingerprint`). The last result for one project and one set of settings is kept in one
file, keyed by all of these; a run with the same key reports it again without analysing. The
file is replaced atomically, so two runs sharing a cache never see half of one.

The result keeps an outline of every module (its path, size and `noqa` comments), so a run
that reuses it need not load the lowered modules at all.

An edit that leaves every edited module's code as it was (a comment, a `noqa`, blank lines at
the end: only positions the analysis never reads, if any) is cut off early: the edited files are
lowered again, compared with their last lowering, and the last result is reported with their new
outlines. An edit that changes code but keeps every edited module's interface (`graph.units`:
a function body, a constant) analyses again only the groups of roots (`analysis.py`) that read
an edited unit, and takes the others from the last result: a group's findings depend on nothing
but the code it read, so the result is the one a full run gives. A unit that only moved (lines
added or removed above it) is not edited: the groups that read it keep their results, moved to
its new lines (`analysis.reusable`). An edit that adds, removes or redefines names (a function,
a method, a field, an import: `units.changed_names`) also analyses again the groups that read
code spelling one of those names; a call added or removed, the groups whose context budgets
were measured against that name's call count (`GroupResult.budgeted`). Any other edit (a
wildcard import, a class's new bases, a file added or removed, other Spark configuration)
analyses everything again; only the edited files are lowered again (project.py).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from sparklint import __version__
from sparklint import model as m
from sparklint.atomic import write_atomically
from sparklint.findings import Finding
from sparklint.pickling import by_fields

RESULT_FORMAT = 7  # bump when StoredResult's shape changes


@dataclass(frozen=True, slots=True)
class StoredResult:
    key: str
    findings: tuple[Finding, ...]
    operations: tuple[dict, ...]
    notes: tuple[str, ...]
    outlines: tuple[m.Module, ...]  # the modules without their code: what reporting needs of them
    files: tuple[tuple[str, str], ...] = ()  # (path, digest of path and bytes) of every source file
    conf: tuple[tuple[str, str], ...] = ()  # the same of every Spark configuration file read
    basis: str = ""  # the settings and sparklint's own code it was found with (`analysis_basis`)
    groups: tuple = ()  # the analysis by group (`analysis.GroupResult`), for re-checks after an edit
    spark_conf: str = ""  # the Spark configuration its rules saw (`Analysis.conf`)
    call_counts: tuple = ()  # `units.call_counts` of the project it analysed


by_fields(StoredResult)


class Memory:
    """What a process that checks one project again and again (the language server) keeps
    between runs instead of reading it back from the cache: the last result, and every file's
    lowered module by the digest of its path and contents."""

    SAVE_EVERY_SECONDS = 30.0  # to disk, for the next process: a keystroke should not wait for it

    def __init__(self) -> None:
        self.stored: StoredResult | None = None
        self.modules: dict[str, m.Module] = {}
        self.index = None  # the last analysis's `ProjectIndex`, patched when only code changes
        from sparklint.project import FileMemory  # project.py imports this module

        self.files = FileMemory()  # the last listing and the files' bytes, while unchanged on disk
        self._saved_at: float | None = None

    def due_to_save(self) -> bool:
        now = time.monotonic()
        if self._saved_at is not None and now - self._saved_at < self.SAVE_EVERY_SECONDS:
            return False
        self._saved_at = now
        return True

    def remember(self, stored: StoredResult, texts, modules: list[m.Module], index=None) -> None:
        """Keep the result of a run over `texts` and the code of its `modules`; a module the
        run reported from its outline (`outline`) keeps the code remembered for it. `index` is
        the run's project index, if it analysed (a run that reported its last result keeps the
        index it had)."""
        if index is not None:
            self.index = index
        by_path = {module.path: module for module in modules}
        lowered: dict[str, m.Module] = {}
        for text in texts:
            module = by_path.get(text.source.rel)
            if module is None or module.extra.get("outline"):
                module = self.modules.get(text.digest)
            if module is not None:
                lowered[text.digest] = module
        self.stored, self.modules = stored, lowered


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@functools.lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """sparklint's own code as installed: a checkout or an upgrade that keeps the version number
    still invalidates what its cache holds."""
    package = Path(__file__).resolve().parent
    hasher = hashlib.blake2b(__version__.encode(), digest_size=16)
    for path in sorted(package.rglob("*.py")):
        try:
            status = path.stat()
        except OSError:
            continue
        hasher.update(f"{path.relative_to(package)}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return hasher.hexdigest()


def project_key(digests: Iterable[tuple[str, str]], settings_key: str) -> str:
    """What a project's analysis depends on: each file's (path, digest of path and bytes), the
    settings and sparklint's own code."""
    hasher = hashlib.blake2b(f"{settings_key}\0{engine_fingerprint()}\0{RESULT_FORMAT}\0".encode(), digest_size=16)
    for path, file_digest in sorted(digests):
        hasher.update(os.fsencode(f"{path}\0{file_digest}\0"))  # a path may hold bytes that are not UTF-8
    return hasher.hexdigest()


def same_code(old: m.Module, new: m.Module) -> bool:
    """Whether the analysis sees the same module in both: all but the `noqa` comments and the
    line count, which only reporting reads."""
    return old == replace(new, suppressions=old.suppressions, line_count=old.line_count)


def analysis_basis(settings_key: str) -> str:
    """What a result depends on besides the files: an early cutoff may reuse only a result found
    with the same settings by the same sparklint."""
    return project_key((), settings_key)


def outline(module: m.Module) -> m.Module:
    """The module without its code."""
    return m.Module(module.path, module.language, module.name, module.namespace,
                    suppressions=module.suppressions, parse_errors=module.parse_errors,
                    line_count=module.line_count, extra={"cached": True, "lower_seconds": 0.0, "outline": True})


class ResultStore:
    """The last analysis of one project with one set of settings."""

    def __init__(self, directory: Path, settings_key: str) -> None:
        self.basis = analysis_basis(settings_key)
        self.path = directory / f"analysis-{digest(settings_key.encode())}.pickle"

    def load(self, key: str) -> StoredResult | None:
        stored = self.load_latest()
        return stored if stored is not None and stored.key == key else None

    def load_latest(self) -> StoredResult | None:
        """The last result kept, whatever files it was for."""
        try:
            with self.path.open("rb") as handle:
                stored = pickle.load(handle)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None
        if not isinstance(stored, StoredResult) or getattr(stored, "basis", None) != self.basis:
            return None  # another sparklint or other settings (an older one may lack the fields)
        return stored

    def save(self, result: StoredResult) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except (OSError, pickle.PickleError, RecursionError):
            return  # costs the next run time, never this run's result
        write_atomically(self.path, data, prefix=".analysis-")
