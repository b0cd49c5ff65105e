"""SPK007: a join with no condition (`crossJoin`, `join(other)`), or with a condition that never
relates the two sides (`a.join(b, a.x > 5)`, `F.lit(True)`, `expr("1 = 1")`), of two sides not
known to be small.

A condition relates the sides when it reads a column of each; it never does when every column
it reads is known to come from one side (`a.x`, `a["x"]`, Scala `a("x")`, `a.col("x")`) or it
reads none. A column whose side is not known (`col("x")`, `$"x"`, a column of a DataFrame both
sides derive from, anything the analysis cannot follow) keeps the join silent: precision first.
Spark plans such a join as a CartesianProduct (or a BroadcastNestedLoopJoin when a side fits its
broadcast threshold, or for an outer join) and filters the product by the condition.
"""

from __future__ import annotations

from typing import Iterator

from sparklint.checks.common import CheckContext, bounded, chain_to
from sparklint.checks.missing_broadcast_hint import has_hint, small_evidence
from sparklint.findings import ChainStep, Finding, Severity, SqlLocation
from sparklint.graph.events import CartesianEvent, Event, JoinEvent
from sparklint.graph import sql
from sparklint.graph.facts import chain_dicts, location_dict, operators
from sparklint.graph.values import ColumnV, ConstV, DataFrameV, SeqV, Value, str_of
from sparklint.rules import Rule

RULE = Rule(
    code="SPK007",
    slug="cartesian-join",
    summary="A join with no condition, or one that never relates its sides, between sides not known to be small",
    severity=Severity.WARNING,
    precision="high",
)

MAX_CONDITION_NODES = 200
MAX_LINEAGE_OPS = 2_000
MAX_EXPR_CHARS = 2_000
# Joins that keep or drop rows of one side by the existence of a match: no product of rows.
_EXISTENCE_JOINS = ("semi", "anti")


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if isinstance(event, CartesianEvent):
        left, right, method = event.left, event.right, event.method
        call = "`crossJoin(...)`" if method == "crossJoin" else "`join(...)` without a condition"
        message = f"{call} of two sides not known to be small: every row of one meets every row of the other"
        step = f"{call}: a cartesian product"
        facts: dict = {}
    elif isinstance(event, JoinEvent):
        reads = _unrelated(event)
        if reads is None:
            return
        left, right, method = event.left, event.right, "join-condition"
        call = "`join(...)` with a condition that never relates the two sides"
        message = (f"`join(...)` with a condition that reads {reads}, never relating the two sides, neither known "
                   f"to be small: every row of one meets every row of the other before the condition filters them")
        step = f"{call}: a cartesian product, then a filter"
        facts = {"condition_reads": reads}
    else:
        return
    if _small(left, context) or _small(right, context) or context.in_test_code(event.location, stack=event.stack):
        return  # in test code a cartesian product is a deliberate fixture (all of Spark's own are)
    yield Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=event.location,
        chain=chain_to(event.stack, ChainStep(event.location, step)),
        fix="join on a condition that relates the two sides, or make one side small and `broadcast(...)` it",
        key=(RULE.code, method),
        properties={"static": {"kind": "cartesian", "location": location_dict(event.location),
                               "left": operators(left), "right": operators(right),
                               "chain": chain_dicts(event.stack), **facts}},
    )


def _small(df: DataFrameV, context: CheckContext) -> bool:
    """Rows written in the code, a side SPK002 proves small (a limit, a range, a listed table),
    or a side the code broadcasts: a product with it grows the other side a known few times."""
    return bounded(df) or has_hint(df) or small_evidence(df, context) is not None


# ---------------------------------------------------------------- a condition's sides


def _unrelated(event: JoinEvent) -> str | None:
    """What a join condition reads when it never relates the two sides ("no column", "only
    columns of the left side"); None when it relates them, names columns (`"id"`, `["id"]`), is an
    existence join, or any part of it cannot be told apart."""
    if isinstance(event.location, SqlLocation):
        return None  # SQL text: sqlglot reads a join without ON (a LATERAL one too) as `ON TRUE`
    how = str_of(event.how)  # ("inner" when the code gives none)
    if how is None or any(kind in how.lower() for kind in _EXISTENCE_JOINS):
        return None  # a join type not known here may be a semi join
    conditions = event.on.items if isinstance(event.on, SeqV) else (event.on,)
    if not conditions or not all(isinstance(item, ColumnV) for item in conditions):
        return None  # no condition, column names (an equi-join) or an unknown value
    sides: set[str] = set()
    budget = [MAX_CONDITION_NODES]
    for conjunct in _conjuncts(conditions):
        found = _sides(conjunct, event, budget)
        if found is None or len(found) == 2:
            return None  # not known, or a part that reads both sides (it may relate them)
        sides |= found
    if not sides:
        return "no column of either side"
    if len(sides) == 2:
        return "columns of each side, in separate conditions"
    return f"only columns of the {sides.pop()} side"


def _conjuncts(conditions) -> list[Value]:
    """The parts of a condition joined by `&` / `and` (a list of conditions is their `and`):
    Spark pushes a part that reads one side into that side, before the join."""
    found, pending = [], list(reversed(conditions))
    while pending and len(found) < MAX_CONDITION_NODES:
        item = pending.pop()
        if isinstance(item, ColumnV) and item.kind in ("op", "method") and item.name in ("&", "and") \
                and len(item.args) == 2:
            pending.extend(reversed(item.args))
        else:
            found.append(item)
    return found + [None] if pending else found  # too many parts: one not known keeps it silent


def _sides(value: Value, event: JoinEvent, budget: list[int]) -> set[str] | None:
    """The sides whose columns an expression reads; None when a part is not known."""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if isinstance(value, ConstV):
        return set()
    if isinstance(value, SeqV):
        parts = value.items
    elif isinstance(value, ColumnV):
        if value.kind == "lit":
            return set()
        if value.kind == "ref":
            side = _side_of(value.origin, event)
            return {side} if side is not None else None
        if value.kind == "func" and value.name == "expr":
            return set() if value.args and _constant_sql(str_of(value.args[0])) else None
        if value.kind == "func" and any(isinstance(arg, ConstV) and isinstance(arg.value, str) for arg in value.args):
            return None  # `sum("x")`: a column named by a string, of either side (or not a function: `Stream("k")`)
        if value.kind not in ("func", "method", "op"):
            return None  # a count of rows, a window...: not a column expression of the join
        parts = value.args
    else:
        return None
    found: set[str] = set()
    for part in parts:
        sides = _sides(part, event, budget)
        if sides is None:
            return None
        found |= sides
    return found


def _side_of(origin: DataFrameV | None, event: JoinEvent) -> str | None:
    """"left" or "right": the one side whose lineage holds the DataFrame a column was taken from."""
    if origin is None:
        return None
    sides = [name for name, df in (("left", event.left), ("right", event.right)) if _derives(df, origin)]
    return sides[0] if len(sides) == 1 else None


def _derives(df: DataFrameV, origin: DataFrameV) -> bool:
    """`df` is `origin` or is built from it (through its operations, joins and unions)."""
    target, pending, seen, budget = origin.head, [df.head], set(), MAX_LINEAGE_OPS
    while pending:
        for op in pending.pop().chain():
            if op is target:
                return True
            if id(op) in seen:
                break
            seen.add(id(op))
            budget -= 1
            if budget < 0:
                return True  # too long to follow: assume it may (keeps the join silent)
            if op.other is not None:
                pending.append(op.other.head)
    return False


def _constant_sql(text: str | None) -> bool:
    """`expr("1 = 1")`, `expr("true")`: SQL that names no column (sqlglot's Spark dialect)."""
    if not text or len(text) > MAX_EXPR_CHARS:
        return False
    trees = sql.parse(text)
    if not trees or len(trees) != 1:
        return False
    from sqlglot import exp  # present: sql.parse read the text

    tree = trees[0]
    if isinstance(tree, (exp.Command, exp.Select, exp.Subquery)):
        return False
    return not any(isinstance(node, (exp.Column, exp.Star, exp.Subquery, exp.Select)) for node in tree.walk())
