"""What every check needs: the settings it reads, chains from entry point to line, and short
descriptions of values for messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparklint.findings import ChainStep, Location
from sparklint.graph.values import ColumnV, ConstV, DataFrameV, Op, SeqV, Stack, Value, const_of
from sparklint.rules import Rule
from sparklint.settings import Settings


@dataclass(frozen=True, slots=True)
class CheckContext:
    settings: Settings

    def option(self, rule: Rule, name: str) -> Any:
        return self.settings.option(rule.code, name, rule.option_default(name))


def stack_steps(stack: Stack) -> list[ChainStep]:
    return [ChainStep(frame.site, f"{frame.caller} calls `{frame.callee}(...)`") for frame in stack]


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


def describe(value: Value, depth: int = 0) -> str:
    """A short source-like rendering of a value for messages: `coalesce(origin_uid, 'anonymous')`."""
    if depth > 4:
        return "..."
    if isinstance(value, ConstV):
        return repr(value.value) if isinstance(value.value, str) else str(value.value)
    if isinstance(value, ColumnV):
        if value.kind == "ref":
            return value.name
        if value.kind == "lit":
            return describe(value.args[0], depth + 1) if value.args else "lit"
        if value.kind == "func":
            return f"{value.name}({', '.join(describe(a, depth + 1) for a in value.args)})"
        if value.kind == "method" and value.args:
            receiver, *rest = value.args
            return f"{describe(receiver, depth + 1)}.{value.name}({', '.join(describe(a, depth + 1) for a in rest)})"
        if value.kind == "op" and len(value.args) == 2:
            return f"{describe(value.args[0], depth + 1)} {value.name} {describe(value.args[1], depth + 1)}"
    if isinstance(value, SeqV):
        return "[" + ", ".join(describe(item, depth + 1) for item in value.items) + "]"
    if isinstance(value, DataFrameV):
        return "a DataFrame"
    return "?"


def op_text(op: Op) -> str:
    args = ", ".join(describe(arg) for arg in op.args)
    return f"{op.name}({args})"


def operators(df: DataFrameV) -> list[str]:
    """The operations that built a DataFrame, oldest first, as plan-like strings."""
    out = []
    for op in df.head.chain():
        if op.name == "choice":
            continue
        if op.name == "source":
            out.append(f"Source {op.detail} {describe(op.args[0]) if op.args else ''}".strip())
        else:
            out.append(op_text(op))
    return list(reversed(out))


def leaves(df: DataFrameV) -> list[dict]:
    found = []
    stack = [df.head]
    seen = 0
    while stack and seen < 200:
        op = stack.pop()
        seen += 1
        for item in op.chain():
            if item.other is not None:
                stack.append(item.other.head)
            if item.name == "source":
                value = const_of(item.args[0]) if item.args else None
                found.append({"kind": item.detail, "value": value if isinstance(value, (str, int)) else None})
    return found


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


def location_dict(location: Location) -> dict:
    return {"path": location.path, "line": location.line}


def chain_dicts(stack: Stack) -> list[dict]:
    """The call stack of an operation as plain data, for run-profile matching."""
    return [{"path": step.location.path, "line": step.location.line, "message": step.message} for step in stack_steps(stack)]
