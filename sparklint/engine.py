"""`sparklint check` end to end: files -> model -> graph -> rules -> findings."""

from __future__ import annotations

import gc
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from sparklint import model as m
from sparklint.analysis import GroupResult, Job, affected, group_roots, merged, reusable, run_groups
from sparklint.checks import CHECKS
from sparklint.checks.common import CheckContext, is_test_path
from sparklint.findings import CheckResult, FileTiming, Finding, Location, NoqaSpan, RootTiming, Timings
from sparklint.graph.index import ProjectIndex
from sparklint.graph.roots import analysis_roots
from sparklint.graph.sparkconf import project_conf
from sparklint.graph.units import (
    LineMap, call_counts, called_or_not, changed_names, code_diff, interface, unit_diff, units_mentioning,
)
from sparklint.incremental import (
    Memory, ResultStore, StoredResult, analysis_basis, digest, outline, project_key, same_code,
)
from sparklint.frontends import SOURCE_SUFFIXES
from sparklint.project import (
    SourceFile, SourceText, cache_directory, discover, find_root, lower_sources, module_cache, read_conf_files,
    read_sources, resolved,
)
from sparklint.rules import PARSE_ERROR, UNUSED_NOQA
from sparklint.catalogue import runtime_rules
from sparklint.settings import Settings

Progress = Callable[[str], None]
SPARKLINT_CODE = re.compile(r"SPK\d{3}")
MAX_TIMED_ROOTS = 50
MAX_CUTOFF_FILES = 50  # more edited files than this (a checkout, a rebase): analyse, do not compare


def run_check(paths: Sequence[str | Path], settings: Settings, progress: Progress | None = None,
              overlays: Mapping[str | Path, str | bytes] | None = None, memory: Memory | None = None) -> CheckResult:
    """Check the project of `paths`. `overlays` are unsaved contents (an editor's buffers) by
    path, absolute or relative to the project root: they are checked instead of what is on disk,
    and a path that is not on disk yet is checked too. `memory` is kept by a process that checks
    the same project again and again (the language server): the next run starts from it instead
    of the cache on disk."""
    with paused_garbage_collection():
        return _run_check(paths, settings, progress, overlays or {}, memory)


def prepare(paths: Sequence[str | Path], settings: Settings, memory: Memory,
            overlays: Mapping[str | Path, str | bytes] | None = None) -> None:
    """Load into `memory` what a re-check after an edit reads, ahead of the edit: every module
    (from the cache, their code still loaded lazily) and the project index. A process that
    waits for edits (the language server) calls it while idle, after a run that reported its
    last result without loading the modules."""
    with paused_garbage_collection():
        if memory.stored is None:
            return
        requested = [resolved(Path(p)) for p in (paths or ["."])]
        root, files, unsaved = _project_files(requested, settings, overlays or {}, memory)
        texts, _ = read_sources(files, unsaved, memory.files)
        if all(text.digest in memory.modules for text in texts) and memory.index is not None:
            return
        modules = lower_sources(texts, root, settings, known=memory.modules)
        by_path = {module.path: module for module in modules}
        memory.modules = {text.digest: by_path[text.source.rel] for text in texts if text.source.rel in by_path}
        memory.index = ProjectIndex.build(sorted(modules, key=lambda module: module.path))


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """The model and the interpreter's values are millions of small objects that live until the
    run ends; the cyclic collector would rescan them again and again (a third of the run time)
    to find next to nothing. So it is paused during the run, and what the run leaves alive is
    moved out of its reach afterwards (`gc.freeze`): otherwise the first collection after the
    run scans all of it, which in a process that checks again and again (the language server)
    is a pause of seconds after every re-check. Freed objects are still freed (by their
    reference counts); a run leaves next to no cycles behind."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _run_check(paths: Sequence[str | Path], settings: Settings, progress: Progress | None,
               overlays: Mapping[str | Path, str | bytes], memory: Memory | None) -> CheckResult:
    started = time.perf_counter()
    requested = [resolved(Path(p)) for p in (paths or ["."])]
    warnings: list[str] = []
    for path in requested:
        if not path.exists():
            warnings.append(f"{path}: no such file or directory")
    root, files, unsaved = _project_files(requested, settings, overlays, memory)
    if progress:
        progress(f"parsing {len(files)} file{'s' if len(files) != 1 else ''}")
    lowering_started = time.perf_counter()
    texts, read_warnings = read_sources(files, unsaved, memory.files if memory is not None else None)
    warnings.extend(read_warnings)
    collect_operations = bool(settings.profiles)
    settings_key = _settings_key(settings, collect_operations)
    store = ResultStore(cache_directory(root, settings), settings_key) if settings.use_cache else None
    conf_texts = read_conf_files(root, settings)
    file_digests = tuple((text.source.rel, text.digest) for text in texts)
    conf_digests = tuple((rel, digest(body.encode("utf-8", "surrogateescape"))) for rel, body in conf_texts)
    key = project_key([*file_digests, *conf_digests], settings_key)
    basis = analysis_basis(settings_key)
    if memory is not None and memory.stored is not None and memory.stored.basis == basis:
        stored = memory.stored
    else:
        stored = store.load_latest() if store is not None else None
    known = memory.modules if memory is not None else {}
    edit = _edit(stored, key, texts, conf_digests, root, settings, known) if stored is not None else Edit()
    if edit.modules is not None:  # nothing the analysis reads changed since the last run
        modules = edit.modules
        lowering_seconds = time.perf_counter() - lowering_started
        analysis = Analysis(list(stored.findings), list(stored.operations), stored.notes, (), 0.0, 0, reused=True,
                            groups=stored.groups, conf=stored.spark_conf, call_counts=stored.call_counts)
    else:
        # the files the early-cutoff comparison lowered are not read back from the cache
        lowered = {module.extra["digest"]: module for module in edit.fresh.values() if "digest" in module.extra}
        modules = lower_sources(texts, root, settings, known=known, lowered=lowered)
        lowering_seconds = time.perf_counter() - lowering_started
        if progress:
            progress(f"analysing {len(modules)} module{'s' if len(modules) != 1 else ''}")
        previous = None
        if edit.changed_units is not None and stored is not None and stored.groups:
            previous = Previous({group.path: group for group in stored.groups}, edit.changed_units,
                                stored.spark_conf, stored.call_counts, edit.lines, edit.changed_names)
        analysis = analyse(modules, settings, collect_operations=collect_operations, conf_texts=conf_texts,
                           previous=previous, last_index=memory.index if memory is not None else None)
    if stored is None or stored.key != key:
        result = StoredResult(key, tuple(analysis.findings), tuple(analysis.operations), analysis.notes,
                              tuple(outline(module) for module in modules), file_digests, conf_digests, basis,
                              analysis.groups, analysis.conf, analysis.call_counts)
        if store is not None and (memory is None or memory.due_to_save()):
            store.save(result)  # a process that remembers its runs writes them now and then
        stored = result
    if memory is not None:
        memory.remember(stored, texts, modules, analysis.index)
    findings = apply_suppressions(analysis.findings, modules, settings)
    whole = root in requested
    if not whole:  # only part of the project was asked for
        findings = [f for f in findings if _touches(f, requested, root)]
    findings.sort(key=Finding.sort_key)
    return CheckResult(
        findings=tuple(findings),
        files_checked=sum(1 for mod in modules if whole or _under_any(root / mod.path, requested)),
        lines_checked=sum(mod.line_count for mod in modules if whole or _under_any(root / mod.path, requested)),
        root=str(root),
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
        operations=tuple(analysis.operations),
        files=tuple(module.path for module in modules),
        noqa=tuple(
            NoqaSpan(module.path, suppression.first_line, suppression.last_line, suppression.codes)
            for module in modules
            for suppression in module.suppressions
        ),
        notes=analysis.notes,
        timings=run_timings(modules, analysis, lowering_seconds, time.perf_counter() - started),
    )


@dataclass(slots=True)
class Edit:
    """What changed since the stored result. `modules`: report the stored result with these (no
    code changed); otherwise `changed_units`, when known, are the only code units that changed
    (every edited module kept its interface), and `fresh` the edited files already lowered."""

    modules: list[m.Module] | None = None
    changed_units: frozenset[str] | None = None
    changed_names: frozenset[str] = frozenset()  # names defined or imported differently (`units.changed_names`)
    fresh: dict[str, m.Module] = field(default_factory=dict)
    lines: dict[str, LineMap] = field(default_factory=dict)  # where the edited files' unchanged code stands


def _edit(stored: StoredResult, key: str, texts: list[SourceText], conf_digests: tuple[tuple[str, str], ...],
          root: Path, settings: Settings, known: Mapping[str, m.Module]) -> Edit:
    """Compare the files with the stored result's: unchanged, changed only where the analysis
    never reads (early cutoff: a comment or a `noqa` edit), changed in some code units, or
    changed in a way that needs the whole analysis."""
    if stored.key == key:
        return Edit(modules=list(stored.outlines))
    before = dict(stored.files)
    if stored.conf != conf_digests or set(before) != {text.source.rel for text in texts}:
        return Edit()
    changed = [text for text in texts if before[text.source.rel] != text.digest]
    if len(changed) > MAX_CUTOFF_FILES:
        return Edit()
    cache = module_cache(root, settings)
    previous = [known.get(before[text.source.rel]) or cache.get(SourceText(text.source, b"", before[text.source.rel]))
                for text in changed]
    if any(module is None for module in previous):
        return Edit()
    lowered = lower_sources(changed, root, settings, prune=False, known=known)
    edit = Edit(fresh={module.path: module for module in lowered})
    if len(lowered) != len(changed):
        return edit
    if all(map(same_code, previous, lowered)):
        return Edit(modules=[edit.fresh.get(module.path, module) for module in stored.outlines])
    units: set[str] = set()
    names: set[str] = set()
    for old, new in zip(previous, lowered):
        diff = unit_diff(old, new)
        if diff is None:  # a name added, removed or defined anew: what never spells it is unaffected
            renamed = changed_names(old, new)
            if renamed is None:
                return edit
            names |= renamed
            diff = code_diff(old, new)
        units |= diff.changed
        if any(delta for _, _, delta in diff.lines.pieces):
            edit.lines[new.path] = diff.lines
    edit.changed_units = frozenset(units)
    edit.changed_names = frozenset(names)
    return edit


def run_timings(modules: list[m.Module], analysis: "Analysis", lowering_seconds: float, total_seconds: float) -> Timings:
    analysed: dict[str, float] = {}
    for root in analysis.roots:
        analysed[root.path] = analysed.get(root.path, 0.0) + root.seconds
    files = tuple(
        FileTiming(module.path, module.line_count, module.extra.get("lower_seconds", 0.0), analysed.get(module.path, 0.0))
        for module in modules
    )
    phases = (("lowering", lowering_seconds), ("analysis", analysis.seconds), ("total", total_seconds))
    slowest = tuple(sorted(analysis.roots, key=lambda root: -root.seconds)[:MAX_TIMED_ROOTS])
    lowered = sum(1 for module in modules if not module.extra.get("cached"))
    return Timings(phases, files, slowest, lowered, analysis.reused, len(analysis.groups), analysis.analysed_groups)


def _relative_overlays(overlays: Mapping[str | Path, str | bytes], root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for path, text in overlays.items():
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                candidate = resolved(candidate).relative_to(root)
            except ValueError:
                continue  # outside the project: not part of this check
        rel = candidate.as_posix()
        if rel.endswith(SOURCE_SUFFIXES):
            out[rel] = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    return out


def _project_files(requested: list[Path], settings: Settings, overlays: Mapping[str | Path, str | bytes],
                   memory: Memory | None) -> tuple[Path, list[SourceFile], dict[str, bytes]]:
    """The project's root; its source files, with the files `requested` names and the unsaved
    buffers not on disk yet; and the buffers by path relative to the root."""
    root = find_root([p for p in requested if p.exists()] or [Path.cwd()], settings.root)
    files = discover(root, settings, memory.files if memory is not None else None)
    files = _with_requested_files(files, requested, root)
    unsaved = _relative_overlays(overlays, root)
    files = files + [SourceFile(root / rel, rel) for rel in sorted(set(unsaved) - {source.rel for source in files})]
    return root, files, unsaved


def _with_requested_files(files, requested: list[Path], root: Path):
    """Files named on the command line are checked even when an exclude pattern matches them
    (pre-commit passes exactly the files it wants checked)."""
    named = [path for path in requested if path.name.endswith(SOURCE_SUFFIXES) and path.is_file()]
    if not named:
        return files
    known = {resolved(source.path) for source in files}
    extra = []
    for path in named:
        if path not in known:
            try:
                rel = path.relative_to(root).as_posix()
            except ValueError:
                continue
            extra.append(SourceFile(path, rel))
    return files + extra


@dataclass(frozen=True, slots=True)
class Analysis:
    findings: list[Finding]
    operations: list[dict]  # every Spark operation seen, for run-profile matching
    notes: tuple[str, ...]  # where the analysis was cut short, by file and function
    roots: tuple[RootTiming, ...]
    seconds: float
    evaluations: int  # (function, calling context) pairs analysed
    reused: bool = False  # taken from the last run: no file and no setting changed
    groups: tuple[GroupResult, ...] = ()  # by file, for the next run to reuse what an edit left alone
    conf: str = ""  # the Spark configuration the rules were given, as the groups saw it
    call_counts: tuple = ()  # `units.call_counts` of the project analysed
    analysed_groups: int = 0  # groups analysed in this run (the others were reused)
    index: ProjectIndex | None = None  # the project index it was found with


@dataclass(frozen=True, slots=True)
class Previous:
    """What a re-check may reuse: the last run's groups, and the code units edited since."""

    groups: Mapping[str, GroupResult]
    changed_units: frozenset[str]
    conf: str
    call_counts: tuple
    lines: Mapping[str, LineMap] = field(default_factory=dict)  # edited files: where unchanged code stands now
    changed_names: frozenset[str] = frozenset()  # names the edited files define or import differently


def analyse(modules: list[m.Module], settings: Settings, collect_operations: bool = True,
            conf_texts: list[tuple[str, str]] = (), previous: Previous | None = None,
            last_index: ProjectIndex | None = None) -> Analysis:
    """Findings of the enabled rules, and (for run-profile matching) every Spark operation seen.
    `conf_texts` are the project's `spark-defaults.conf` files and scripts (path, text).
    With `previous`, the groups that read no changed unit are taken from it; `last_index`, the
    index of the last run, is reused when every module that changed since kept its interface."""
    started = time.perf_counter()
    modules = sorted(modules, key=lambda module: module.path)  # the same results whatever the discovery order
    index = _index(modules, last_index)
    # what a test sets (`spark.conf.set(...)` in a suite's beforeAll) is its own session's, not the jobs'
    job_modules = [module for module in modules if not is_test_path(module.path, settings.test_paths)]
    job_texts = [(path, text) for path, text in conf_texts if not is_test_path(path, settings.test_paths)]
    context = CheckContext(settings, project_conf(job_modules, settings.spark_conf, job_texts))
    conf = repr(context.spark_conf)
    enabled = tuple(check for check in CHECKS if settings.rule_enabled(check.RULE.code))
    order = list(analysis_roots(modules, index))
    groups = group_roots(order)
    reused: dict[str, GroupResult] = {}
    counts = call_counts(index)
    if previous is not None and previous.conf == conf:
        # Again: the groups that read edited code or code that spells a name defined anew, those
        # whose context budgets were measured against a call count that changed, and those with
        # a root named by a function the project now calls or no longer calls.
        stale = affected(previous.groups, previous.changed_units | units_mentioning(modules, previous.changed_names))
        stale.update(path for path, group in previous.groups.items()
                     if any(index.call_sites.get(name, 0) != calls for name, calls in group.budgeted))
        named = called_or_not(previous.call_counts, counts) | previous.changed_names
        stale.update(path for path, roots in groups.items() if _named_root(roots, named))
        for path, group in previous.groups.items():
            if path in groups and path not in stale:
                kept = reusable(group, groups[path], previous.lines)
                if kept is not None:
                    reused[path] = kept
    pending = {path: roots for path, roots in groups.items() if path not in reused}
    lines = {module.path: module.line_count for module in modules}
    before = previous.groups if previous is not None else {}

    def cost(path: str) -> float:
        return before[path].seconds if path in before else lines.get(path, 0) / 10_000

    job = Job(index, context, enabled, collect_operations)
    analysed = run_groups(job, pending, settings.jobs or os.cpu_count() or 1,
                          sum(lines[path] for path in pending), cost)
    results = {path: reused.get(path) or analysed[path] for path in groups}
    findings_list, operations, degraded, roots = merged(order, results)
    findings = {(finding.rule, finding.location): finding for finding in findings_list}
    if settings.rule_enabled(PARSE_ERROR.code):
        for module in modules:
            for error in module.parse_errors:
                finding = parse_error_finding(module, error)
                findings.setdefault((finding.rule, finding.location), finding)
    notes = tuple(f"{path}: {what} was {why}; findings through it may be missing"
                  for (path, what), why in sorted(degraded.items()))
    timings = tuple(RootTiming(root.path, root.label, root.seconds) for root in roots
                    if root.path not in reused)
    return Analysis(list(findings.values()), operations, notes, timings, time.perf_counter() - started,
                    sum(group.evaluations for group in analysed.values()),
                    groups=tuple(results.values()), conf=conf, call_counts=counts,
                    analysed_groups=len(analysed), index=index)


def _named_root(roots, names) -> bool:
    """Whether a group has a function root named by one of `names` (whether the project calls a
    root decides what it reports)."""
    return any(kind == "function" and target.function.name in names for kind, target in roots)


MAX_PATCHED_MODULES = 50  # beyond this many changed modules, building the index again is as quick


def _index(modules: list[m.Module], last: ProjectIndex | None) -> ProjectIndex:
    """The project index: the last one with the changed modules' code replaced when they all
    kept their interface, else built anew."""
    if last is not None and len(last.sources) == len(modules):
        pairs = [(old, new) for old, new in zip(last.sources, modules) if old is not new]
        if (len(pairs) <= MAX_PATCHED_MODULES and all(old.path == new.path for old, new in pairs)
                and all(interface(old) == interface(new) for old, new in pairs)):
            return last.with_code_of(pairs)
    return ProjectIndex.build(modules)


def _settings_key(settings: Settings, collect_operations: bool) -> str:
    """What of the settings the analysis depends on (the rules enabled and their options)."""
    enabled = sorted(check.RULE.code for check in CHECKS if settings.rule_enabled(check.RULE.code))
    options = sorted((code, sorted(values.items())) for code, values in settings.rule_options.items())
    return repr((enabled, options, collect_operations, sorted(settings.spark_conf.items()), tuple(settings.test_paths)))


def parse_error_finding(module: m.Module, error: m.ParseError) -> Finding:
    span = error.span
    location = Location(module.path, max(span.line, 1), max(span.col, 1), span.end_line, span.end_col)
    return Finding(
        rule=PARSE_ERROR.code,
        severity=PARSE_ERROR.severity,
        message=f"cannot parse this file: {error.message}; the rest of the project was still checked",
        location=location,
        fix=_parse_error_fix(error),
        key=(PARSE_ERROR.code, error.message.split(":")[0]),
    )


def _parse_error_fix(error: m.ParseError) -> str:
    if error.kind == "encoding":
        return "save the file as UTF-8 (sparklint reads source files as UTF-8, as Python 3 and scalac do)"
    if error.kind == "limit":
        return "split or simplify the file, or exclude it (`exclude` in [tool.sparklint])"
    return "fix the syntax error (sparklint parses Python 3 and Scala 2.12/2.13/3)"


def apply_suppressions(findings: list[Finding], modules: list[m.Module], settings: Settings) -> list[Finding]:
    """Drop findings a `# noqa: SPKnnn` covers; report each noqa code that covered nothing."""
    by_path = {module.path: module for module in modules}
    used: set[tuple[str, int, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        module = by_path.get(finding.location.path)
        suppression = _covering(module, finding) if module is not None else None
        if suppression is not None:
            used.add((finding.location.path, suppression.line, finding.rule))
        else:
            kept.append(finding)
    if settings.rule_enabled(UNUSED_NOQA.code):
        # Runtime rules report only with a run profile, after this: their noqa cannot be judged here.
        runtime_codes = {rule.code for rule in runtime_rules()}
        for module in modules:
            for suppression in module.suppressions:
                for code in suppression.codes:
                    if code in runtime_codes or not SPARKLINT_CODE.fullmatch(code) or (module.path, suppression.line, code) in used:
                        continue
                    if not settings.rule_enabled(code):
                        continue
                    kept.append(Finding(
                        rule=UNUSED_NOQA.code,
                        severity=UNUSED_NOQA.severity,
                        message=f"unused `noqa` for `{code}`: no {code} finding on this statement",
                        location=Location(module.path, suppression.line, suppression.col),
                        fix=f"remove `{code}` from the `noqa` comment",
                        key=(UNUSED_NOQA.code, code),
                    ))
    return kept


def _covering(module: m.Module, finding: Finding) -> m.Suppression | None:
    line = finding.location.line
    for suppression in module.suppressions:
        if finding.rule in suppression.codes and suppression.first_line <= line <= suppression.last_line:
            return suppression
    return None


def _under_any(path: Path, requested: list[Path]) -> bool:
    for base in requested:
        if path == base or base in path.parents:
            return True
    return False


def _touches(finding: Finding, requested: list[Path], root: Path) -> bool:
    places = [finding.location, *(r.location for r in finding.related), *(s.location for s in finding.chain)]
    return any(_under_any(root / place.path, requested) for place in places)


__all__ = ["run_check", "analyse", "prepare"]
