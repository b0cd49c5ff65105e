"""Which fixes to make, and making them: the rules' fix descriptions checked against the files as
they are, turned into text by the language's fixer, and combined per file without overlaps."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sparklint.checks import coalesce_before_write
from sparklint.checks.common import unused_noqa_fix
from sparklint.deepstack import run_deep
from sparklint.findings import Applicability, CheckResult, Edit, Finding, Fix, SqlLocation, edit_path
from sparklint.fixes.errors import FixError
from sparklint.fixes.text import text_changes
from sparklint.rules import UNUSED_NOQA
from sparklint.settings import Settings

if TYPE_CHECKING:
    from sparklint.fixes.python import PythonFile
    from sparklint.fixes.scala import ScalaFile

    FileFixer = PythonFile | ScalaFile
Range = tuple[int, int]
Reader = Callable[[str], bytes | None]
# What a fix writes into one file, by (path, digest of the file's bytes, the fix's edits there):
# the changes, or why they cannot be made.
KnownChanges = MutableMapping[tuple, "tuple | str"]


def fixer_for(path: str, data: bytes) -> FileFixer:
    # Imported here: libcst's codemod and matcher modules take a second to import, and a check
    # whose fixes are all known (`with_changes`) needs neither.
    if path.endswith(".py"):
        from sparklint.fixes.python import PythonFile

        return PythonFile(data)
    if path.endswith(".scala"):
        from sparklint.fixes.scala import ScalaFile

        return ScalaFile(data)
    raise FixError("sparklint fixes only Python and Scala files")


# ---------------------------------------------------------------- what the findings offer


def described(result: CheckResult, settings: Settings) -> CheckResult:
    """The findings with the fixes the engine and the run profiles leave to this layer: SPK100's
    (built where suppressions are judged) and SPK001's partition count from the profiled cores."""
    rule = coalesce_before_write.RULE
    threshold = settings.option(rule.code, "max-partitions", rule.option_default("max-partitions"))
    return replace(result, findings=tuple(_described(finding, threshold) for finding in result.findings))


def _described(finding: Finding, threshold: int) -> Finding:
    if finding.autofix is not None and any(isinstance(place, SqlLocation) for place in _edited_places(finding.autofix)):
        return replace(finding, autofix=None)  # the code to change is SQL in a string: not rewritten
    if finding.rule == UNUSED_NOQA.code and finding.autofix is None and len(finding.key) == 2:
        return replace(finding, autofix=unused_noqa_fix(finding.location, finding.key[1]))
    cores = profiled_cores(finding)
    # Twice the cores, unless that is so few that the rule would report the fixed code again.
    if finding.rule == coalesce_before_write.RULE.code and cores and 2 * cores > threshold:
        return replace(finding, autofix=coalesce_before_write.retargeted(finding, 2 * cores))
    return finding


def profiled_cores(finding: Finding) -> int | None:
    """The cores of the newest profiled run that ran the finding's code."""
    evidence = finding.properties.get("evidence")
    runs = evidence.get("runs") if isinstance(evidence, dict) else None
    for run in runs if isinstance(runs, list) else ():
        cores = run.get("cores") if isinstance(run, dict) else None
        if isinstance(cores, int) and not isinstance(cores, bool) and cores > 0:
            return cores
    return None


def fix_enabled(finding: Finding, settings: Settings, unsafe: bool) -> bool:
    """Whether `--fix` applies this finding's fix: fixable and not unfixable, and safe unless
    unsafe fixes are allowed."""
    fix = finding.autofix
    if fix is None or not settings.fix_allowed(finding.rule):
        return False
    return unsafe or fix.applicability is Applicability.SAFE


# ---------------------------------------------------------------- one fix on its own


def with_changes(result: CheckResult, read: Reader, known: KnownChanges | None = None) -> tuple[CheckResult, list[str]]:
    """Each fix with the text it writes (what SARIF and JSON show); a fix that cannot be made on
    the file as it is now is dropped with a warning. `known` holds the changes made before, by
    the files' contents: a fix found there is not made again (a warm check need not parse the
    files its fixes edit); the changes made now are added to it."""
    return run_deep(lambda: _with_changes(result, read, {} if known is None else known))


def _with_changes(result: CheckResult, read: Reader, known: KnownChanges) -> tuple[CheckResult, list[str]]:
    files = _Files(read)
    warnings: list[str] = []
    findings = []
    for finding in result.findings:
        if finding.autofix is not None:
            try:
                finding = replace(finding, autofix=replace(finding.autofix, changes=_changes(finding.autofix, files, known)))
            except FixError as error:
                warnings.append(not_fixed(finding, str(error)))
                finding = replace(finding, autofix=None)
        findings.append(finding)
    return replace(result, findings=tuple(findings)), warnings


class _Files:
    """The files fixes edit, each read once, with its digest and (made when first needed) its fixer."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        self.contents: dict[str, tuple[bytes, str] | None] = {}
        self.fixers: dict[str, FileFixer | FixError] = {}

    def content(self, path: str) -> tuple[bytes, str] | None:
        if path not in self.contents:
            data = self.read(path)
            self.contents[path] = None if data is None else (data, hashlib.blake2b(data, digest_size=16).hexdigest())
        return self.contents[path]

    def data(self, path: str) -> bytes | None:
        content = self.content(path)
        return content[0] if content is not None else None

    def fixer(self, path: str) -> FileFixer:
        return _fixer(path, self.data, self.fixers)


class ChangesMemo:
    """The `known` of `with_changes` for a run: the changes an earlier run made (`earlier`) and
    the ones this run used, which are all a store keeps for the next run."""

    def __init__(self, earlier: Mapping[tuple, tuple | str] | None = None) -> None:
        self.earlier = earlier or {}
        self.used: dict[tuple, tuple | str] = {}

    def get(self, key: tuple) -> tuple | str | None:
        made = self.used.get(key)
        if made is None:
            made = self.earlier.get(key)
            if made is not None:
                self.used[key] = made
        return made

    def __setitem__(self, key: tuple, made: tuple | str) -> None:
        self.used[key] = made


def _changes(fix: Fix, files: _Files, known: KnownChanges):
    changes = []
    for path, edits in edits_by_path(fix.edits).items():
        content = files.content(path)
        key = None if content is None else (path, content[1], tuple(edits))
        made = known.get(key) if key is not None else None
        if made is None:
            try:
                fixer = files.fixer(path)
                made = tuple(text_changes(path, _source(fixer), fixer.apply(edits)))
            except FixError as error:
                made = str(error)
            if key is not None:
                known[key] = made
        if isinstance(made, str):
            raise FixError(made)
        changes += made
    return tuple(changes)


def _fixer(path: str, read: Reader, fixers: dict[str, FileFixer | FixError]) -> FileFixer:
    if path not in fixers:
        data = read(path)
        try:
            if data is None:
                raise FixError("the file cannot be read")
            fixers[path] = fixer_for(path, data)
        except FixError as error:
            fixers[path] = error
    fixer = fixers[path]
    if isinstance(fixer, FixError):
        raise fixer
    return fixer


def _source(fixer: FileFixer) -> bytes:
    return fixer.index.data


def edits_by_path(edits: Iterable[Edit]) -> dict[str, list[Edit]]:
    grouped: dict[str, list[Edit]] = {}
    for edit in edits:
        grouped.setdefault(edit_path(edit), []).append(edit)
    return grouped


def not_fixed(finding: Finding, why: str) -> str:
    return f"{finding.location}: {finding.rule} not fixed: {why}"


# ---------------------------------------------------------------- one round of fixes


@dataclass(slots=True)
class Round:
    """What one round did: the files it changed (their new bytes), the findings fixed, the
    findings whose fixes wait for the next round (they overlap a fix made in this one)."""

    changed: dict[str, bytes] = field(default_factory=dict)
    fixed: list[Finding] = field(default_factory=list)
    deferred: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Candidate:
    findings: list[Finding]
    fix: Fix
    ranges: dict[str, list[Range]]


def fix_round(findings: Iterable[Finding], contents: Mapping[str, bytes], refused: set[tuple]) -> Round:
    """Make every fix that does not overlap an earlier one (in the findings' order); `refused`
    holds fixes that failed before, which are not tried again (and are added to)."""
    return run_deep(lambda: _fix_round(list(findings), contents, refused))


def _fix_round(findings: list[Finding], contents: Mapping[str, bytes], refused: set[tuple]) -> Round:
    outcome = Round()
    fixers: dict[str, FileFixer | FixError] = {}
    candidates = _non_overlapping(findings, contents, fixers, refused, outcome)
    while candidates:
        failed = _combine(candidates, fixers, outcome)
        if not failed:
            break
        candidates = _without_failures(candidates, failed, fixers, refused, outcome)
    else:
        outcome.changed.clear()
    return outcome


def _non_overlapping(findings, contents, fixers, refused, outcome: Round) -> list[_Candidate]:
    read = contents.get
    candidates: list[_Candidate] = []
    by_edits: dict[tuple[Edit, ...], _Candidate] = {}
    for finding in findings:
        fix = finding.autofix
        assert fix is not None
        if fix.edits in by_edits:  # the same fix for another finding (a key grouped and joined by)
            by_edits[fix.edits].findings.append(finding)
            continue
        identity = (finding.rule, finding.location, fix.edits)
        if identity in refused:
            continue
        try:
            ranges = {path: _fixer(path, read, fixers).touched(edits) for path, edits in edits_by_path(fix.edits).items()}
        except FixError as error:
            refused.add(identity)
            outcome.warnings.append(not_fixed(finding, str(error)))
            continue
        if any(_overlaps(ranges, candidate.ranges) for candidate in candidates):
            outcome.deferred += 1
            continue
        candidate = _Candidate([finding], fix, ranges)
        candidates.append(candidate)
        by_edits[fix.edits] = candidate
    return candidates


def _overlaps(first: dict[str, list[Range]], second: dict[str, list[Range]]) -> bool:
    return any(a < d and c < b for path in first.keys() & second.keys()
               for a, b in first[path] for c, d in second[path])


def _combine(candidates: list[_Candidate], fixers, outcome: Round) -> set[str]:
    """Every candidate's edits applied, file by file; the files where that failed."""
    outcome.changed.clear()
    failed: set[str] = set()
    for path in dict.fromkeys(path for candidate in candidates for path in candidate.ranges):
        edits = [edit for candidate in candidates for edit in edits_by_path(candidate.fix.edits).get(path, [])]
        fixer = fixers[path]
        try:
            data = fixer.apply(edits)
        except FixError:
            failed.add(path)
            continue
        if data != _source(fixer):
            outcome.changed[path] = data
    if not failed:
        outcome.fixed = [finding for candidate in candidates if _changes_something(candidate, outcome)
                         for finding in candidate.findings]
    return failed


def _changes_something(candidate: _Candidate, outcome: Round) -> bool:
    return any(path in outcome.changed for path in candidate.ranges)


def _without_failures(candidates, failed: set[str], fixers, refused, outcome: Round) -> list[_Candidate]:
    """In a file whose fixes failed together: the fixes that fail on their own are dropped (with
    a warning); if the others still fail together, the first one is kept and the rest wait."""
    kept = []
    for candidate in candidates:
        if not failed & candidate.ranges.keys():
            kept.append(candidate)
            continue
        try:
            for path, edits in edits_by_path(candidate.fix.edits).items():
                fixers[path].apply(edits)
        except FixError as error:
            finding = candidate.findings[0]
            refused.add((finding.rule, finding.location, candidate.fix.edits))
            outcome.warnings.append(not_fixed(finding, str(error)))
            continue
        kept.append(candidate)
    if len(kept) == len(candidates):  # each works alone, not together: one per failed file this round
        first = {path: next(c for c in kept if path in c.ranges) for path in failed}
        kept = [c for c in kept if all(first.get(path, c) is c for path in c.ranges)]
        outcome.deferred += len(candidates) - len(kept)
    return kept


def _edited_places(fix) -> list:
    """Where each edit of a fix applies: the call it changes, or the comment."""
    places = []
    for edit in fix.edits:
        site = getattr(edit, "call", None) or getattr(getattr(edit, "argument", None), "call", None) \
            or getattr(getattr(edit, "operand", None), "call", None)
        places.append(site.location if site is not None else getattr(edit, "location", None))
    return places
