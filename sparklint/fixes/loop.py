"""`--fix` and `--diff`: check, fix, check again, until nothing is left to fix.

The project's sources are read once and checked as overlays, so the analysis sees exactly the
bytes the fixes are made on; each round's fixes are checked again in memory. Files are written
at the end, only if they still hold what was read: the fixes that share a file (and so every
file of a fix that spans several) are written together or not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sparklint.findings import CheckResult, Finding
from sparklint.fixes.plan import fix_enabled, fix_round
from sparklint.fixes.text import unified_diff
from sparklint.frontends import SOURCE_SUFFIXES
from sparklint.project import MAX_FILE_BYTES, discover, find_root, read_regular_file, resolved
from sparklint.settings import Settings

MAX_ROUNDS = 5
Check = Callable[[dict[str, bytes], int], CheckResult]  # (overlays, round) -> the findings to fix


@dataclass(slots=True)
class FixRun:
    root: Path
    result: CheckResult  # the last check: the findings that are left
    originals: dict[str, bytes]  # every source file as read before fixing
    contents: dict[str, bytes]  # the same files with the fixes made
    fixed: list[Finding] = field(default_factory=list)  # in the order they were fixed, as first reported
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return sorted(path for path, data in self.contents.items() if data != self.originals.get(path))


def read_project(paths: Sequence[Path], settings: Settings) -> tuple[Path, dict[str, bytes]]:
    """The project root and the bytes of every source file the check reads."""
    requested = [resolved(Path(path)) for path in paths or [Path(".")]]
    root = find_root([path for path in requested if path.exists()] or [Path.cwd()], settings.root)
    files = {source.rel: source.path for source in discover(root, settings)}
    for path in requested:
        if path.is_file() and path.name.endswith(SOURCE_SUFFIXES) and root in path.parents:
            files.setdefault(path.relative_to(root).as_posix(), path)
    contents = {}
    for rel, path in files.items():
        data = read_regular_file(path, MAX_FILE_BYTES)
        if isinstance(data, bytes):
            contents[rel] = data
    return root, contents


def fix_project(paths: Sequence[Path], settings: Settings, check: Check, *, unsafe: bool) -> FixRun:
    """Fix in memory until a check finds nothing more to fix (at most MAX_ROUNDS rounds)."""
    root, originals = read_project(paths, settings)
    contents = dict(originals)
    run = FixRun(root, check(contents, 0), originals, contents)
    refused: set[tuple] = set()
    for number in range(1, MAX_ROUNDS + 1):
        enabled = [finding for finding in run.result.findings if fix_enabled(finding, settings, unsafe)]
        outcome = fix_round(enabled, contents, refused)
        run.warnings += outcome.warnings
        if not outcome.changed:
            return run
        contents.update(outcome.changed)
        run.fixed += outcome.fixed
        run.result = check(contents, number)
    if any(fix_enabled(finding, settings, unsafe) and finding.autofix is not None
           and (finding.rule, finding.location, finding.autofix.edits) not in refused for finding in run.result.findings):
        run.warnings.append(f"fixes did not converge after {MAX_ROUNDS} rounds; run `sparklint check --fix` again")
    return run


def write_fixes(run: FixRun) -> list[str]:
    """Write the fixed files that nobody changed since they were read; the files that had, and
    every file sharing a fix with them, are left as they are. The paths not written."""
    groups = _file_groups(run)
    skipped: set[str] = set()
    for group in groups:
        changed_on_disk = [path for path in group if _read(run.root / path) != run.originals.get(path)]
        if changed_on_disk:
            skipped |= group
            run.warnings.append(f"{changed_on_disk[0]}: changed since sparklint read it; the fixes in "
                                f"{', '.join(sorted(group))} were not written")
    for path in run.changed:
        if path not in skipped:
            _replace(run.root / path, run.contents[path])
    return sorted(skipped)


def _file_groups(run: FixRun) -> list[set[str]]:
    """The changed files, grouped so that the files of one fix are in one group."""
    groups: list[set[str]] = [{path} for path in run.changed]
    for finding in run.fixed:
        assert finding.autofix is not None
        linked = set(finding.autofix.paths)
        touching = [group for group in groups if group & linked]
        merged = set().union(linked & set(run.changed), *touching)
        groups = [group for group in groups if not group & linked] + [merged]
    return [group for group in groups if group]


def _read(path: Path) -> bytes | None:
    data = read_regular_file(path, MAX_FILE_BYTES)
    return data if isinstance(data, bytes) else None


def _replace(path: Path, data: bytes) -> None:
    """Atomically, keeping the file's permissions."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".sparklint")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def diff(run: FixRun, cwd: Path | None = None) -> str:
    """The fixes as one unified diff, paths relative to the working directory when the project is
    under it (else to the project root), so `git apply` takes it where the command ran."""
    base = resolved(cwd or Path.cwd())
    parts = []
    for path in run.changed:
        absolute = run.root / path
        label = absolute.relative_to(base).as_posix() if base in absolute.parents else path
        parts.append(unified_diff(label, run.originals[path], run.contents[path]))
    return "".join(parts)
