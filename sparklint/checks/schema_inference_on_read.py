"""SPK009: a CSV read with `inferSchema`, or a JSON read without a schema, in job code."""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, bounded, chain_to
from sparklint.findings import ChainStep, Finding, Severity
from sparklint.graph.events import Event, ReadEvent
from sparklint.graph.facts import chain_dicts, location_dict
from sparklint.graph.values import ConstV, DataFrameV, Value, const_of
from sparklint.rules import Rule

RULE = Rule(
    code="SPK009",
    slug="schema-inference-on-read",
    summary="Schema inference on a CSV or JSON read runs an extra full pass over the input",
    severity=Severity.WARNING,
    precision="high",
)

FIX = "give the schema: `.schema(\"id BIGINT, name STRING, ...\")` or a `StructType` (`spark.read.schema(...)`)"


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, ReadEvent) or event.has_schema or _literal_input(event):
        return
    message = _inference(event)
    if message is None or context.in_test_code(event.location, stack=event.stack):
        return
    yield Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=event.location,
        chain=chain_to(event.stack, ChainStep(event.location, f"read as {event.format} without a schema")),
        fix=FIX,
        key=(RULE.code, event.format or ""),
        properties={"static": {"kind": "read", "format": event.format, "location": location_dict(event.location),
                               "chain": chain_dicts(event.stack)}},
    )


def _literal_input(event: ReadEvent) -> bool:
    """`spark.read.json(sc.parallelize(['{"a": 1}']))`: strings written in the code, nothing to scan."""
    first = event.df.head.arg(0)
    return isinstance(first, DataFrameV) and bounded(first)


def _inference(event: ReadEvent) -> str | None:
    if event.format == "csv" and _is_true(event.option("inferSchema")):
        return "`inferSchema` on a CSV read: Spark reads all the input once more to infer the column types"
    if event.format == "json" and not event.opaque_options and _whole_sample(event.option("samplingRatio")):
        return "JSON read without a schema: Spark reads all the input once more to infer it (`samplingRatio` 1)"
    return None


def _is_true(value: Value | None) -> bool:
    constant = const_of(value) if value is not None else None
    return constant is True or (isinstance(constant, str) and constant.strip().lower() == "true")


def _whole_sample(value: Value | None) -> bool:
    """No `samplingRatio` (the default, 1.0) or a known 1: every row is read for the schema."""
    if value is None:
        return True
    constant = const_of(value)
    if isinstance(constant, str):
        try:
            constant = float(constant)
        except ValueError:
            return False
    return isinstance(value, ConstV) and isinstance(constant, (int, float)) and constant >= 1
