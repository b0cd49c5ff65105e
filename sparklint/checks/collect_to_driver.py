"""SPK004: `collect()` / `toPandas()` of data read from storage and never bounded to a few rows."""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, chain_to
from sparklint.findings import ChainStep, Finding, Related, Severity
from sparklint.graph import spark_api as api
from sparklint.graph.events import ActionEvent, Event
from sparklint.graph.facts import chain_dicts, leaves, location_dict, operators
from sparklint.graph.values import ROWS_PER_PARTITION, ColumnV, DataFrameV, Op
from sparklint.rules import Rule

RULE = Rule(
    code="SPK004",
    slug="collect-to-driver",
    summary="`collect()`/`toPandas()` pulls a whole table read into the driver's memory",
    severity=Severity.WARNING,
    precision="high",
)

COLLECTS = frozenset({"collect", "collectAsList", "toPandas", "toLocalIterator"})
# Operations after which few rows are left: `limit(n)`, a global aggregate, `describe()`.
BOUNDING = frozenset({"limit", "tail", "offset", "describe", "summary", "sample"})
# A grouped aggregate or a `distinct` keeps one row per key: small or large, the code does not say.
KEYED = frozenset({
    "aggregate", "agg", "distinct", "dropDuplicates", "drop_duplicates", "reduceByKey", "groupByKey",
    "aggregateByKey", "combineByKey", "countByKey", "countByValue", "cogroup",
})
STORAGE_SOURCES = frozenset({"table", "path"})
MAX_PATH_OPS = 2_000

FIX = ("write the result to storage, aggregate it in Spark, or bound it with `limit(n)` "
       "(`toLocalIterator()` still moves every row through the driver)")


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, ActionEvent) or event.method not in COLLECTS:
        return
    found = _unbounded_read(event.df)
    if found is None or context.in_test_code(event.location, found[0].location, stack=event.stack):
        return
    yield _finding(event, *found)


def _unbounded_read(df: DataFrameV) -> tuple[Op, bool] | None:
    """The storage read whose rows all reach the action, when no operation on the way bounds
    them, and whether a filter is on the way (then the rows that pass it, however many);
    None when any path brings bounded, keyed or unknown data (precision first)."""
    read: Op | None = None
    filtered = False
    pending, budget = [df.head], MAX_PATH_OPS
    while pending:
        for op in pending.pop().chain():
            budget -= 1
            if budget < 0 or op.name in BOUNDING or op.name in KEYED or op.name == "choice" or _aggregates(op) \
                    or op.detail == ROWS_PER_PARTITION:
                return None
            if op.other is not None:
                pending.append(op.other.head)
            filtered = filtered or op.name in api.FILTERS
            if op.name == "source":
                if op.detail not in STORAGE_SOURCES:
                    return None
                read = read or op
    return (read, filtered) if read is not None else None


AGGREGATE_FUNCTIONS = frozenset({
    "sum", "count", "countDistinct", "count_distinct", "approx_count_distinct", "max", "min", "avg",
    "mean", "first", "last", "collect_list", "collect_set", "percentile_approx", "stddev", "variance",
    "max_by", "min_by", "any_value", "sum_distinct", "sumDistinct",
})


def _aggregates(op: Op) -> bool:
    """`select(F.sum(...))`: a global aggregate written as a projection, one row."""
    return op.name in ("select", "selectExpr") and any(
        isinstance(arg, ColumnV) and _is_aggregate(arg) for arg in op.args)


def _is_aggregate(column: ColumnV, depth: int = 0) -> bool:
    if column.kind == "func" and column.name in AGGREGATE_FUNCTIONS:
        return True
    return depth < 4 and column.kind == "method" and bool(column.args) and isinstance(column.args[0], ColumnV) \
        and _is_aggregate(column.args[0], depth + 1)


def _finding(event: ActionEvent, read: Op, filtered: bool) -> Finding:
    call = f"`{event.method}()`"
    where = "a pandas DataFrame on the driver" if event.method == "toPandas" else "the driver"
    rows = "every row that passes its filters" if filtered else "every row"
    message = f"{call} of a table read brings {rows} into {where}; nothing bounds the rows"
    read_step = ChainStep(read.location, "the data is read here") if read.location else None
    chain = chain_to(event.stack, ChainStep(event.location, f"{call} sends {rows} to the driver"))
    if read_step is not None and read.stack == event.stack:
        chain = (read_step, *chain) if read_step not in chain else chain
    return Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=event.location,
        related=(Related(read.location, "read here, with no `limit` on the way"),) if read.location else (),
        chain=chain,
        fix=FIX,
        key=(RULE.code, event.method),
        properties={"static": {
            "kind": "action",
            "action": event.method,
            "location": location_dict(event.location),
            "operators": operators(event.df),
            "leaves": leaves(event.df),
            "chain": chain_dicts(event.stack),
        }},
    )
