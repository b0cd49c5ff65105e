"""The language-neutral model that every front end lowers source code into.

Front ends (Python via libcst, Scala via tree-sitter) produce these values and nothing else;
the project graph, the dataflow and every rule work on them only. All values are frozen and
picklable so per-file results can be cached and computed in worker processes.

Conventions shared by all front ends:
- Lines are 1-based, columns are 1-based and count Unicode code points.
- A method call `recv.m(a, k=b)` is `Call(func=Attr(recv, "m"), args=(a,), kwargs=(("k", b),))`.
  Scala infix calls (`df coalesce 2`) and calls without parentheses (`df.write.parquet`) lower
  to the same shape. A property access without a call (`df.write`) is an `Attr`.
- `Name` is a bare identifier; the receiver of a method body is the name in
  `Function.self_name` (`self` in Python, `this` in Scala). A Scala member referenced bare
  inside its class is lowered as `Attr(Name("this"), member)`.
- Comparison and arithmetic operators use Python spellings: `==`, `!=`, `<`, `+`, `&`, `|`...
  (Scala `===` becomes `==`, `=!=` becomes `!=`, `&&` becomes `&`).
- Qualified names are dotted: `lake.iceberg.write_table`, `com.acme.lake.IcebergUtil.persist`.
- Anything a front end cannot model is `Opaque`: rules treat it as unknown and stay silent.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import NamedTuple, Union

from sparklint.pickling import by_fields


class Span(NamedTuple):
    """Where code stands. A tuple rather than a dataclass: a module holds one per expression,
    and tuples load from the cache about 2.5 times faster."""

    line: int
    col: int
    end_line: int
    end_col: int


NO_SPAN = Span(0, 0, 0, 0)

# A Scala companion object that shares its name with a class is lowered as the object `C$`.
COMPANION_SUFFIX = "$"


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: int, float, str, bool or None. A string keeps `anchors`, where its characters
    stand in the file (see `Anchor`), so SQL inside it can be located token by token."""

    value: int | float | str | bool | None
    span: Span = NO_SPAN
    anchors: tuple["Anchor", ...] = ()


class Anchor(NamedTuple):
    """From character `offset` of a string's value on, the text starts at `line`:`col` of the file;
    `verbatim` when it is written there character for character (no escapes), so later offsets
    are found by counting."""

    offset: int
    line: int
    col: int
    verbatim: bool


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Attr:
    value: "Expr"
    attr: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Call:
    func: "Expr"
    args: tuple["Expr", ...] = ()
    kwargs: tuple[tuple[str, "Expr"], ...] = ()
    span: Span = NO_SPAN
    # Where the callee's name starts (the `coalesce` in `df.coalesce(2)`): findings point here.
    name_span: Span = NO_SPAN
    # Type arguments as written (Scala `ds.as[Click]`): a case class states a Dataset's columns.
    type_args: tuple[str, ...] = ()


# `d[k] = v` (Scala `m(k) = v`) is lowered to a call of this method: `Call(Attr(d, SETITEM), (k, v))`.
SETITEM = "$setitem"


@dataclass(frozen=True, slots=True)
class Subscript:
    value: "Expr"
    index: "Expr"
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Seq:
    """A literal collection: kind is "list", "tuple", "set", "seq" (Scala Seq/List/Array) or "dict"
    (a dict's items are 2-tuples)."""

    items: tuple["Expr", ...]
    kind: str = "list"
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class UnaryOp:
    op: str  # "-", "not", "~"
    operand: "Expr"
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Lambda:
    params: tuple[str, ...]
    body: "Expr"
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Choice:
    """One of several values, depending on a condition: Python `a if c else b`, a Scala
    `if`/`match` used as a value. The interpreter keeps what is true of every option."""

    options: tuple["Expr", ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Opaque:
    """Something the front end does not model (f-strings, interpolation, comprehensions...)."""

    span: Span = NO_SPAN
    text: str = ""


Expr = Union[Const, Name, Attr, Call, Subscript, Seq, BinOp, UnaryOp, Lambda, Choice, Opaque]


def sub_expressions(expr: Expr) -> tuple[Expr, ...]:
    """The expressions directly inside one (a lambda's body and a choice's options included)."""
    kind = type(expr)
    if kind is Call:
        return (expr.func, *expr.args, *(value for _, value in expr.kwargs))
    if kind is Attr:
        return (expr.value,)
    if kind is Seq:
        return expr.items
    if kind is BinOp:
        return (expr.left, expr.right)
    if kind is UnaryOp:
        return (expr.operand,)
    if kind is Subscript:
        return (expr.value, expr.index)
    if kind is Lambda:
        return (expr.body,)
    if kind is Choice:
        return expr.options
    return ()


def expressions_of(module: "Module"):
    """Every expression of a module, outer ones before the ones inside them: its top-level code,
    functions, methods and class fields."""
    blocks = [module.body, *(function.body for function in module.functions)]
    for klass in module.classes:
        blocks.extend(method.body for method in klass.methods)
        yield from _nested((expr for _, expr in klass.fields))
    for block in blocks:
        yield from _nested(_statement_expressions(block))


def _statement_expressions(statements):
    for statement in statements:
        kind = type(statement)
        if kind is Assign or kind is ExprStmt:
            yield statement.value
        elif kind is Return and statement.value is not None:
            yield statement.value
        elif kind is For:
            yield statement.iter
            yield from _statement_expressions(statement.body)
        elif kind is Branch:
            if statement.test is not None:
                yield statement.test
            for arm in statement.arms:
                yield from _statement_expressions(arm)


def _nested(expressions):
    for expr in expressions:
        stack = [expr]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(sub_expressions(node))


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Assign:
    """`target = value`. Targets are names or dotted member paths (`self.n`, `this.n`);
    tuple unpacking gives several targets and a value that is unpacked item by item."""

    targets: tuple[str, ...]
    value: Expr
    span: Span = NO_SPAN
    unpack: bool = False


@dataclass(frozen=True, slots=True)
class ExprStmt:
    value: Expr
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Return:
    value: Expr | None
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class For:
    """A loop: `target` takes each item of `iter`; the body runs zero or more times."""

    target: tuple[str, ...]
    iter: Expr
    body: tuple["Stmt", ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Branch:
    """if/else, try/except, match: each arm runs on some path. Arms are analysed in order.

    `exhaustive`: one of the arms always runs (an `if` with an `else`, a `try`); otherwise the
    code may also skip them all. `terminal`: indexes of arms that never fall through to the
    code after the branch (they end in `return` or `raise`), so their assignments do not flow on.
    `conditional`: an `if` chain, whose first arm runs exactly when `test` holds and whose other
    arms (`elif`, `else if`, `else`) only when it does not; else `test` is only evaluated (a
    `match` subject, a loop condition). `elif_tests`: the conditions of the arms after the
    first, in order, for the `elif`/`else if` arms (an `else` arm has none).
    """

    arms: tuple[tuple["Stmt", ...], ...]
    span: Span = NO_SPAN
    test: Expr | None = None
    exhaustive: bool = False
    terminal: tuple[int, ...] = ()
    conditional: bool = False
    elif_tests: tuple[Expr, ...] = ()


Stmt = Union[Assign, ExprStmt, Return, For, Branch]


# ---------------------------------------------------------------- definitions


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: Expr | None = None
    # "positional", "keyword", "varargs" (*args), "varkw" (**kwargs)
    kind: str = "positional"
    annotation: str | None = None  # the declared type as written, e.g. "DataFrame"


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    qualname: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    span: Span = NO_SPAN
    # The body is the return value itself (Scala `def f(x) = expr`, Python lambdas).
    # Front ends lower that as a `Return` statement; this flag is informational.
    is_method: bool = False
    self_name: str | None = None  # "self" / "this" for methods
    # Extension methods (Scala implicit classes, Scala 3 `extension`): calls `x.name(...)` on
    # a value bind `x` to the parameter named here.
    extension_receiver: str | None = None
    is_entry: bool = False  # `main`, `if __name__ == "__main__"`, `extends App`, `@main`
    decorators: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Class:
    """A class, Scala object, trait or case class.

    `fields` maps member names to expressions evaluated in the constructor's scope
    (Python: `self.n = n` in `__init__`; Scala: class parameters and `val`s), `init_params`
    are the constructor's parameters. A Scala `object` is a class with `kind == "object"`:
    its members are reached through its qualified name without construction.
    """

    name: str
    qualname: str
    kind: str  # "class", "object", "trait"
    bases: tuple[str, ...]  # base names as written (resolved by the project graph)
    methods: tuple[Function, ...]
    fields: tuple[tuple[str, Expr], ...] = ()
    init_params: tuple[Param, ...] = ()
    span: Span = NO_SPAN
    extension: bool = False  # an implicit class: its methods extend its first init param


@dataclass(frozen=True, slots=True)
class Import:
    """`import a.b` -> Import("a.b", None, "a", is_module=True) (binds the top package);
    `import a.b as c` -> Import("a.b", None, "c"); `from a import b as c` -> Import("a", "b", "c");
    `from a import *` / Scala `import a._` -> Import("a", "*", "*").
    `level` counts leading dots of Python relative imports."""

    module: str
    name: str | None
    alias: str
    level: int = 0
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Suppression:
    """A `# noqa: SPK001,SPK002` comment. `line` is where it stands; `first_line..last_line`
    is the statement it covers (the same line when it stands on a one-line statement)."""

    codes: tuple[str, ...]
    line: int
    col: int
    first_line: int
    last_line: int


@dataclass(frozen=True, slots=True)
class ParseError:
    """Why a file was not analysed: `kind` is "syntax" (the code does not parse), "encoding" (not
    UTF-8) or "limit" (too big, deep or slow to analyse safely, or its parser failed)."""

    message: str
    span: Span
    kind: str = "syntax"


@dataclass(frozen=True, slots=True)
class Module:
    """One source file.

    `name` is its dotted module name (Python: from the path; Scala: the package plus the file
    stem, unique per file). `namespace` is where its top-level definitions live (Python: the
    module name; Scala: the package). `visible_namespaces` are namespaces whose members are
    visible without import (Scala: the package and, for chained clauses, enclosing ones).
    `body` holds top-level statements (Python module code, including the `__main__` block
    which is also lowered as an entry function named `<main>`).
    """

    path: str  # posix path relative to the project root
    language: str  # "python" / "scala"
    name: str
    namespace: str
    imports: tuple[Import, ...] = ()
    functions: tuple[Function, ...] = ()
    classes: tuple[Class, ...] = ()
    body: tuple[Stmt, ...] = ()
    visible_namespaces: tuple[str, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    parse_errors: tuple[ParseError, ...] = ()
    line_count: int = 0
    is_package_init: bool = False  # Python `__init__.py`
    extra: dict = field(default_factory=dict, compare=False, hash=False)


# ---------------------------------------------------------------- code loaded when first read


class LazyCode:
    """A function's body as it was cached, unpickled when the analysis first reads it: a re-check
    after an edit needs every module's names and signatures, but only the code that its analysed
    groups run. It behaves as the tuple of statements it stands for (iteration, length, indexing,
    equality and hash), and pickles as that tuple."""

    __slots__ = ("_bodies", "_index", "names")

    def __init__(self, bodies: "CachedBodies", index: int, names: tuple[str, ...] | None = None) -> None:
        self._bodies = bodies
        self._index = index
        self.names = names  # a class's fields (name, expression): their names, known without unpickling

    @property
    def code(self) -> tuple:
        return self._bodies.load()[self._index]

    def __iter__(self):
        return iter(self.code)

    def __len__(self) -> int:
        return len(self.code)

    def __bool__(self) -> bool:
        return bool(self.code)

    def __getitem__(self, item):
        return self.code[item]

    def __eq__(self, other) -> bool:
        return self.code == (other.code if type(other) is LazyCode else other)

    def __hash__(self) -> int:
        return hash(self.code)

    def __repr__(self) -> str:
        return repr(self.code)

    def __reduce__(self):
        return tuple, (self.code,)


def load_code(module: "Module") -> None:
    """Unpickle the code of a cached module now (`LazyCode`), e.g. before forking workers that
    would each unpickle it again."""
    lazy = (*(function.body for function in module.functions),
            *(code for klass in module.classes for code in (klass.fields, *(method.body for method in klass.methods))))
    for code in lazy:
        if type(code) is LazyCode:
            code._bodies.load()
            return  # one blob holds them all


def field_names(klass: "Class") -> tuple[str, ...]:
    """The names of a class's fields, without unpickling their expressions when it was cached."""
    fields = klass.fields
    if type(fields) is LazyCode and fields.names is not None:
        return fields.names
    return tuple(name for name, _ in fields)


class CachedBodies:
    """The bodies of one cached module's functions and methods, as one pickle read on first use."""

    __slots__ = ("_data", "_bodies")

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data
        self._bodies: tuple | None = None

    def load(self) -> tuple:
        if self._bodies is None:
            self._bodies = pickle.loads(self._data)
            self._data = None
        return self._bodies


by_fields(Const, Name, Attr, Call, Subscript, Seq, BinOp, UnaryOp, Lambda, Choice, Opaque, Assign, ExprStmt, Return,
          For, Branch, Param, Function, Class, Import, Suppression, ParseError, Module, flat=Span)
