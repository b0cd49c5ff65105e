"""SPK008: `df.count()` compared with 0 (or used as a truth value) to learn whether data is empty."""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, chain_to
from sparklint.findings import ChainStep, Finding, Severity
from sparklint.graph.events import ConditionEvent, Event
from sparklint.graph.facts import chain_dicts, location_dict
from sparklint.graph.values import ColumnV, DataFrameV, Value, int_of
from sparklint.rules import Rule

RULE = Rule(
    code="SPK008",
    slug="count-for-emptiness",
    summary="`count()` compared with 0 counts every row to learn whether there is one",
    severity=Severity.WARNING,
    precision="high",
)

# `count() > 0`, `count() == 0`, `count() >= 1`, `count() < 1`, `count() != 0` (either way round)
EMPTINESS_TESTS = {
    ("==", 0), ("!=", 0), (">", 0), ("<=", 0), (">=", 1), ("<", 1),
}
MIRRORED = {"==": "==", "!=": "!=", ">": "<", "<": ">", ">=": "<=", "<=": ">="}


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, ConditionEvent):
        return
    for count in _emptiness_counts(event.test):
        if _written_in(count, event) and not _limited(count):
            yield _finding(event, count)


def _emptiness_counts(value: Value, depth: int = 0) -> Iterator[ColumnV]:
    """The `count()` results the condition only tests for zero."""
    if not isinstance(value, ColumnV) or depth > 6:
        return
    if _is_count(value):
        yield value  # `if df.count():`
    elif value.kind == "op" and value.name in ("not", "and", "or", "&", "|"):
        for operand in value.args:
            yield from _emptiness_counts(operand, depth + 1)
    elif value.kind == "op" and len(value.args) == 2:
        left, right = value.args
        if _is_count(left) and (value.name, int_of(right)) in EMPTINESS_TESTS:
            yield left
        elif _is_count(right) and (MIRRORED.get(value.name), int_of(left)) in EMPTINESS_TESTS:
            yield right


def _is_count(value: Value) -> bool:
    return isinstance(value, ColumnV) and value.kind == "action" and value.name == "count"


def _limited(count: ColumnV) -> bool:
    """`limit(1).count()`: Spark stops after the rows the limit keeps."""
    df = count.args[0] if count.args else None
    return isinstance(df, DataFrameV) and any(op.name in ("limit", "tail") for op in df.head.chain())


def _written_in(count: ColumnV, event: ConditionEvent) -> bool:
    """The `count()` call is written inside the condition: a count kept in a variable may
    also be used as a number (logged, stored), and then counting is the point."""
    place, start = count.location, event.location
    if place is None or place.path != start.path:
        return False
    after_start = (place.line, place.col) >= (start.line, start.col)
    before_end = (place.line, place.col) <= (start.end_line, start.end_col)
    return after_start and before_end


def _finding(event: ConditionEvent, count: ColumnV) -> Finding:
    location = count.location
    assert location is not None
    df = count.args[0] if count.args and isinstance(count.args[0], DataFrameV) else None
    comment = "//" if location.path.endswith(".scala") else "#"
    return Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message="`count()` to test for emptiness: Spark counts every row when one would answer",
        location=location,
        chain=chain_to(event.stack, ChainStep(location, "`count()` is only compared with 0")),
        fix=f"use `isEmpty()` (Spark 3.3+; `{'df.head(1).isEmpty' if comment == '//' else 'len(df.head(1)) == 0'}` before)",
        key=(RULE.code, "count"),
        properties={"static": {"kind": "condition", "location": location_dict(location),
                               "chain": chain_dicts(event.stack), "rdd": bool(df and df.is_rdd)}},
    )
