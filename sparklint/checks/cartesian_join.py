"""SPK007: a join with no condition (`crossJoin`, `join(other)`) of two sides not known to be small."""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, bounded, chain_to
from sparklint.checks.missing_broadcast_hint import has_hint, small_evidence
from sparklint.findings import ChainStep, Finding, Severity
from sparklint.graph.events import CartesianEvent, Event
from sparklint.graph.facts import chain_dicts, location_dict, operators
from sparklint.graph.values import DataFrameV
from sparklint.rules import Rule

RULE = Rule(
    code="SPK007",
    slug="cartesian-join",
    summary="A join with no condition between sides not known to be small: every row meets every row",
    severity=Severity.WARNING,
    precision="high",
)


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, CartesianEvent):
        return
    if _small(event.left, context) or _small(event.right, context) or context.in_test_code(event.location):
        return  # in test code a cartesian product is a deliberate fixture (all of Spark's own are)
    call = "`crossJoin(...)`" if event.method == "crossJoin" else "`join(...)` without a condition"
    yield Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=f"{call} of two sides not known to be small: every row of one meets every row of the other",
        location=event.location,
        chain=chain_to(event.stack, ChainStep(event.location, f"{call}: a cartesian product")),
        fix="join on a condition that relates the two sides, or make one side small and `broadcast(...)` it",
        key=(RULE.code, event.method),
        properties={"static": {"kind": "cartesian", "location": location_dict(event.location),
                               "left": operators(event.left), "right": operators(event.right),
                               "chain": chain_dicts(event.stack)}},
    )


def _small(df: DataFrameV, context: CheckContext) -> bool:
    """Rows written in the code, a side SPK002 proves small (a limit, a range, a listed table),
    or a side the code broadcasts: a product with it grows the other side a known few times."""
    return bounded(df) or has_hint(df) or small_evidence(df, context) is not None
