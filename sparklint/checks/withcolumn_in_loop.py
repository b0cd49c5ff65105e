"""SPK005: `withColumn`/`withColumnRenamed`/`drop` applied once per element of a collection, each
call nesting one more projection in the plan."""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, chain_to
from sparklint.findings import ChainStep, Finding, Related, Severity
from sparklint.graph.events import Event, LoopEvent
from sparklint.graph.facts import chain_dicts, location_dict
from sparklint.graph.values import ColumnV, ConstV, Op, Value
from sparklint.rules import Rule, RuleOption

RULE = Rule(
    code="SPK005",
    slug="withcolumn-in-loop",
    summary="`withColumn`/`withColumnRenamed`/`drop` once per element of a collection nests a projection per element",
    severity=Severity.WARNING,
    precision="medium",
    options=(
        RuleOption("max-literal-elements", 5, int,
                   "A collection the code writes with at most this many elements is not reported."),
    ),
)

PER_ELEMENT = frozenset({"withColumn", "withColumnRenamed", "drop"})
BATCHED = {
    "withColumn": "`withColumns(...)` (Spark 3.3+) or one `select(...)`",
    "withColumnRenamed": "`withColumnsRenamed(...)` (Spark 3.4+) or one `select(...)` of aliases",
    "drop": "one `drop(...)` of every column",
}
LOOPS = {"for": "a loop", "reduce": "`functools.reduce`", "foldLeft": "`foldLeft`"}


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, LoopEvent):
        return
    ops = [op for op in event.ops if op.name in PER_ELEMENT]
    if not ops:
        return
    limit = context.option(RULE, "max-literal-elements")
    if (event.size is not None and event.size <= limit) or _same_every_time(ops):
        return
    yield _finding(event, ops)


def _same_every_time(ops: list[Op]) -> bool:
    """Every call is the same, with arguments the code states (`df.withColumn("X", F.lit(0))`
    under `if field.name == "X"` in a loop over the schema): one column set again and again can
    only be meant once, under a condition that holds for one element."""
    signatures = {(op.name, tuple(_signature(arg) for arg in op.args)) for op in ops}
    return len(signatures) == 1 and None not in next(iter(signatures))[1]


def _signature(value: Value, depth: int = 0):
    """A stated value as a comparable tuple; None when any part of it is not known here."""
    if isinstance(value, ConstV):
        return ("c", type(value.value).__name__, value.value)
    if isinstance(value, ColumnV) and depth < 6:
        if value.kind == "ref":
            return None if value.name == "?" else ("r", value.name)
        parts = tuple(_signature(arg, depth + 1) for arg in value.args)
        return None if None in parts else (value.kind, value.name, parts)
    return None


def _finding(event: LoopEvent, ops: list[Op]) -> Finding:
    methods = sorted({op.name for op in ops})
    calls = "/".join(f"`{name}`" for name in methods)
    elements = f"{event.size} elements" if event.size is not None else "each element"
    counted = f"each of its {event.size} elements" if event.size is not None else "each element of a collection of unknown size"
    message = (f"{calls} once per element in {LOOPS[event.kind]}: the plan gains one projection for {counted}, "
               f"and Spark analyses the growing plan again at each call")
    fix = "build the columns in the loop and apply them in one call: " + "; ".join(BATCHED[name] for name in methods)
    first = ops[-1]  # the oldest: the first call written in the loop
    related = tuple(Related(op.location, f"`{op.name}` runs for {elements}")
                    for op in reversed(ops) if op.location is not None and op.location != event.location)[:4]
    return Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=event.location,
        related=_unique(related),
        chain=chain_to(event.stack, ChainStep(event.location, f"{calls} run for {elements} here")),
        fix=fix,
        key=(RULE.code, event.kind, first.name),
        properties={"static": {"kind": "loop", "loop": event.kind, "size": event.size, "methods": methods,
                               "location": location_dict(event.location), "chain": chain_dicts(event.stack)}},
    )


def _unique(related: tuple[Related, ...]) -> tuple[Related, ...]:
    seen, out = set(), []
    for item in related:
        if item.location not in seen:
            seen.add(item.location)
            out.append(item)
    return tuple(out)
