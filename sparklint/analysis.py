"""The analysis of a project in independent groups: the roots (`graph.roots`) defined in one file
are analysed together by an interpreter of their own, which nothing else the run analyses can
influence. So a group's findings depend only on its roots and the code they read; groups may run
in any order or in parallel with the same result; and after an edit only the groups that read an
edited code unit (`graph.units`) are analysed again.

The groups' findings are merged in the order of the roots (entry points first), the first
finding at a place winning, so a finding keeps the chain from the entry point that reaches it.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Callable, Iterable, Mapping, Sequence

from sparklint.checks.common import CheckContext
from sparklint.deepstack import run_deep
from sparklint.findings import Finding
from sparklint.model import load_code
from sparklint.graph.events import Event
from sparklint.graph.facts import event_facts
from sparklint.graph.index import ProjectIndex
from sparklint.graph.interp import Interpreter, code_label
from sparklint.graph.units import LineMap
from sparklint.pickling import by_fields

# Below this many lines the whole analysis takes well under a second: starting processes would cost more.
PARALLEL_MIN_LINES = 30_000


@dataclass(frozen=True, slots=True)
class RootResult:
    key: tuple[str, str]  # ("module", path) or ("function", qualified name)
    path: str
    label: str  # how timings and notes name it: "module code", "main()"
    findings: tuple[Finding, ...]
    operations: tuple[tuple[tuple, dict], ...]  # ((event kind, location), facts), first seen first
    degraded: tuple[tuple[tuple[str, str], str], ...]  # ((path, what), why): brakes reached
    seconds: float


@dataclass(frozen=True, slots=True)
class GroupResult:
    path: str  # the file whose roots these are
    roots: tuple[RootResult, ...]
    reads: frozenset[str]  # the code units the group's analysis read
    evaluations: int
    seconds: float
    paths: frozenset[str] = frozenset()  # the files its findings and operations name places in
    budgeted: frozenset[tuple[str, int]] = frozenset()  # (name, call count) its context budgets depended on


by_fields(RootResult, GroupResult)  # the last result on disk holds one per root

Root = tuple[str, object]  # ("module", m.Module) or ("function", Symbol)


def root_key(root: Root) -> tuple[str, str]:
    kind, target = root
    return (kind, target.path) if kind == "module" else (kind, target.qualname)


def root_path(root: Root) -> str:
    kind, target = root
    return target.path if kind == "module" else target.module.path


def root_label(root: Root) -> str:
    kind, target = root
    return "module code" if kind == "module" else code_label(target)


def group_roots(order: Iterable[Root]) -> dict[str, list[Root]]:
    """The roots by the file that defines them, each group in the order of the whole analysis."""
    groups: dict[str, list[Root]] = {}
    for root in order:
        groups.setdefault(root_path(root), []).append(root)
    return groups


@dataclass(frozen=True, slots=True)
class Job:
    """What analysing a group needs; shared read-only by every group of a run."""

    index: ProjectIndex
    context: CheckContext
    checks: tuple
    collect_operations: bool


def analyse_group(job: Job, path: str, roots: Sequence[Root]) -> GroupResult:
    started = time.perf_counter()
    findings: dict[tuple, Finding] = {}
    operations: dict[tuple, dict] = {}

    def on_event(event: Event) -> None:
        if job.collect_operations:
            place = (type(event).__name__, event.location)
            if place not in operations:
                operations[place] = event_facts(event)
        for check in job.checks:
            for finding in check.check(event, job.context):
                findings.setdefault((finding.rule, finding.location), finding)

    interpreter = Interpreter(job.index, on_event)
    results: list[RootResult] = []
    for root in roots:
        root_started = time.perf_counter()
        findings.clear()
        operations.clear()
        degraded_before = len(interpreter.degraded)
        kind, target = root
        try:
            if kind == "module":
                interpreter.run_module_body(target)
            else:
                interpreter.run_function(target)
        except RecursionError:
            # an expression nested deeper than even the big stack allows: the rest of this root is skipped
            interpreter.note_degraded(root_path(root), root_label(root), "nested too deeply to follow")
        degraded = tuple(interpreter.degraded.items())[degraded_before:]
        results.append(RootResult(root_key(root), root_path(root), root_label(root), tuple(findings.values()),
                                  tuple(operations.items()), degraded, time.perf_counter() - root_started))
    return GroupResult(path, tuple(results), frozenset(interpreter.reads), interpreter.evaluations,
                       time.perf_counter() - started, frozenset(_paths_in(results)), frozenset(interpreter.budgeted))


def affected(previous: Mapping[str, GroupResult], changed_units: frozenset[str]) -> set[str]:
    """The groups of a previous analysis that read a changed unit."""
    return {path for path, group in previous.items() if not group.reads.isdisjoint(changed_units)}


def reusable(group: GroupResult, roots: Sequence[Root], lines: Mapping[str, LineMap]) -> GroupResult | None:
    """A previous group's result for the same roots in the same order, its places in edited
    files moved to where their code stands now; None when one of them is in edited code."""
    if tuple(result.key for result in group.roots) != tuple(root_key(root) for root in roots):
        return None
    if lines.keys().isdisjoint(group.paths):
        return group
    try:
        return _relocated(group, lines)
    except _Unmapped:
        return None


def _paths_in(value, found: set[str] | None = None) -> set[str]:
    """Every `path` a result names: of its locations, and of the places in its facts."""
    found = set() if found is None else found
    kind = type(value)
    if kind is tuple or kind is list:
        for item in value:
            _paths_in(item, found)
    elif kind is dict:
        if isinstance(value.get("path"), str):
            found.add(value["path"])
        for key, item in value.items():
            _paths_in(key, found)
            _paths_in(item, found)
    elif is_dataclass(value) and not isinstance(value, type):
        path = getattr(value, "path", None)
        if isinstance(path, str):
            found.add(path)
        for item in fields(value):
            _paths_in(getattr(value, item.name), found)
    return found


class _Unmapped(Exception):
    """A place in code that an edit changed: the result holding it cannot be moved."""


def _relocated(value, lines: Mapping[str, LineMap]):
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is tuple or kind is list:
        items = [_relocated(item, lines) for item in value]
        return items if kind is list else tuple(items)
    if kind is frozenset:
        return value
    if kind is dict:
        moved = {_relocated(key, lines): _relocated(item, lines) for key, item in value.items()}
        if isinstance(moved.get("path"), str) and moved["path"] in lines and isinstance(moved.get("line"), int):
            _move_lines(moved, lines[moved["path"]])
        return moved
    if is_dataclass(value):
        names = [item.name for item in fields(value)]
        parts = {name: _relocated(getattr(value, name), lines) for name in names}
        path = parts.get("path")
        if isinstance(path, str) and path in lines and isinstance(parts.get("line"), int):
            _move_lines(parts, lines[path])
        return kind(**parts)
    return value


def _move_lines(parts: dict, line_map: LineMap) -> None:
    for name in ("line", "end_line"):
        line = parts.get(name)
        if isinstance(line, int) and line > 0:
            moved = line_map.new_line(line)
            if moved is None:
                raise _Unmapped(line)
            parts[name] = moved


def run_groups(job: Job, groups: Mapping[str, list[Root]], jobs: int, lines: int,
               cost: Callable[[str], float]) -> dict[str, GroupResult]:
    """Every group analysed, in worker processes when the project is large enough to gain."""
    if jobs > 1 and len(groups) > 1 and lines >= PARALLEL_MIN_LINES and _can_fork():
        try:
            return _run_forked(job, groups, jobs, cost)
        except OSError:
            pass  # no worker processes here (a sandbox): analyse in this process
    return run_deep(lambda: {path: analyse_group(job, path, roots) for path, roots in groups.items()})


def _can_fork() -> bool:
    # A process with other threads (an editor's language server) may hold locks a forked child
    # would wait on for ever.
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


_FORKED: tuple[Job, Mapping[str, list[Root]]] | None = None


def _run_forked(job: Job, groups: Mapping[str, list[Root]], jobs: int,
                cost: Callable[[str], float]) -> dict[str, GroupResult]:
    global _FORKED
    # The costliest groups first, so that no worker is left with a long one at the end.
    paths = sorted(groups, key=lambda path: (-cost(path), path))
    for module in job.index.sources:  # loaded once here and shared, not once in each worker
        load_code(module)
    _FORKED = (job, groups)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(jobs, len(paths))) as pool:
            results = dict(pool.imap_unordered(_analyse_forked, paths, chunksize=1))
    finally:
        _FORKED = None
    # Each result came back with its own copies of the unit names: share them again.
    return {path: replace(results[path], reads=frozenset(map(sys.intern, results[path].reads))) for path in groups}


def _analyse_forked(path: str) -> tuple[str, GroupResult]:
    assert _FORKED is not None
    job, groups = _FORKED
    return path, run_deep(lambda: analyse_group(job, path, groups[path]))


def merged(order: Iterable[Root], groups: Mapping[str, GroupResult]):
    """The findings, operations and brake notes of all groups, in the order of the roots."""
    by_key = {result.key: result for group in groups.values() for result in group.roots}
    findings: dict[tuple, Finding] = {}
    operations: dict[tuple, dict] = {}
    degraded: dict[tuple[str, str], str] = {}
    roots: list[RootResult] = []
    for root in order:
        result = by_key.get(root_key(root))
        if result is None:
            continue
        roots.append(result)
        for finding in result.findings:
            findings.setdefault((finding.rule, finding.location), finding)
        for place, facts in result.operations:
            operations.setdefault(place, facts)
        for place, why in result.degraded:
            degraded.setdefault(place, why)
    return list(findings.values()), list(operations.values()), degraded, roots
