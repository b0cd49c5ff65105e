"""SPK010: `repartition(N)` (not by the partition columns) before `write.partitionBy(cols)`."""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, bounded, chain_through
from sparklint.findings import ChainStep, Finding, Related, Severity
from sparklint.graph import spark_api as api
from sparklint.graph.events import Event, WriteEvent
from sparklint.graph.facts import chain_dicts, location_dict, operators, write_facts
from sparklint.graph.values import UNKNOWN, ColumnV, Op, SeqV, Value, int_of, str_of
from sparklint.rules import Rule

RULE = Rule(
    code="SPK010",
    slug="partitioned-write-scatter",
    summary="`repartition(N)` not by the partition columns before `partitionBy`: up to N files per partition value",
    severity=Severity.WARNING,
    precision="high",
)

REPARTITIONS = ("repartition", "repartitionByRange")
MAX_PATH_OPS = 2_000


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, WriteEvent) or event.writer.api != "write" or bounded(event.df):
        return
    partition_columns = _names(event.writer.option_args("partitionBy") or ())
    if not partition_columns:
        return
    op = _last_repartition(event.df.head)
    if op is None or not _scatters(op, partition_columns, context):
        return
    if context.in_test_code(op.location, event.location, stack=event.stack):
        return
    yield _finding(event, op, partition_columns)


def _last_repartition(head: Op) -> Op | None:
    """The `repartition` that decides which task holds each row when the data is written; None
    when another shuffle, a `coalesce` (SPK001's), a choice of paths or the source comes first."""
    for budget, op in enumerate(head.chain()):
        if budget > MAX_PATH_OPS:
            return None
        if op.name in REPARTITIONS:
            return op
        if op.name in api.SHUFFLING or op.name in ("coalesce", "choice", "source"):
            return None
    return None


def _scatters(op: Op, partition_columns: tuple[str, ...], context: CheckContext) -> bool:
    """Rows of one partition value land in many tasks: round-robin (`repartition(N)`) or hashed
    by columns that are not all partition columns. A small N is SPK001's (few tasks write)."""
    arguments = _flatten(op.args)
    if any(arg is UNKNOWN for arg in arguments):
        return False  # `repartition(x)`: a count or a column, not known here
    columns = [arg for arg in arguments if int_of(arg) is None]
    if columns:
        names = _names(tuple(columns))
        if len(names) != len(columns):
            return False  # a column expression: what it hashes by is not known here
        return not set(names) <= set(partition_columns)
    count = int_of(op.arg(0, "numPartitions"))
    small = context.settings.option("SPK001", "max-partitions", 16)
    return op.name == "repartition" and count is not None and count > small


def _finding(event: WriteEvent, op: Op, partition_columns: tuple[str, ...]) -> Finding:
    count = int_of(op.arg(0, "numPartitions"))
    tasks = f"{count} tasks" if count is not None else "N tasks"
    call = f"`{op.name}({count if count is not None else '...'}{', ...' if len(op.args) > 1 else ''})`"
    partitioned = ", ".join(f'"{name}"' for name in partition_columns)
    per_value = f"up to {count} files" if count is not None else "a file per task"
    message = (f"{call} before `write.partitionBy({partitioned})`: each of the {tasks} writes a file for every "
               f"partition value it holds, {per_value} per partition")
    by_columns = any(int_of(arg) is None for arg in _flatten(op.args))
    if by_columns:
        # hashing by other columns is sometimes chosen to size the files of a write that holds
        # one partition value (a per-study write): a note, not a warning
        message += "; by design only if each write holds one partition value"
    write_step = ChainStep(event.location, f"written by `write.partitionBy({partitioned}).{event.method}(...)`")
    chain = chain_through(op.stack, ChainStep(op.location, f"{call} spreads each partition value over the tasks"),
                          event.stack, write_step)
    return Finding(
        rule=RULE.code,
        severity=Severity.NOTE if by_columns else RULE.severity,
        message=message,
        location=op.location,
        related=(Related(event.location, "written here, partitioned by " + partitioned),),
        chain=chain,
        fix=f"repartition by the partition columns: `repartition({partitioned})` (or `repartition(N, {partitioned})`)",
        key=(RULE.code, op.name, event.method),
        properties={"static": {
            "kind": "write",
            "location": location_dict(event.location),
            "operators": operators(event.df),
            "write": write_facts(event),
            "operation": op.name,
            "operation_location": location_dict(op.location),
            "partitions": count,
            "chain": chain_dicts(event.stack),
        }},
    )


def _flatten(values: tuple[Value, ...]) -> list[Value]:
    out: list[Value] = []
    for value in values:
        out.extend(_flatten(value.items) if isinstance(value, SeqV) else [value])
    return out


def _names(values: tuple[Value, ...]) -> tuple[str, ...]:
    names = []
    for value in _flatten(values):
        name = str_of(value)
        if name is None and isinstance(value, ColumnV) and value.kind == "ref":
            name = value.name
        if name is None and isinstance(value, ColumnV) and value.kind == "func" and value.name == "col" and value.args:
            name = str_of(value.args[0])
        if name is not None:
            names.append(name)
    return tuple(names)
