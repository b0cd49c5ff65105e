"""What every check needs: the settings it reads, chains from entry point to line, and short
descriptions of values for messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from sparklint.findings import Applicability, ChainStep, Fix, Location, RemoveNoqaCode
from sparklint.graph.facts import stack_steps
from sparklint.graph.sparkconf import SparkConf
from sparklint.graph.values import ConstV, DataFrameV, Stack
from sparklint.rules import Rule
from sparklint.settings import Settings


@dataclass(frozen=True, slots=True)
class CheckContext:
    settings: Settings
    spark_conf: SparkConf = field(default_factory=lambda: SparkConf([]))  # what the project sets

    def option(self, rule: Rule, name: str) -> Any:
        return self.settings.option(rule.code, name, rule.option_default(name))

    def in_test_code(self, *locations: Location | None, stack: Stack = ()) -> bool:
        """Whether a job-cost finding is about test code (`test-paths`): one of its places (the
        operation, the write or read it concerns) is in a test file, or its chain starts in one
        (`stack`: a library's `coalesce(n)` whose `n` only a test gives). The cost of a run on
        real data is not a test's concern. Dropping a finding reached from a test loses nothing
        for the jobs: the roots of each file are analysed apart (`analysis`), so the functions a
        test calls are analysed again from the jobs' own files and as roots of their own."""
        patterns = self.settings.test_paths
        if not patterns:
            return False
        places = (*locations, stack[0].site) if stack else locations
        return any(location is not None and is_test_path(location.path, patterns) for location in places)


def is_test_path(path: str, patterns: tuple[str, ...]) -> bool:
    """`tests/` matches a directory of that name anywhere, `src/test/` a run of directories,
    `test_*.py` or `*Spec.scala` the file name."""
    normalised = "/" + path.replace("\\", "/").lstrip("./")
    name = normalised.rsplit("/", 1)[-1]
    for pattern in patterns:
        if pattern.endswith("/"):
            if f"/{pattern.strip('/')}/" in normalised:
                return True
        elif "/" in pattern:
            if fnmatchcase(normalised, f"*/{pattern.lstrip('/')}"):
                return True
        elif fnmatchcase(name, pattern):
            return True
    return False


def chain_through(first: Stack, first_step: ChainStep, second: Stack, second_step: ChainStep) -> tuple[ChainStep, ...]:
    """The path to one place, then on to a second place reached by another call path (the
    coalesce, then the write it flows into): shared frames are shown once."""
    steps = stack_steps(first) + [first_step]
    common = 0
    while common < min(len(first), len(second)) and first[common] == second[common]:
        common += 1
    steps += stack_steps(second[common:]) + [second_step]
    return _dedupe(steps)


def chain_to(stack: Stack, last: ChainStep) -> tuple[ChainStep, ...]:
    return _dedupe(stack_steps(stack) + [last])


def _dedupe(steps: list[ChainStep]) -> tuple[ChainStep, ...]:
    seen: set[tuple[Location, str]] = set()
    out = []
    for step in steps:
        key = (step.location, step.message)
        if key not in seen:
            seen.add(key)
            out.append(step)
    return tuple(out)


BOUNDED_RANGE_ROWS = 1_000_000


def bounded(df: DataFrameV) -> bool:
    """Whether every input of this DataFrame is data written in the code itself (literal rows,
    `range(n)` with a known small n): such data is tiny whatever is done to it."""
    pending = [df.head]
    visited = 0
    while pending and visited < 200:
        visited += 1
        for op in pending.pop().chain():
            if op.other is not None:
                pending.append(op.other.head)
            if op.name == "choice":
                return False  # other paths may bring other data
            if op.name != "source":
                continue
            if op.detail == "literal":
                continue
            if op.detail == "range" and op.args and all(
                isinstance(arg, ConstV) and isinstance(arg.value, int) and abs(arg.value) <= BOUNDED_RANGE_ROWS
                for arg in op.args[:2]
            ):
                continue
            return False
    return not pending


def unused_noqa_fix(location: Location, code: str) -> Fix:
    """SPK100's fix: drop the code from the `noqa` comment (the comment, when it was the only one)."""
    return Fix(f"Remove `{code}` from the `noqa` comment", Applicability.SAFE, (RemoveNoqaCode(location, code),))
