"""SPK006: a DataFrame that shuffles or reads from storage, computed by two actions or writes
with no `cache()`/`persist()`/`checkpoint()` on the way: its lineage runs again each time."""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, bounded, chain_to
from sparklint.findings import ChainStep, Finding, Related, Severity
from sparklint.graph.events import Event, RecomputeEvent, Use
from sparklint.graph.facts import chain_dicts, location_dict
from sparklint.graph.values import Op
from sparklint.rules import Rule

RULE = Rule(
    code="SPK006",
    slug="recomputed-without-cache",
    summary="A DataFrame that shuffles or reads storage is computed by two actions or writes without a cache",
    severity=Severity.WARNING,
    precision="medium",
)

FIX = ("`persist()` (or `cache()`) it before the first use and `unpersist()` after the last, "
       "or write it once and read the result back")


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, RecomputeEvent) or bounded(event.df):
        return
    if context.in_test_code(event.location, event.first.location, event.second.location, stack=event.stack):
        return
    yield _finding(event)


SHUFFLE_KINDS = {
    "aggregate": "an aggregation", "agg": "an aggregation", "reduceByKey": "an aggregation",
    "aggregateByKey": "an aggregation", "combineByKey": "an aggregation", "groupByKey": "a grouping",
    "join": "a join", "joinWith": "a join", "crossJoin": "a cross join", "cogroup": "a cogroup",
    "distinct": "a distinct", "dropDuplicates": "a distinct", "drop_duplicates": "a distinct",
    "intersect": "a set operation", "intersectAll": "a set operation", "subtract": "a set operation",
    "except": "a set operation", "exceptAll": "a set operation",
    "orderBy": "a sort", "sort": "a sort", "sortBy": "a sort", "sortByKey": "a sort",
    "repartition": "a repartition", "repartitionByRange": "a repartition", "rebalance": "a repartition",
    "partitionBy": "a repartition",
}


def _shuffle_kind(op: Op) -> str:
    return SHUFFLE_KINDS.get(op.name, "a window" if op.name in ("withColumn", "withColumns", "select") else "a shuffle")


def _describe(use: Use) -> str:
    if use.write and not use.method.isidentifier():
        return f"the SQL `{use.method}`"  # INSERT INTO, CREATE TABLE AS...
    return f"the write `{use.method}(...)`" if use.write else f"`{use.method}()`"


def _finding(event: RecomputeEvent) -> Finding:
    shuffled, reads = event.shuffles, event.reads
    kinds = sorted({_shuffle_kind(op) for op in shuffled})
    what = " and ".join(part for part in (
        "reads its input from storage" if reads else "",
        f"runs its shuffle{'s' if len(kinds) > 1 else ''} ({', '.join(kinds)})" if shuffled else "",
    ) if part)
    first, second = event.first, event.second
    noun = "RDD" if event.df.is_rdd else "DataFrame"
    if event.loop is not None:
        message = (f"this {noun} is computed by {_describe(second)} once per element of a loop, with no cache: "
                   f"each time Spark {what} again")
        related = [Related(second.location, f"computed by {_describe(second)} in the loop"),
                   Related(event.loop, "the loop: the use runs for each element")]
        step = ChainStep(second.location, f"{_describe(second)} runs once per element of the loop")
    else:
        message = (f"this {noun} is computed by {_describe(first)}, then again by {_describe(second)}, with no cache: "
                   f"the second time Spark {what} again")
        related = [Related(first.location, f"computed by {_describe(first)}"),
                   Related(second.location, f"computed again by {_describe(second)}")]
        step = ChainStep(second.location, f"computed again by {_describe(second)}")
    location = event.location
    return Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=location,
        related=tuple(item for item in related if item.location != location),
        chain=chain_to(second.stack, step),
        fix=FIX,
        key=(RULE.code, first.method, second.method),
        properties={"static": {
            "kind": "recompute", "methods": [first.method, second.method], "loop": event.loop is not None,
            "rdd": event.df.is_rdd,
            "shuffles": sorted({op.name for op in shuffled}), "reads": bool(reads),
            "location": location_dict(location), "chain": chain_dicts(second.stack),
        }},
    )
