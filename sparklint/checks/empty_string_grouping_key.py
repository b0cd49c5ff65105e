"""SPK003: a grouping key built with `coalesce` over string columns that lets `""` through."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

from sparklint.checks.common import CheckContext, chain_through, chain_to
from sparklint.findings import (
    Applicability, CallSite, ChainStep, Finding, Fix, Operand, Related, Severity, WrapInFunction,
)
from sparklint.graph import spark_api as api
from sparklint.graph import coltypes
from sparklint.graph.coltypes import alias_of, expression_type, flat
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
class Risk:
    definition: ColumnV  # the coalesce (or `when(x.isNull, y).otherwise(x)`) expression
    unguarded: tuple[str, ...]  # the arguments that can be ""
    basis: str | None  # what says the arguments are strings; None: no code states their types
    columns: tuple[tuple[str, str], ...]  # (column an argument reads, "string" or "unknown")
    # Where the unguarded arguments stand in the call that defines the key, when it is a plain
    # `coalesce`/`nvl`/`ifnull` (what the fix wraps); empty for other shapes.
    positions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskyKey:
    name: str  # the key as grouped by
    risk: Risk


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
            elif isinstance(event, JoinEvent):
                filled = filled_join_key(key, df.head)
                if filled is not None and filled[0] not in reported:
                    reported.add(filled[0])
                    yield _filled_finding(event, df, *filled)


def _join_keys(on: Value, depth: int = 0) -> tuple[Value, ...]:
    """Key columns of a join: `on="k"`, `on=["k"]`, `Seq("k")`, `a.k == b.k`, conjunctions of those."""
    if isinstance(on, SeqV):
        return tuple(key for item in on.items for key in _join_keys(item, depth + 1))
    if str_of(on) is not None:
        return (on,)
    if isinstance(on, ColumnV) and on.kind == "op" and depth < 8:
        if on.name in ("==", "<=>"):
            return tuple(arg for arg in on.args if isinstance(arg, ColumnV))
        if on.name in ("&", "and"):
            return tuple(key for arg in on.args for key in _join_keys(arg, depth + 1))
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
        return RiskyKey(name, inner) if inner else None
    if isinstance(key, ColumnV):
        inner = _risky_expression(key, at, depth + 1)
        return RiskyKey(describe(key), inner) if inner else None
    return None


def _risky_expression(expr: Value, at: Op | None, depth: int) -> Risk | None:
    if not isinstance(expr, ColumnV) or depth > MAX_DEPTH:
        return None
    if expr.kind == "func" and expr.name.lower() in api.NULL_COALESCING:
        return _coalesce_risk(expr, expr.args, at)
    if expr.kind == "func" and expr.name.lower() == "nvl2" and len(expr.args) == 3:
        tested, present, absent = expr.args
        if describe(tested) == describe(present):  # nvl2(x, x, y) is coalesce(x, y)
            return _coalesce_risk(expr, (present, absent), at)
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


def _coalesce_risk(expr: ColumnV, args: tuple[Value, ...], at: Op | None) -> Risk | None:
    """The risk of a coalesce over `args`: its arguments are strings, or of types no code states
    (a key of ids usually is a string). Known numbers, booleans or dates cannot be `""`."""
    if len(args) < 2:
        return None
    candidates = args[:-1] if _is_literal(args[-1]) else args
    if not all(_is_literal(arg) or _understood(arg) for arg in candidates):
        return None  # a UDF, an unresolved helper or an unknown value may well normalise ""
    types = [expression_type(arg, at) for arg in args]
    strings = [found for found in types if found is not None and found.kind == "string"]
    if not strings and any(found is not None for found in types):
        return None
    # A `""` does harm where it stops the coalesce before another column: there rows that had
    # distinct ids share `""`. Before a literal fallback only, `""` and the fallback are two
    # constant keys instead of one, no worse than the nulls were.
    unguarded = tuple(
        describe(arg) for position, arg in enumerate(candidates)
        if not _is_literal(arg) and any(not _is_literal(later) for later in args[position + 1:])
        and not normalised(arg, at, 0)
    )
    if not unguarded:
        return None
    columns = tuple(
        (name, "string" if found is not None and found.kind == "string" else "unknown")
        for arg, found in zip(candidates, types) if not _is_literal(arg)
        for name in sorted(_column_names(arg))
    )
    positions = ()
    if args is expr.args:
        positions = tuple(position for position, arg in enumerate(candidates) if describe(arg) in unguarded)
    return Risk(expr, unguarded, strings[0].basis if strings else None, columns, positions)


def filled_join_key(key: Value, at: Op | None) -> tuple[str, Op] | None:
    """A join key column set to `""` where it was null (`fillna("")`, `na.fill("")`, a `lit("")`
    or `when(..., "")` value): Spark drops null join keys before the shuffle, `""` it keeps, sends to
    one task and matches with every `""` of the other side."""
    name = str_of(key) if str_of(key) is not None else (key.name if isinstance(key, ColumnV) and key.kind == "ref" else None)
    for op in at.chain() if at is not None and name is not None else ():
        if op.name == "fillna" and const_of(op.arg(0, "value")) == "" and coltypes.fills_column(op, name):
            return name, op
        if op.name == "withColumn" and str_of(op.arg(0)) == name and len(op.args) > 1:
            return (name, op) if _yields_empty_string(op.args[1]) else None
        if op.name == "withColumnRenamed" and str_of(op.arg(1)) == name and str_of(op.arg(0)):
            name = str_of(op.arg(0))
    return None


def _yields_empty_string(value: Value, depth: int = 0) -> bool:
    """`lit("")`, `when(c, "")`, `.otherwise("")`, `coalesce(x, lit(""))` as a column's value."""
    if const_of(value) == "":
        return True
    if not isinstance(value, ColumnV) or depth > 6:
        return False
    if value.kind == "func" and value.name == "when" and len(value.args) == 2:
        return _yields_empty_string(value.args[1], depth + 1)
    if value.kind == "func" and value.name.lower() in api.NULL_COALESCING and value.args:
        return _yields_empty_string(value.args[-1], depth + 1)
    if value.kind == "method" and value.name == "otherwise" and len(value.args) == 2:
        return any(_yields_empty_string(arg, depth + 1) for arg in value.args)
    if value.kind == "method" and value.name in ("alias", "name", "as") and value.args:
        return _yields_empty_string(value.args[0], depth + 1)
    return False


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
        if condition.kind == "op" and condition.name in ("|", "or"):
            # `x.isNotNull || x != ""` keeps every "": only a test on each side normalises
            return all(_mentions_emptiness(arg, depth + 1) for arg in condition.args)
        return any(_mentions_emptiness(arg, depth + 1) for arg in condition.args)
    return False


def _filtered_non_empty(name: str, at: Op | None) -> bool:
    """An upstream `filter(col != '')` or `replace('', None)` on this column."""
    for op in at.chain() if at is not None else ():
        if op.name in api.FILTERS and any(_mentions_column_and_emptiness(arg, name) for arg in op.args):
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
            for arg in flat(op.args):
                if alias_of(arg) == name:
                    return (arg, op)
        if op.name == "withColumnRenamed" and str_of(op.arg(1)) == name and str_of(op.arg(0)):
            name = str_of(op.arg(0))
        if op.other is not None:
            found = column_definition(name, op.other.head, depth + 1)
            if found is not None:
                return found
        op = op.prev
    return None


VERBS = {"groupBy": "grouping", "window": "window partition", "repartition": "repartition",
         "dropDuplicates": "deduplication", "join": "join"}


def _finding(event: GroupingEvent | JoinEvent, risky: RiskyKey) -> Finding:
    kind = event.kind if isinstance(event, GroupingEvent) else "join"
    verb = VERBS.get(kind, "grouping")
    risk = risky.risk
    unguarded = ", ".join(f"`{arg}`" for arg in risk.unguarded)
    built = f"{verb} key `{risky.name}` is `{describe(risk.definition)}`"
    if risk.basis is not None:
        message = (f"{built} over strings ({risk.basis}) with no empty-string normalisation: a `\"\"` in "
                   f"{unguarded} stops the coalesce, and every such row lands on one key")
    else:
        message = (f"{built} with no empty-string normalisation; no code states the column types: if "
                   f"these are string ids, a `\"\"` in {unguarded} stops the coalesce, and every such row lands on one key")
    definition = risk.definition
    related = (Related(definition.location, f"key `{risky.name}` defined here"),) if definition.location else ()
    grouping_step = ChainStep(event.location, f"{verb} by `{risky.name}`")
    if definition.location is not None:
        defined_step = ChainStep(definition.location, f"key `{risky.name}` built with `{definition.name}`")
        chain = chain_through(definition.stack, defined_step, event.stack, grouping_step)
    else:
        chain = chain_to(event.stack, grouping_step)
    columns = [{"name": name, "type": type_kind} for name, type_kind in risk.columns]
    finding = _key_finding(event, kind, risky.name, message, related, chain, columns,
                           "wrap each string argument in `nullif(col, '')` (or `when(trim(col) != '', col)`) before `coalesce`")
    return replace(finding, autofix=_autofix(risk))


def _autofix(risk: Risk) -> Fix | None:
    """`coalesce(a, b, c)` -> `coalesce(nullif(a, lit("")), nullif(b, lit("")), c)`. Unsafe by
    design: rows whose id is `""` get the next id (or null) as their key instead of sharing `""`."""
    definition = risk.definition
    if not risk.positions or definition.location is None:
        return None
    call = CallSite(definition.location, (definition.name,))
    edits = tuple(WrapInFunction(Operand(call, position), "nullif", ("",)) for position in risk.positions)
    arguments = ", ".join(f"`{name}`" for name in risk.unguarded)
    return Fix(f"Turn `\"\"` into null in {arguments} with `nullif(..., lit(\"\"))`", Applicability.UNSAFE, edits,
               "rows whose id is `\"\"` take the next id (or null) as their key instead of sharing the key `\"\"`")


def _filled_finding(event: JoinEvent, df: DataFrameV, name: str, filled_at: Op) -> Finding:
    how = "`fillna`" if filled_at.name == "fillna" else "its definition"
    message = (f"join key `{name}` is set to `\"\"` by {how} before the join: Spark drops null keys before an "
               f"equi-join's shuffle, but every `\"\"` row goes to one task and matches every `\"\"` on the other side")
    related = (Related(filled_at.location, f"`{name}` filled with `\"\"` here"),) if filled_at.location else ()
    step = ChainStep(event.location, f"join on `{name}`")
    if filled_at.location is not None:
        chain = chain_through(filled_at.stack, ChainStep(filled_at.location, f"`{name}` filled with `\"\"`"), event.stack, step)
    else:
        chain = chain_to(event.stack, step)
    return _key_finding(event, "join", name, message, related, chain, [{"name": name, "type": "string"}],
                        f"keep `{name}` null where it is unknown (leave it out of `fillna`, or use `nullif({name}, '')`)",
                        df)


def _key_finding(event: GroupingEvent | JoinEvent, kind: str, name: str, message: str, related, chain,
                 columns: list[dict], fix: str, df: DataFrameV | None = None) -> Finding:
    if df is None:
        df = event.df if isinstance(event, GroupingEvent) else event.left
    return Finding(
        rule=RULE.code,
        severity=RULE.severity,
        message=message,
        location=event.location,
        related=related,
        chain=chain,
        fix=fix,
        key=(RULE.code, kind, name),
        properties={"static": {
            "kind": "grouping",
            "location": location_dict(event.location),
            "operators": operators(df),
            "grouping": {"kind": kind, "keys": [name], "columns": columns},
            "leaves": leaves(df),
            "chain": chain_dicts(event.stack),
        }},
    )
