"""SPK003: a grouping key built with `coalesce` over string columns that lets `""` through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from sparklint.checks.common import CheckContext, chain_through, chain_to
from sparklint.findings import ChainStep, Finding, Related, Severity
from sparklint.graph import spark_api as api
from sparklint.graph.facts import chain_dicts, describe, leaves, location_dict, operators
from sparklint.graph.events import Event, GroupingEvent, JoinEvent
from sparklint.graph.values import ColumnV, ConstV, DataFrameV, Op, SeqV, Value, const_of, str_of
from sparklint.rules import Rule

RULE = Rule(
    code="SPK003",
    slug="empty-string-grouping-key",
    summary="A grouping or join key built with `coalesce` over string columns lets `\"\"` collapse rows into one skewed key",
    severity=Severity.WARNING,
    precision="medium",
    fix_title="Turn empty strings into nulls (`nullif(col, '')`) before coalescing",
)

MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class RiskyKey:
    name: str  # the key as grouped by
    definition: ColumnV  # the coalesce expression
    unguarded: tuple[str, ...]  # the arguments that can be ""


def check(event: Event, context: CheckContext) -> Iterator[Finding]:
    if isinstance(event, GroupingEvent):
        groups = [(event.df, event.keys)]
    elif isinstance(event, JoinEvent):
        keys = _join_keys(event.on)
        groups = [(event.left, keys), (event.right, keys)]
    else:
        return
    reported: set[str] = set()
    for df, keys in groups:
        for key in keys:
            risky = risky_key(key, df.head, 0)
            if risky is not None and risky.name not in reported:
                reported.add(risky.name)
                yield _finding(event, risky)


def _join_keys(on: Value) -> tuple[Value, ...]:
    if isinstance(on, SeqV):
        return on.items
    if str_of(on) is not None:
        return (on,)
    if isinstance(on, ColumnV) and on.kind == "op" and on.name == "==":
        return tuple(arg for arg in on.args if isinstance(arg, ColumnV))
    return ()


def risky_key(key: Value, at: Op | None, depth: int) -> RiskyKey | None:
    """The key's definition when it is an un-normalised coalesce over strings."""
    if depth > MAX_DEPTH:
        return None
    name = str_of(key) if str_of(key) is not None else (key.name if isinstance(key, ColumnV) and key.kind == "ref" else None)
    if name is not None:
        found = column_definition(name, at)
        if found is None:
            return None
        definition, defined_at = found
        inner = _risky_expression(definition, defined_at.prev, depth + 1)
        return RiskyKey(name, *inner) if inner else None
    if isinstance(key, ColumnV):
        inner = _risky_expression(key, at, depth + 1)
        return RiskyKey(describe(key), *inner) if inner else None
    return None


def _risky_expression(expr: Value, at: Op | None, depth: int) -> tuple[ColumnV, tuple[str, ...]] | None:
    if not isinstance(expr, ColumnV) or depth > MAX_DEPTH:
        return None
    if expr.kind == "func" and expr.name.lower() in api.NULL_COALESCING:
        return _coalesce_risk(expr, expr.args, at)
    if expr.kind == "method" and expr.name == "otherwise" and len(expr.args) == 2:
        when = expr.args[0]
        if isinstance(when, ColumnV) and when.kind == "func" and when.name == "when" and len(when.args) == 2:
            tested = _null_tested(when.args[0])
            if tested is not None:
                return _coalesce_risk(expr, (tested, when.args[1]), at)
    if expr.kind == "method" and expr.name in ("alias", "name", "as", "cast", "astype") and expr.args:
        return _risky_expression(expr.args[0], at, depth + 1)
    if expr.kind == "ref":
        found = column_definition(expr.name, at)
        if found is not None:
            return _risky_expression(found[0], found[1].prev, depth + 1)
    return None


def _null_tested(condition: Value) -> Value | None:
    """`x.isNull()` / `isnull(x)` -> x."""
    if isinstance(condition, ColumnV):
        if condition.kind == "method" and condition.name == "isNull" and condition.args:
            return condition.args[0]
        if condition.kind == "func" and condition.name == "isnull" and condition.args:
            return condition.args[0]
    return None


def _coalesce_risk(expr: ColumnV, args: tuple[Value, ...], at: Op | None):
    if not any(_is_string_evidence(arg) for arg in args):
        return None
    candidates = args[:-1] if args and _is_literal(args[-1]) else args
    if not all(_is_literal(arg) or _understood(arg) for arg in candidates):
        return None  # a UDF, an unresolved helper or an unknown value may well normalise ""
    unguarded = tuple(describe(arg) for arg in candidates if not _is_literal(arg) and not normalised(arg, at, 0))
    return (expr, unguarded) if unguarded and len(candidates) >= 1 and len(args) >= 2 else None


# Column functions whose effect on "" sparklint knows: they either pass it through (trim, lower,
# casts) or are the normalisations it looks for (nullif, when).
UNDERSTOOD_FUNCTIONS = api.STRING_FUNCTIONS | {"nullif", "when", "col", "column"}
UNDERSTOOD_METHODS = frozenset({"alias", "name", "as", "cast", "astype", "otherwise"})


def _understood(value: Value, depth: int = 0) -> bool:
    """Whether sparklint can tell what this column expression does to an empty string."""
    if not isinstance(value, ColumnV) or depth > MAX_DEPTH:
        return False
    if value.kind in ("ref", "lit"):
        return True
    if value.kind == "func":
        return value.name in UNDERSTOOD_FUNCTIONS
    if value.kind == "method":
        return value.name in UNDERSTOOD_METHODS and bool(value.args) and _understood(value.args[0], depth + 1)
    return False


def _is_literal(value: Value) -> bool:
    return isinstance(value, ConstV) or (isinstance(value, ColumnV) and value.kind == "lit")


def _is_string_evidence(value: Value) -> bool:
    if isinstance(value, ConstV):
        return isinstance(value.value, str)
    if not isinstance(value, ColumnV):
        return False
    if value.kind == "lit":
        return isinstance(const_of(value), str)
    if value.kind == "func":
        return value.name in api.STRING_FUNCTIONS
    if value.kind == "method" and value.name in ("cast", "astype") and len(value.args) > 1:
        return (str_of(value.args[1]) or "").lower() in api.STRING_TYPES
    return False


def normalised(value: Value, at: Op | None, depth: int) -> bool:
    """Whether `""` can no longer come out of this column expression."""
    if depth > MAX_DEPTH or not isinstance(value, ColumnV):
        return False
    if value.kind == "lit":
        return True
    if value.kind == "func" and value.name == "nullif":
        return any(const_of(arg) == "" for arg in value.args[1:])
    if value.kind == "func" and value.name == "when" and value.args:
        return _mentions_emptiness(value.args[0])
    if value.kind == "method" and value.name == "otherwise" and value.args:
        return normalised(value.args[0], at, depth + 1)
    if value.kind == "method" and value.name in ("alias", "name", "as", "cast") and value.args:
        return normalised(value.args[0], at, depth + 1)
    if value.kind == "ref":
        if _filtered_non_empty(value.name, at):
            return True
        found = column_definition(value.name, at)
        return found is not None and normalised(found[0], found[1].prev, depth + 1)
    return False


def _mentions_emptiness(condition: Value, depth: int = 0) -> bool:
    """A condition that tests for the empty string: `x != ''`, `length(trim(x)) > 0`, ..."""
    if depth > 8:
        return False
    if isinstance(condition, ConstV):
        return condition.value == ""
    if isinstance(condition, ColumnV):
        if condition.kind == "lit":
            return const_of(condition) == ""
        if condition.kind == "func" and condition.name in ("length", "char_length", "len"):
            return True
        return any(_mentions_emptiness(arg, depth + 1) for arg in condition.args)
    return False


def _filtered_non_empty(name: str, at: Op | None) -> bool:
    """An upstream `filter(col != '')` or `replace('', None)` on this column."""
    for op in at.chain() if at is not None else ():
        if op.name in ("filter", "where") and any(_mentions_column_and_emptiness(arg, name) for arg in op.args):
            return True
        if op.name == "replace" and op.args and const_of(op.args[0]) == "":
            return True
    return False


def _mentions_column_and_emptiness(condition: Value, name: str) -> bool:
    return _mentions_emptiness(condition) and name in _column_names(condition)


def _column_names(value: Value, depth: int = 0) -> set[str]:
    if depth > 8 or not isinstance(value, ColumnV):
        return set()
    names = {value.name} if value.kind == "ref" else set()
    for arg in value.args:
        names |= _column_names(arg, depth + 1)
    return names


def column_definition(name: str, at: Op | None, depth: int = 0) -> tuple[ColumnV, Op] | None:
    """Where a column of this name was last defined on the way to `at`: a `withColumn`, or an
    aliased expression in `select`. Renames are followed; joins search both sides."""
    op = at
    while op is not None and depth <= MAX_DEPTH:
        if op.name == "withColumn" and str_of(op.arg(0)) == name and len(op.args) > 1:
            definition = op.args[1]
            return (definition, op) if isinstance(definition, ColumnV) else None
        if op.name == "withColumns" and op.args and isinstance(op.args[0], SeqV):
            for pair in op.args[0].items:
                if isinstance(pair, SeqV) and len(pair.items) == 2 and str_of(pair.items[0]) == name:
                    return (pair.items[1], op) if isinstance(pair.items[1], ColumnV) else None
        if op.name in ("select", "agg", "aggregate"):
            for arg in _flatten(op.args):
                if _alias_of(arg) == name:
                    return (arg, op)
        if op.name == "withColumnRenamed" and str_of(op.arg(1)) == name and str_of(op.arg(0)):
            name = str_of(op.arg(0))
        if op.other is not None:
            found = column_definition(name, op.other.head, depth + 1)
            if found is not None:
                return found
        op = op.prev
    return None


def _alias_of(value: Value) -> str | None:
    if isinstance(value, ColumnV) and value.kind == "method" and value.name in ("alias", "name", "as") and len(value.args) > 1:
        return str_of(value.args[1])
    return None


def _flatten(values) -> list[Value]:
    out: list[Value] = []
    for value in values:
        out.extend(value.items if isinstance(value, SeqV) else (value,))
    return out


def _finding(event: GroupingEvent | JoinEvent, risky: RiskyKey) -> Finding:
    kind = event.kind if isinstance(event, GroupingEvent) else "join"
    verb = {"groupBy": "grouping", "window": "window partition", "repartition": "repartition",
            "dropDuplicates": "deduplication", "join": "join"}.get(kind, "grouping")
    unguarded = ", ".join(f"`{arg}`" for arg in risky.unguarded)
    message = (
        f"{verb} key `{risky.name}` is `{describe(risky.definition)}` over strings with no empty-string "
        f"normalisation: a `\"\"` in {unguarded} stops the coalesce, and every such row lands on one key"
    )
    definition = risky.definition
    related = (Related(definition.location, f"key `{risky.name}` defined here"),) if definition.location else ()
    grouping_step = ChainStep(event.location, f"{verb} by `{risky.name}`")
    if definition.location is not None:
        defined_step = ChainStep(definition.location, f"key `{risky.name}` built with `{definition.name}`")
        chain = chain_through(definition.stack, defined_step, event.stack, grouping_step)
    else:
        chain = chain_to(event.stack, grouping_step)
    df: DataFrameV = event.df if isinstance(event, GroupingEvent) else event.left
    return Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=event.location,
        related=related,
        chain=chain,
        fix="wrap each string argument in `nullif(col, '')` (or `when(trim(col) != '', col)`) before `coalesce`",
        key=(RULE.code, kind, risky.name),
        properties={"static": {
            "kind": "grouping",
            "location": location_dict(event.location),
            "operators": operators(df),
            "grouping": {"kind": kind, "keys": [risky.name]},
            "leaves": leaves(df),
            "chain": chain_dicts(event.stack),
        }},
    )
