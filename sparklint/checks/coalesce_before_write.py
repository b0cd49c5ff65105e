"""SPK001: `coalesce(N)` with a small N on data that reaches a write."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from sparklint.checks.common import CheckContext, bounded, chain_through
from sparklint.findings import (
    Applicability, CallSite, ChainStep, Finding, Fix, Operand, Related, RenameCall, ReplaceArgument, Severity,
)
from sparklint.graph import spark_api as api
from sparklint.graph.events import Event, WriteEvent
from sparklint.graph.facts import chain_dicts, leaves, location_dict, operators, write_facts
from sparklint.graph.values import DataFrameV, Op, const_of, int_of, str_of
from sparklint.rules import Rule, RuleOption

RULE = Rule(
    code="SPK001",
    slug="coalesce-before-write",
    summary="`coalesce(N)` with a small N before a write makes N tasks write (and sort) all the data",
    severity=Severity.WARNING,
    precision="high",
    options=(
        RuleOption("max-partitions", 16, int, "A `coalesce(N)` or `repartition(N)` with N at or below this is reported."),
        RuleOption("fix-partitions", 200, int,
                   "The N of the `repartition(N)` the unsafe fix writes when no run profile gives the cores."),
    ),
    fix_title="Use `repartition(N)` with N matched to the cluster's cores",
)

FIX = "use `repartition(N)` (N ≈ total executor cores) or the table's `write.distribution-mode`"


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, WriteEvent) or event.writer.api == "writeStream" or bounded(event.df):
        return
    threshold = context.option(RULE, "max-partitions")
    target = context.option(RULE, "fix-partitions")
    reported: set[int] = set()
    for op, partitions, sorts in _narrowings(event.df.head, _writer_sorts(event), threshold):
        if id(op) not in reported and not context.in_test_code(op.location, event.location, stack=event.stack):
            reported.add(id(op))
            yield _finding(event, op, partitions, sorts, target)


def _narrowings(head: Op, sorts: list[tuple[str, Op | None]], threshold: int, budget: list[int] | None = None):
    """Each `coalesce(N)` / `repartition(N)` with a small known N that the written data passes
    through last before the write, on every path: a `choice` (a value from `if`/`else`,
    `match` or several `return`s) is followed into each of its options, so a small N on one
    path is found even when another path's N is unknown."""
    budget = budget if budget is not None else [MAX_PATH_OPS]
    sorts = list(sorts)
    for op in head.chain():
        budget[0] -= 1
        if budget[0] < 0:
            return
        if op.name in api.SORTS_WITHIN_PARTITIONS:
            sorts.append((f"`{op.name}(...)`", op))
        elif op.name == "choice":
            for option in op.args:
                if isinstance(option, DataFrameV):
                    yield from _narrowings(option.head, sorts, threshold, budget)
        elif op.name == "coalesce" and not _shuffles(op):
            partitions = int_of(op.arg(0, "numPartitions"))
            if partitions is not None and 0 < partitions <= threshold:
                yield op, partitions, sorts
            return
        elif op.name in REPARTITIONS or op.name == "coalesce":
            # a shuffle into exactly N partitions: N tasks write (and sort) everything; AQE
            # never changes an explicit number
            partitions = int_of(op.arg(0, "numPartitions"))
            if partitions == 1 or (partitions is not None and 0 < partitions <= threshold):
                yield op, partitions, sorts
            return
        elif op.name in api.SHUFFLING or op.name == "source":
            return


MAX_PATH_OPS = 2_000
REPARTITIONS = ("repartition", "repartitionByRange")


def _shuffles(op: Op) -> bool:
    """RDD `coalesce(n, shuffle=True)` is a repartition."""
    return const_of(op.arg(1, "shuffle")) is True


def _writer_sorts(event: WriteEvent) -> list[tuple[str, Op | None]]:
    writer = event.writer
    sorts: list[tuple[str, Op | None]] = []
    if writer.api == "writeTo":
        sorts.append(("the table write (`writeTo`), which sorts by the table's sort order", None))
    for option in ("sortBy", "partitionBy", "bucketBy"):
        if writer.option_args(option) is not None:
            sorts.append((f"`{option}(...)` on the writer, which sorts each task's rows", None))
    return sorts


def _finding(event: WriteEvent, op: Op, partitions: int, sorts, target: int) -> Finding:
    repartition = op.name != "coalesce" or _shuffles(op)
    sink = _sink_text(event)
    call = f"`{op.name}({partitions})`" if op.name != "coalesce" else f"`coalesce({partitions}, shuffle=True)`"
    if repartition and sorts:
        severity = Severity.WARNING
        tasks = "1 task" if partitions == 1 else f"{partitions} tasks"
        message = f"{call} before a sorted write: {tasks} will sort and write all the data ({sink})"
    elif repartition:
        severity = Severity.NOTE
        tasks = "one task writes" if partitions == 1 else f"only {partitions} tasks write"
        message = f"{call} before a write: {tasks} all the data ({sink})"
    elif sorts:
        severity = Severity.ERROR
        tasks = "1 task" if partitions == 1 else f"{partitions} tasks"
        message = f"`coalesce({partitions})` before a sorted write: {tasks} will sort and write all the data ({sink})"
    else:
        severity = Severity.WARNING
        tasks = "1 task" if partitions == 1 else f"only {partitions} tasks"
        message = f"`coalesce({partitions})` before a write: {tasks} will write all the data ({sink})"
    operation = f"`{op.name}({partitions})`"
    verb = "shuffles the data into" if repartition else "narrows the data to"
    write_step = ChainStep(event.location, f"written by {sink}")
    chain = chain_through(op.stack, ChainStep(op.location, f"{operation} {verb} {partitions} partition{'s' if partitions != 1 else ''}"), event.stack, write_step)
    related = [Related(event.location, f"written here by {sink}")]
    related += [Related(sort_op.location, f"sorted here by {text}") for text, sort_op in sorts if sort_op is not None]
    return Finding(
        rule=RULE.code,
        severity=severity,
        message=message,
        location=op.location,
        related=tuple(related),
        chain=chain,
        fix=FIX if not repartition else _repartition_fix(op.location.path, partitions),
        key=(RULE.code, op.name, str(partitions), event.method),
        properties={"static": _static_facts(event, op, partitions, sorts)},
        autofix=_autofix(op, partitions, bool(sorts), repartition, target),
    )


def _autofix(op: Op, partitions: int, sorted_write: bool, repartition: bool, target: int) -> Fix | None:
    """`coalesce(N)` -> `repartition(M)`; a small `repartition(N)` before a sorted write -> `repartition(M)`.
    Unsafe: the data is the same, the number of files written is not."""
    if op.location is None or (repartition and (not sorted_write or target == partitions)):
        return None
    call = CallSite(op.location, (op.name,))
    count = ReplaceArgument(Operand(call, 0, "numPartitions"), target)
    edits = (count,) if repartition else (RenameCall(call, "repartition"), count)
    return partition_fix(op.name, partitions, target, edits)


def partition_fix(operation: str, partitions: int, target: int, edits) -> Fix:
    new_name = "repartition" if operation == "coalesce" and any(isinstance(edit, RenameCall) for edit in edits) else operation
    note = (f"the write makes up to {target} files (per table partition) instead of {partitions}"
            + (", after a shuffle" if new_name != operation else ""))
    return Fix(f"Replace `{operation}({partitions})` with `{new_name}({target})`", Applicability.UNSAFE, tuple(edits), note)


def retargeted(finding: Finding, target: int) -> Fix | None:
    """The finding's fix with another partition count: twice the cores a run profile measured."""
    fix, static = finding.autofix, finding.properties.get("static") or {}
    if fix is None or target < 1 or not isinstance(static.get("coalesce"), int):
        return fix
    edits = tuple(replace(edit, value=target) if isinstance(edit, ReplaceArgument) else edit for edit in fix.edits)
    return partition_fix(str(static.get("operation")), static["coalesce"], target, edits)


def _repartition_fix(path: str, partitions: int) -> str:
    comment = "//" if path.endswith(".scala") else "#"
    if partitions == 1:
        return f"write with more tasks (`repartition(N)`), or accept one file knowingly and suppress with `{comment} noqa: SPK001`"
    return (f"raise the partition count to about the total executor cores, or accept {partitions} files knowingly "
            f"and suppress with `{comment} noqa: SPK001`")


def _sink_text(event: WriteEvent) -> str:
    writer = event.writer
    if writer.api == "writeTo":
        return f"`writeTo(...).{event.method}()`"
    if writer.api == "rdd":
        return f"`{event.method}(...)`"
    if writer.api == "merge":
        return "`merge(...).execute()`"
    if writer.api == "sql":
        target = writer.option_args("target")
        name = str_of(target[0]) if target else None
        return f"`{event.method} {name}`" if name else f"`{event.method}`"
    return f"`write.{event.method}(...)`"


def _static_facts(event: WriteEvent, op: Op, partitions: int, sorts) -> dict:
    return {
        "kind": "write",
        "location": location_dict(event.location),
        "operators": operators(event.df),
        "write": write_facts(event),
        "leaves": leaves(event.df),
        "coalesce": partitions,
        "operation": op.name,
        "operation_location": location_dict(op.location),
        "sorted": bool(sorts),
        "chain": chain_dicts(event.stack),
    }

