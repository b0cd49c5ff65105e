"""Abstract values the interpreter computes for expressions.

A DataFrame is a linked chain of `Op`s back to its source, so a rule looking at a write can
walk back and see every operation (with its location and call stack) that built what is
written. Column expressions keep their structure (function name and arguments) so column
lineage rules can inspect them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from sparklint import model as m
from sparklint.findings import Location


@dataclass(frozen=True, slots=True)
class Frame:
    """One call on the path from a root to the current code: `caller` called `callee` at `site`."""

    caller: str
    callee: str
    site: Location


Stack = tuple[Frame, ...]


class UnknownValue:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = UnknownValue()


# Where the characters of a string value stand in the files: (offset in the value, path, line,
# column, verbatim); see model.Anchor. SQL inside strings is located by it.
Origin = tuple[tuple[int, str, int, int, bool], ...]


@dataclass(frozen=True, slots=True)
class ConstV:
    value: int | float | str | bool | None
    origin: Origin = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class TextV:
    """A string the code builds with unknown parts (`f"FROM {table}"`): the known text with each
    unknown part replaced by a placeholder. Not a constant: only SQL lowering reads it."""

    text: str
    origin: Origin = ()


@dataclass(frozen=True, slots=True)
class SeqV:
    items: tuple["Value", ...]
    kind: str = "list"
    location: Location | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Op:
    """One DataFrame/RDD operation. `name` is the Spark method (`coalesce`, `withColumn`...) or
    `source` for where the chain starts; `other` is a second input (the right side of a join)."""

    name: str
    args: tuple["Value", ...]
    kwargs: tuple[tuple[str, "Value"], ...]
    location: Location | None
    stack: Stack
    prev: "Op | None"
    other: "DataFrameV | None" = None
    detail: str = ""  # for sources: "table", "path", "literal", "range", "sql", "param", "unknown"

    def arg(self, index: int, keyword: str | None = None) -> "Value":
        if keyword is not None:
            for key, value in self.kwargs:
                if key == keyword:
                    return value
        return self.args[index] if index < len(self.args) else UNKNOWN

    def chain(self):
        """This op and every op before it, newest first."""
        op: Op | None = self
        while op is not None:
            yield op
            op = op.prev


ROWS_PER_PARTITION = "rows per partition"  # an Op's detail: `mapPartitions` giving a fixed number of rows each


@dataclass(frozen=True, slots=True, eq=False)
class DataFrameV:
    head: Op
    is_rdd: bool = False


@dataclass(slots=True, eq=False)
class WriterV:
    """`df.write...`, `df.writeTo(t)...` or a Delta merge, collecting options until a sink method.
    Like Spark's DataFrameWriter it is a mutable builder: `w.partitionBy("d")` on its own line
    changes `w`."""

    df: DataFrameV
    api: str  # "write", "writeTo", "merge", "writeStream"
    options: list[tuple[str, tuple["Value", ...]]] = field(default_factory=list)
    location: Location | None = None
    stack: Stack = ()

    def with_option(self, name: str, args: tuple["Value", ...]) -> "WriterV":
        self.options.append((name, args))
        return self

    def option_args(self, name: str) -> tuple["Value", ...] | None:
        for option, args in reversed(self.options):
            if option == name:
                return args
        return None


@dataclass(frozen=True, slots=True, eq=False)
class ColumnV:
    """A column expression: `kind` is "ref" (a column by name), "func" (a SQL function call such
    as coalesce, when, lit), "method" (`x.isNull()`, `x.alias("k")`, `x.otherwise(y)`), "op"
    (binary/unary operators) or "lit"."""

    kind: str
    name: str  # column name, function name, method name or operator
    args: tuple["Value", ...] = ()
    location: Location | None = None
    stack: Stack = ()
    # a "ref" taken from a DataFrame (`a.x`, `a["x"]`, Scala `a("x")`, `a.col("x")`): that
    # DataFrame, so a join condition can tell its sides apart; None for `col("x")`, `$"x"`, SQL
    origin: DataFrameV | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class GroupedV:
    df: DataFrameV
    keys: tuple["Value", ...]
    location: Location | None = None


@dataclass(frozen=True, slots=True, eq=False)
class WindowV:
    keys: tuple["Value", ...]
    location: Location | None = None
    stack: Stack = ()


@dataclass(frozen=True, slots=True)
class SchemaV:
    """Column types the code declares: a `StructType`, a DDL string or a Scala case class.
    `fields` are (column, Spark type name in lower case: "string", "bigint", "array"...);
    `origin` is how a finding names it: "`schemas.CLICKS`", "case class `Click`"."""

    fields: tuple[tuple[str, str], ...]
    origin: str = ""
    location: Location | None = None

    def type_of(self, column: str) -> str | None:
        for name, type_name in self.fields:
            if name == column:
                return type_name
        return None


@dataclass(frozen=True, slots=True)
class ModuleRef:
    name: str


@dataclass(frozen=True, slots=True)
class FunctionRef:
    qualname: str


@dataclass(frozen=True, slots=True)
class ClassRef:
    qualname: str


@dataclass(frozen=True, slots=True)
class ExternalRef:
    """Something outside the project: `pyspark.sql.functions.coalesce`, `json.loads`."""

    dotted: str


@dataclass(slots=True, eq=False)
class InstanceV:
    class_qualname: str
    fields: dict[str, "Value"] = field(default_factory=dict)
    version: int = 0  # counts the changes of `fields` (`ContextKeys.fields_changed`)


@dataclass(frozen=True, slots=True, eq=False)
class BoundMethodV:
    self_value: "Value"
    qualname: str


@dataclass(frozen=True, slots=True, eq=False)
class LambdaV:
    params: tuple[str, ...]
    body: object  # model.Expr
    scope: object  # the interpreter's Scope it closes over


@dataclass(frozen=True, slots=True, eq=False)
class SessionV:
    """A SparkSession (or its `.read`/`.readStream` when `reader` is set)."""

    reader: str | None = None
    options: tuple[tuple[str, tuple["Value", ...]], ...] = ()


Value = Union[
    UnknownValue, ConstV, SeqV, DataFrameV, WriterV, ColumnV, GroupedV, WindowV, ModuleRef,
    FunctionRef, ClassRef, ExternalRef, InstanceV, BoundMethodV, LambdaV, SessionV, SchemaV, TextV,
]


def text_of(value: "Value") -> tuple[str, Origin] | None:
    """A string value's text and origin, whether fully known or built with unknown parts."""
    if isinstance(value, ConstV) and isinstance(value.value, str):
        return value.value, value.origin
    if isinstance(value, TextV):
        return value.text, value.origin
    return None


def concatenated(parts: "list[tuple[str, Origin]]") -> tuple[str, Origin]:
    text, origin = "", []
    for piece, piece_origin in parts:
        origin.extend((offset + len(text), *rest) for offset, *rest in piece_origin)
        text += piece
    return text, tuple(origin)


def const_of(value: Value):
    """The Python constant behind a value, or None when it is not a constant."""
    if isinstance(value, ConstV):
        return value.value
    if isinstance(value, ColumnV) and value.kind == "lit" and value.args:
        return const_of(value.args[0])
    return None


def int_of(value: Value) -> int | None:
    constant = const_of(value)
    return constant if isinstance(constant, int) and not isinstance(constant, bool) else None


def str_of(value: Value) -> str | None:
    constant = const_of(value)
    return constant if isinstance(constant, str) else None


# Methods that change a collection in place (Python's list, set and dict; Scala's buffers and
# mutable maps; Java's collections): the collection afterwards, by `mutated`.
APPENDING = frozenset({"append", "add", "addOne", "prepend"})
EXTENDING = frozenset({"extend", "appendAll", "addAll", "prependAll"})
PUTTING = frozenset({"put", "setdefault", "update"})
INSERTING = frozenset({"insert"})
SETTING = frozenset({m.SETITEM})  # `xs[i] = x`, `d[k] = v`
EMPTYING = frozenset({"clear"})
REMOVING = frozenset({"pop", "popitem", "remove", "discard", "subtractOne", "filterInPlace", "sort", "reverse"})
MUTATORS = APPENDING | EXTENDING | PUTTING | INSERTING | SETTING | EMPTYING | REMOVING


def mutated(seq: SeqV, name: str, args: tuple) -> Value:
    """What `seq.name(*args)` leaves in the collection, where the interpreter can tell; else
    unknown. A builder that collects its parts in a list (`self.columns.append(spec)`) is then
    a different calling context after each part, not the same one as an empty builder."""
    if seq.kind == "range":
        return UNKNOWN
    if name in EMPTYING and not args:
        return SeqV((), seq.kind, seq.location)
    if seq.kind == "dict":
        if (name in PUTTING or name in SETTING) and len(args) == 2:
            if const_of(args[0]) is None:  # it may replace any key: the size is not known
                return UNKNOWN
            return SeqV(_put(seq.items, SeqV(tuple(args), "tuple")), "dict", seq.location)
        if name == "update" and len(args) == 1 and isinstance(args[0], SeqV) and args[0].kind == "dict":
            items = seq.items
            for pair in args[0].items:
                if not (isinstance(pair, SeqV) and len(pair.items) == 2 and const_of(pair.items[0]) is not None):
                    return UNKNOWN
                items = _put(items, pair)
            return SeqV(items, "dict", seq.location)
        return UNKNOWN
    if name in APPENDING and len(args) == 1:
        if seq.kind == "set" and const_of(args[0]) is not None and any(const_of(item) == const_of(args[0]) for item in seq.items):
            return seq  # already in the set
        items = (args[0], *seq.items) if name == "prepend" else (*seq.items, args[0])
        return SeqV(items, seq.kind, seq.location)
    if name in EXTENDING and len(args) == 1 and isinstance(args[0], SeqV) and args[0].kind != "dict":
        items = (*args[0].items, *seq.items) if name == "prependAll" else (*seq.items, *args[0].items)
        return SeqV(items, seq.kind, seq.location)
    if name in SETTING and len(args) == 2 and seq.kind != "range":
        position = int_of(args[0])
        if position is not None and -len(seq.items) <= position < len(seq.items):
            items = list(seq.items)
            items[position] = args[1]
            return SeqV(tuple(items), seq.kind, seq.location)
        return UNKNOWN
    if name in INSERTING and len(args) == 2:
        position = int_of(args[0])
        if position is not None:
            items = list(seq.items)
            items.insert(position, args[1])
            return SeqV(tuple(items), seq.kind, seq.location)
    return UNKNOWN


def _put(pairs: tuple, pair: SeqV) -> tuple:
    """A dict's (key, value) pairs with `pair` put in, in place of the pair of its (known) key."""
    known = const_of(pair.items[0])
    kept = tuple(item for item in pairs
                 if not (isinstance(item, SeqV) and len(item.items) == 2 and const_of(item.items[0]) == known))
    return (*kept, pair)


def combined(op: str, left: Value, right: Value) -> Value | None:
    """A collection built from two by an operator: Python's `list + list` or `tuple + tuple`,
    Scala's `xs ++ ys`, `xs :+ x`, `x +: xs` and `x :: xs`; None when `op` does not build one."""
    if op == ":+" and isinstance(left, SeqV) and left.kind not in ("dict", "range"):
        return SeqV((*left.items, right), left.kind, left.location)
    if (op == "+:" or op == "::") and isinstance(right, SeqV) and right.kind not in ("dict", "range"):
        return SeqV((left, *right.items), right.kind, right.location)
    if not (isinstance(left, SeqV) and isinstance(right, SeqV)) or {left.kind, right.kind} & {"dict", "range"}:
        return None
    if op == "++" or (op == "+" and left.kind == right.kind and left.kind in ("list", "tuple")):
        return SeqV((*left.items, *right.items), left.kind, left.location)
    return None
