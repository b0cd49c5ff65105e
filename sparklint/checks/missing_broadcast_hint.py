"""SPK002: a join with a provably small side and no broadcast hint."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Iterator

from sparklint.checks.common import CheckContext, bounded, chain_to
from sparklint.findings import (
    Applicability, CallSite, ChainStep, Finding, Fix, Location, Operand, Related, Severity, WrapInFunction,
)
from sparklint.graph import spark_api as api
from sparklint.graph.events import Event, JoinEvent
from sparklint.graph.facts import join_facts
from sparklint.graph.values import UNKNOWN, ColumnV, DataFrameV, SeqV, Value, int_of, str_of
from sparklint.rules import Rule, RuleOption

RULE = Rule(
    code="SPK002",
    slug="missing-broadcast-hint",
    summary="A join with a provably small side and no broadcast hint may run as a sort-merge join",
    severity=Severity.WARNING,
    precision="high",
    options=(
        RuleOption("max-rows", 10_000, int, "Literal data, `spark.range(n)` or `limit(n)` up to this many rows is small."),
        RuleOption("small-tables", [], list, "Table names (globs) known to be small, e.g. `dim.country`."),
        RuleOption("small-paths", [], list, "Paths (globs) of data known to be small."),
        RuleOption("broadcast-max-bytes", 10 * 1024 * 1024, int,
                   "With a run profile: a sort-merge-joined side measured at or under this is small."),
    ),
    fix_title="Wrap the small side in `broadcast(...)`",
)

GROWING = frozenset({"join", "crossJoin", "union", "unionAll", "unionByName", "flatMap", "explode", "joinWith"})


@dataclass(frozen=True, slots=True)
class SmallEvidence:
    text: str
    location: Location | None
    # Spark estimates this side's size itself (a LocalRelation, a range, a limit, a file or table
    # scan) and broadcasts it when small; a local list or an RDD it cannot size.
    sized_by_spark: bool = True


THRESHOLD = "spark.sql.autoBroadcastJoinThreshold"
ADAPTIVE_THRESHOLD = "spark.sql.adaptive.autoBroadcastJoinThreshold"


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if not isinstance(event, JoinEvent):
        return
    how = str_of(event.how)
    join_type = api.normalise_join_type(how) if how is not None else None
    if join_type is None or has_hint(event.left) or has_hint(event.right) or not is_equi_join(event.on):
        return
    sides = {"left": event.left, "right": event.right}
    evidence = {name: small_evidence(df, context) for name, df in sides.items()}
    for side in api.broadcastable_sides(join_type):
        other = "right" if side == "left" else "left"
        small = evidence[side]
        if small is None or evidence[other] is not None or bounded(sides[other]):
            continue
        if context.in_test_code(small.location):
            continue  # a test's own rows: the jobs that run this join give it their data
        disabled = None if not small.sized_by_spark else auto_broadcast_disabled(context)
        if small.sized_by_spark and disabled is None:
            continue  # Spark sizes this side and broadcasts it on its own
        yield _finding(event, side, join_type, small, disabled)
        return


def auto_broadcast_disabled(context: CheckContext) -> str | None:
    """Where the project switches Spark's auto-broadcast off (a threshold of 0 or less), unless
    it also lets adaptive execution broadcast at run time."""
    adaptive = context.spark_conf.settings_of(ADAPTIVE_THRESHOLD)
    if any((_threshold(setting.value) or 0) > 0 for setting in adaptive):
        return None
    for setting in context.spark_conf.settings_of(THRESHOLD):
        value = _threshold(setting.value)
        if value is not None and value <= 0:
            return f"{setting.where} sets `{THRESHOLD}={setting.value}`"
    return None


def _threshold(text: str) -> int | None:
    """`-1`, `10485760`, `10m`, `10MB` as bytes."""
    match = re.fullmatch(r"\s*(-?\d+)\s*([kmgt]?)b?\s*", text.lower())
    if match is None:
        return None
    return int(match.group(1)) * 1024 ** " kmgt".index(match.group(2) or " ")


def is_equi_join(on: Value) -> bool:
    """Whether the join condition has equality keys. Without them (no condition, `a < b`,
    `a == b | c == d`) Spark cannot shuffle-join at all: it runs a nested-loop join, which
    broadcasts a side by itself."""
    if str_of(on) is not None:
        return True
    if isinstance(on, SeqV):
        return bool(on.items) and all(str_of(item) is not None or _has_equality(item) for item in on.items)
    return _has_equality(on)


def _has_equality(condition: Value) -> bool:
    if not isinstance(condition, ColumnV):
        return False
    if condition.kind == "method" and condition.name in ("eqNullSafe", "equalTo"):
        return True
    if condition.kind != "op":
        return False
    if condition.name in ("==", "<=>"):
        return True
    return condition.name in ("&", "and") and any(_has_equality(arg) for arg in condition.args)


def has_hint(df: DataFrameV) -> bool:
    for op in df.head.chain():
        if op.name == "broadcast":
            return True
        if op.name == "hint" and op.args and (str_of(op.args[0]) or "").lower() in api.JOIN_HINTS:
            return True
        if op.name in ("join", "crossJoin", "aggregate"):
            return False
    return False


def small_evidence(df: DataFrameV, context: CheckContext) -> SmallEvidence | None:
    """Why this DataFrame is provably small, or None when nothing proves it."""
    max_rows = context.option(RULE, "max-rows")
    for op in df.head.chain():
        if op.name == "limit":
            rows = int_of(op.arg(0))
            if rows is not None and rows <= max_rows:
                return SmallEvidence(f"`limit({rows})`", op.location)
            continue
        if op.name in GROWING or op.name == "choice":
            return None  # grown, or not the same data on every path
        if op.name != "source":
            continue
        if op.detail == "literal":
            rows = op.args[0] if op.args else None
            sized = str_of(dict(op.kwargs).get("relation", UNKNOWN)) == "local"  # a LocalRelation, not local data through an RDD
            if isinstance(rows, SeqV) and rows.kind == "range":
                size = _range_size(rows.items)
                if size is not None and size <= max_rows:
                    return SmallEvidence(f"built from a literal range of {size} values", op.location, sized)
            elif isinstance(rows, SeqV) and 0 < len(rows.items) <= max_rows:
                # (an empty side is not joined at all: Spark prunes the join while planning)
                count = len(rows.items)
                return SmallEvidence(f"built from {count} literal row{'s' if count != 1 else ''}", op.location, sized)
        if op.detail == "range":
            size = _range_size(op.args)
            if size is not None and 0 < size <= max_rows:
                return SmallEvidence(f"`range(...)` of {size} rows", op.location)
        if op.detail in ("table", "path") and op.args:
            name = str_of(op.args[0])
            option = "small-tables" if op.detail == "table" else "small-paths"
            patterns = context.option(RULE, option)
            if name is not None and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                return SmallEvidence(f"{op.detail} `{name}` is listed in `{option}`", op.location)
        return None
    return None


def _range_size(args) -> int | None:
    numbers = [int_of(a) for a in args[:3]]
    if not numbers or numbers[0] is None:
        return None
    if len(numbers) == 1:
        return max(numbers[0], 0)
    if numbers[1] is None:
        return None
    step = numbers[2] if len(numbers) > 2 and numbers[2] else 1
    return max((numbers[1] - numbers[0]) // step, 0)


def _finding(event: JoinEvent, side: str, join_type: str, small: SmallEvidence, disabled: str | None) -> Finding:
    join_text = "join" if join_type == "inner" else f"{join_type} join"
    if disabled is not None:
        why = f"and {disabled}, so Spark will not broadcast it on its own: it shuffles and sorts both sides"
    else:
        why = ("and Spark cannot estimate the size of local data sent through an RDD, so it will not broadcast "
               "it on its own: it plans a sort-merge join that shuffles and sorts both sides")
    message = f"{join_text} without a broadcast hint, though its {side} side is small ({small.text}), {why}"
    related = []
    if small.location is not None:
        related.append(Related(small.location, f"the {side} side is small here: {small.text}"))
    return Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=event.location,
        related=tuple(related),
        chain=chain_to(event.stack, ChainStep(event.location, f"{join_text} of a large side with a small {side} side")),
        fix=f"wrap the {side} side in `broadcast(...)` (pyspark.sql.functions / org.apache.spark.sql.functions)",
        key=(RULE.code, join_type, side, small.text),
        properties={"static": join_facts_with_evidence(event, side, small)},
        autofix=_autofix(event, side),
    )


def _autofix(event: JoinEvent, side: str) -> Fix:
    """`big.join(small, ...)` -> `big.join(broadcast(small), ...)`: safe, the join's result is the same."""
    join = CallSite(event.location, ("join", "joinWith"))
    operand = Operand(join, None) if side == "left" else Operand(join, 0, "other")
    return Fix(f"Wrap the {side} side in `broadcast(...)`", Applicability.SAFE, (WrapInFunction(operand, "broadcast"),))


def join_facts_with_evidence(event: JoinEvent, small_side: str, small: SmallEvidence) -> dict:
    """The join's operation facts, and which side is small and why: run profiles match on them."""
    return {**join_facts(event), "small_side": small_side, "small_evidence": small.text}
