"""An abstract interpreter over the model: it follows DataFrames through assignments, method
chains, helper functions, methods and files, and reports Spark operations as events.

Calls are analysed in context (the callee runs with the caller's abstract arguments, memoised
per distinct arguments), so a constant passed down five calls still reaches `coalesce(n)`.
Every function is also analysed as a root with unknown arguments, entry points first, so a
finding's chain starts at the job's entry point whenever one reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from sparklint import model as m
from sparklint.findings import Location
from sparklint.graph import spark_api as api
from sparklint.graph.events import (
    ActionEvent, CartesianEvent, ConditionEvent, Event, GroupingEvent, JoinEvent, LoopEvent, ReadEvent, WriteEvent,
)
from sparklint.graph.index import ProjectIndex, Symbol, display_name
from sparklint.graph.keys import ContextKeys
from sparklint.graph.repeats import COMPUTING_ACTIONS, UseTracker, assumed_in, carried_ops, collection_size
from sparklint.graph import coltypes
from sparklint.graph.values import (
    UNKNOWN, BoundMethodV, ClassRef, ColumnV, ConstV, DataFrameV, ExternalRef, Frame,
    FunctionRef, GroupedV, InstanceV, LambdaV, ModuleRef, Op, SeqV, SessionV, Stack, Value,
    MUTATORS, ROWS_PER_PARTITION, SchemaV, TextV, WindowV, WriterV, combined, concatenated, int_of, mutated, str_of, text_of,
)
from sparklint.graph import sql
from sparklint.graph.units import class_unit, function_unit, module_unit

MAX_DEPTH = 24
MAX_LOOP_UNROLL = 4
# The brakes that bound the work by the code's size, never its shape. Each counts per function or
# per root, never per run, so what is found does not depend on what else the run analysed.
# Distinct calling contexts analysed for one function: a few per place that names it, so a
# shared writer called by every job of a mono-repo is followed from each, while contexts that
# multiply along call paths are cut off.
CONTEXTS_PER_FUNCTION = 8
CONTEXTS_PER_CALL_SITE = 4
# How much of a reused call's DataFrame result is made again (`CallResult.made_again`).
MAX_REMADE_OPS = 200
MAX_REMADE_NESTING = 4
# Methods that change the DataFrame (or RDD) they are called on and return it: Dataset.persist()
# is `cacheManager.cacheQuery(this); this`, PySpark's `self._jdf.persist(); return self`.
KEPT_BY_ITSELF = frozenset({"cache", "persist"})
MAX_ROOT_EVALUATIONS = 5_000  # new (function, context) analyses one root may start
MAX_UNROLLED_LOOP_NESTING = 2  # deeper loops run their body once with unknown items


@dataclass(slots=True)
class Scope:
    module: m.Module
    label: str  # how the chain names this code: "main()", "TablePublisher.publish()"
    locals: dict[str, Value] = field(default_factory=dict)
    self_name: str | None = None
    self_value: Value | None = None
    stack: Stack = ()
    returns: list[Value] = field(default_factory=list)
    # the DataFrame uses of each branch arm that returns: made on the paths out of the call
    returned_uses: list[dict] = field(default_factory=list)


class Interpreter:
    def __init__(self, index: ProjectIndex, emit: Callable[[Event], None]) -> None:
        self.index = index
        self.emit = emit
        self._globals: dict[str, dict[str, Value]] = {}
        self._globals_in_progress: set[str] = set()
        self._objects: dict[str, InstanceV] = {}
        self._views: dict[str, DataFrameV] = {}  # temp views by lower-case name, for `spark.sql`
        self._object_fields_in_progress: set[tuple[str, str]] = set()
        self._memo: dict[tuple, CallResult] = {}
        self._lookalike_modules: dict[str, bool] = {}
        self._constructed: dict[tuple, dict[str, Value]] = {}  # constructor context -> the fields it built
        self._resolved: dict[tuple[str, str], Value] = {}  # (Scala file, name) -> the reference it denotes
        self._field_values: dict[str, Value] = {}
        self._field_expressions: dict[str, dict[str, m.Expr]] = {}  # class qualname -> field -> expression
        self._fields_in_progress: set[str] = set()
        self._in_progress: set[tuple] = set()
        self._quiet = 0  # >0 while evaluating module globals for constants: no events
        self._bases_cache: dict[str, tuple[str, ...]] = {}
        self._bases_resolving = 0  # >0 while a class's bases are resolved (a cycle reads them as none)
        self._members: dict[tuple[str, str], Symbol | None] = {}  # (class, attribute) -> `class_member`
        self._keys = ContextKeys()
        self._contexts: dict[str, int] = {}  # function qualname -> contexts analysed
        self._root_evaluations = 0
        self._loop_nesting = 0
        self._uses = UseTracker()  # actions and writes on the current path (SPK006)
        self._root_is_called = False  # the root function is called in the project (SPK005)
        self.evaluations = 0
        # The code units (`graph.units`) this interpreter read: what its findings depend on.
        self.reads: set[str] = set()
        # (name, `index.call_sites` count) of every name whose count a context budget was measured
        # against near its floor: no other name's count can change what this interpreter found.
        self.budgeted: set[tuple[str, int]] = set()
        # Where a brake was reached, in the order met: (path, what, why). The run summary says so.
        self.degraded: dict[tuple[str, str], str] = {}

    # ------------------------------------------------------------ roots

    def start_root(self, called: bool = False) -> None:
        self._root_evaluations = 0
        self._uses.reset()
        self._root_is_called = called

    def run_function(self, symbol: Symbol) -> None:
        function = symbol.function
        assert function is not None and symbol.module is not None
        self.start_root(called=not function.is_entry and function.name in self.index.call_sites)
        self_value: Value | None = None
        if symbol.owner is not None:
            self.reads.add(class_unit(symbol.owner.qualname))
        if symbol.owner is not None and symbol.owner.kind == "object":
            self_value = self.object_instance(symbol.owner.qualname)
        elif symbol.owner is not None and symbol.owner.extension and symbol.owner.init_params:
            self_value = InstanceV(symbol.owner.qualname, {symbol.owner.init_params[0].name: UNKNOWN})
        elif function.self_name:
            self_value = InstanceV(symbol.owner.qualname) if symbol.owner else UNKNOWN
        args = tuple(UNKNOWN for p in function.params if p.default is None and p.kind == "positional")
        self.call_function(symbol, args, (), self_value, None, None)

    def run_module_body(self, module: m.Module) -> None:
        self.start_root()
        self.reads.add(module_unit(module.path))
        scope = Scope(module, "module")
        self.exec_block(module.body, scope)

    # ------------------------------------------------------------ statements

    def exec_block(self, statements: tuple[m.Stmt, ...], scope: Scope) -> None:
        for statement in statements:
            self.exec_statement(statement, scope)

    def exec_statement(self, statement: m.Stmt, scope: Scope) -> None:
        if isinstance(statement, m.Assign):
            value = self.eval(statement.value, scope)
            if statement.unpack:
                items = value.items if isinstance(value, SeqV) and len(value.items) == len(statement.targets) else None
                for position, target in enumerate(statement.targets):
                    self.assign(target, items[position] if items else UNKNOWN, scope)
            else:
                for target in statement.targets:
                    self.assign(target, value, scope)
        elif isinstance(statement, m.ExprStmt):
            value = self.eval(statement.value, scope)
            if isinstance(value, DataFrameV) and value.head.name in KEPT_BY_ITSELF:
                # `df.cache()` as a statement: Spark's cache/persist register the plan and return
                # the same object, so `df` is the cached DataFrame from here on
                receiver = _method_receiver(statement.value)
                if receiver is not None:
                    self.mutate(receiver, value, scope)
        elif isinstance(statement, m.Return):
            scope.returns.append(self.eval(statement.value, scope) if statement.value is not None else UNKNOWN)
        elif isinstance(statement, m.Branch):
            self.exec_branch(statement, scope)
        elif isinstance(statement, m.For):
            self.exec_loop(statement, scope)

    def exec_branch(self, branch: m.Branch, scope: Scope) -> None:
        """Each arm that may run (`_arms_taken`) runs from the same state; afterwards a name
        holds what every arm that falls through (and, when all may be skipped, the state
        before) agrees on."""
        if not branch.conditional and branch.test is not None and _counts_rows(branch.test):
            self.exec_condition(branch.test, scope)
        arms, exhaustive = self._arms_taken(branch, scope)
        before = scope.locals
        outcomes: list[dict[str, Value]] = []
        if not exhaustive:
            arms.insert(0, (ALL_SKIPPED, ()))  # the state before, first, as it always was
        uses_mark = self._uses.mark()
        use_outcomes = []
        counting = [number for number, test in enumerate(branch.elif_tests) if _counts_rows(test)]
        for index, arm in arms:
            scope.locals = dict(before)
            for number in _elif_tests_before(counting, index):
                self.exec_condition(branch.elif_tests[number], scope)
            self.exec_block(arm, scope)
            arm_uses = self._uses.rollback(uses_mark)
            if index not in branch.terminal:
                outcomes.append(scope.locals)
                use_outcomes.append(arm_uses)
            elif _returns(arm):  # not the code after the branch, but the caller's, follows these uses
                scope.returned_uses.append(arm_uses)
        self._uses.merge(use_outcomes)
        if not outcomes:  # every arm returns or raises: what follows is unreachable from here
            scope.locals = before
            return
        merged: dict[str, Value] = {}
        for name in set().union(*outcomes):
            values = [outcome.get(name, UNKNOWN) for outcome in outcomes]
            first = values[0]
            # most names keep one value on every path (a class body's fields around each `test`)
            merged[name] = first if all(value is first for value in values) else merge_values(values, scope.stack)
        scope.locals = merged

    def _arms_taken(self, branch: m.Branch, scope: Scope) -> tuple[list[tuple[int, tuple]], bool]:
        """The arms an `if` chain may run, with whether one of them surely runs. Conditions are
        tried in order: one that holds is the last arm taken, one that fails skips its arm,
        one that may go either way keeps its arm and goes on (`_condition_holds`)."""
        arms = list(enumerate(branch.arms))
        if not branch.conditional or branch.test is None:
            return arms, branch.exhaustive
        tests = (branch.test, *branch.elif_tests)
        taken = []
        for index, arm in arms:
            if index >= len(tests):  # the `else` arm
                taken.append((index, arm))
                continue
            # an `elif` that counts rows is evaluated on the paths that reach it (`exec_branch`)
            holds = None if index and _counts_rows(tests[index]) else self._condition_holds(tests[index], scope)
            if holds is False:
                continue
            taken.append((index, arm))
            if holds:
                return taken, True
        return taken, branch.exhaustive

    def _condition_holds(self, test: m.Expr, scope: Scope) -> bool | None:
        """Whether an `if`/`elif` condition holds, when constants tell (`if debug:` where
        `debug=False`, `fill is True` where `fill=None`). A condition that counts rows is
        evaluated for what it computes; else only one that cannot call code is evaluated."""
        if _counts_rows(test):
            return _truth(self.exec_condition(test, scope))
        if _constant_shaped(test):
            return _truth(self.eval(test, scope))
        if type(test) is m.BinOp and test.op in _SHORT_CIRCUITS and _constant_shaped(test.left):
            # `if debug and rows.count() > 0` (a condition is no Column, so `&` and `|` are
            # Scala's `&&` and `||` here)
            return _decided(test.op, self.eval(test.left, scope))
        return None

    def exec_condition(self, test: m.Expr, scope: Scope) -> Value:
        """An `if`/`while` condition: evaluated for what it computes (a `count()` tested for
        emptiness), then reported with where it is written."""
        value = self.eval(test, scope)
        span = getattr(test, "span", None)
        if span is not None and span.line != 0:
            self.emit_event(ConditionEvent(value, self.loc(scope, span), scope.stack))
        return value

    def exec_loop(self, loop: m.For, scope: Scope) -> None:
        iterable = self.eval(loop.iter, scope)
        if isinstance(iterable, DataFrameV):
            # Scala `rdd.foreach(x => ...)`, lowered as a loop: an action whose function runs on
            # the executors, one row at a time (neither language iterates a DataFrame otherwise)
            self.emit_event(ActionEvent(iterable, "foreach", (), self.loc(scope, loop.span), scope.stack))
            return
        size = collection_size(iterable)
        items = self._loop_items(_elements(iterable, size))
        location = self._loop_location(loop, scope)
        carried = self._carried_dataframes(scope)
        before_unknown = {name: value for name, value in scope.locals.items() if value is UNKNOWN}
        many = items == (UNKNOWN,) and (size is None or size > 1)
        collections = self._collections(scope) if many else {}
        if many:
            self._uses.enter_loop(location, list(carried.values()))
        self._loop_nesting += 1
        self._uses.open_loop(_counts(loop.iter))
        try:
            self._run_loop_body(loop, items, scope)
        finally:
            self._loop_nesting -= 1
            self._uses.close_loop()
            if many:
                self._uses.exit_loop()
        if many:
            self._forget_grown(collections, scope)
        after = self._carried_dataframes(scope)
        ops = tuple(op for name, df in carried.items() for op in carried_ops(df, after.get(name)))
        whole = self.loc(scope, loop.span)
        ops += tuple(op for name, value in scope.locals.items()
                     if isinstance(value, DataFrameV) and before_unknown.get(name) is UNKNOWN
                     and _reassigned_from_itself(loop.body, name)
                     for op in assumed_in(value, whole))
        self.emit_loop(LoopEvent("for", ops, size, location, scope.stack))

    def _loop_location(self, loop: m.For, scope: Scope) -> Location:
        """`for c in cols`: from the loop's start to the end of its collection."""
        start, end = loop.span, getattr(loop.iter, "span", None) or loop.span
        if start.line == 0:
            return self.loc(scope, end)
        if (end.end_line, end.end_col) < (start.line, start.col):
            end = start
        return Location(scope.module.path, start.line, start.col, end.end_line, end.end_col)

    @staticmethod
    def _carried_dataframes(scope: Scope) -> dict[str, DataFrameV]:
        """The DataFrames a loop may carry from one element to the next: locals and `self` fields."""
        return _places_holding(scope, DataFrameV)

    @staticmethod
    def _collections(scope: Scope) -> dict[str, SeqV]:
        """The collections a loop body may grow: locals and `self` fields."""
        return _places_holding(scope, SeqV)

    def _forget_grown(self, before: dict[str, SeqV], scope: Scope) -> None:
        """After a loop run once for an unknown number of elements, a collection it changed
        (`cols.append(c)`, `cols = cols + [c]`) has an unknown size, not the one element that
        single run gave it."""
        after = self._collections(scope)
        for name, value in before.items():
            if after.get(name) is not value:
                self.assign(name, UNKNOWN, scope)

    def emit_loop(self, event: LoopEvent) -> None:
        """A loop's event, when it carries a DataFrame. A loop over a collection of unknown size
        in a function analysed on its own (as a root, with unknown arguments) is not reported
        when the project calls that function and it is no entry point: its callers' analyses
        say what it iterates, and report it with the chain from them when they do not know."""
        if not event.stack and event.size is None and self._root_is_called:
            return
        if event.ops:
            self.emit_event(event)

    def fold(self, kind: str, items: Value, initial: Value, function: Value, scope: Scope, span) -> Value:
        """`functools.reduce(f, items, df)`, Scala `items.foldLeft(df)(f)`: `f(acc, item)` for each
        item of a small literal collection, or once for an unknown item; the DataFrame built."""
        values: tuple[Value, ...] = (UNKNOWN,)
        if isinstance(items, SeqV) and len(items.items) <= MAX_LOOP_UNROLL and (
            not items.items or self._loop_nesting < MAX_UNROLLED_LOOP_NESTING
        ):
            values = items.items
        if initial is UNKNOWN:  # a parameter: what the function does to it says it is a DataFrame
            initial = self.assumed_dataframe(scope, span)
        acc: Value = initial
        self._loop_nesting += 1
        self._uses.open_loop()
        try:
            for item in values:
                acc = self.call_value(function, (acc, item), (), scope, None)
                if not isinstance(acc, DataFrameV):
                    return UNKNOWN
        finally:
            self._loop_nesting -= 1
            self._uses.close_loop()
        self.emit_loop(LoopEvent(kind, carried_ops(initial, acc), collection_size(items), self.loc(scope, span), scope.stack))
        return acc

    def _run_loop_body(self, loop: m.For, items: tuple[Value, ...], scope: Scope) -> None:
        for item in items:
            if len(loop.target) == 1:
                self.assign(loop.target[0], item, scope)
            else:
                parts = item.items if isinstance(item, SeqV) and len(item.items) == len(loop.target) else None
                for position, target in enumerate(loop.target):
                    self.assign(target, parts[position] if parts else UNKNOWN, scope)
            self.exec_block(loop.body, scope)

    def assign(self, target: str, value: Value, scope: Scope) -> None:
        if "." not in target:
            scope.locals[target] = _named(value, target, scope.module) if scope.label == "module" else value
            return
        owner, _, attribute = target.partition(".")
        if owner == scope.self_name and isinstance(scope.self_value, InstanceV) and "." not in attribute:
            fields = scope.self_value.fields
            previous = fields.get(attribute)
            if isinstance(value, ConstV) and isinstance(previous, ConstV) and previous != value:
                # A field that takes one constant after another (a counter, a state flag) is
                # widened to unknown: otherwise each new value is a new calling context.
                value = UNKNOWN
            fields[attribute] = value
            self._keys.fields_changed(scope.self_value)

    # ------------------------------------------------------------ expressions

    def eval(self, expr: m.Expr | None, scope: Scope) -> Value:
        if expr is None:
            return UNKNOWN
        kind = type(expr)
        if kind is m.Const:
            if expr.anchors:
                return ConstV(expr.value, tuple((a.offset, scope.module.path, a.line, a.col, a.verbatim) for a in expr.anchors))
            return ConstV(expr.value)
        if kind is m.Name:
            return self.lookup(expr.id, scope)
        if kind is m.Call:
            return self.eval_call(expr, scope)
        if kind is m.Attr:
            return self.get_attr(self.eval(expr.value, scope), expr.attr, scope, expr.span)
        if kind is m.Seq:
            return SeqV(tuple(self.eval(item, scope) for item in expr.items), expr.kind, self.loc(scope, expr.span))
        if kind is m.BinOp:
            return self.binary(expr, scope)
        if kind is m.UnaryOp:
            operand = self.eval(expr.operand, scope)
            if expr.op == "-" and isinstance(operand, ConstV) and isinstance(operand.value, (int, float)):
                return ConstV(-operand.value)
            if expr.op == "not" and _truth(operand) is not None:
                return ConstV(not _truth(operand))
            if isinstance(operand, ColumnV):
                return ColumnV("op", expr.op, (operand,), self.loc(scope, expr.span), scope.stack)
            return UNKNOWN
        if kind is m.Subscript:
            return self.subscript(expr, scope)
        if kind is m.Lambda:
            return LambdaV(expr.params, expr.body, scope)
        if kind is m.Choice:
            return merge_values(self.eval_options(expr.options, scope), scope.stack)
        return UNKNOWN

    def eval_options(self, options: tuple[m.Expr, ...], scope: Scope) -> list[Value]:
        """`a if c else b`, a Scala `if`/`match` as a value: one option runs on each path, so an
        action in one and a write in another are one use each (SPK006)."""
        uses_mark = self._uses.mark()
        values, outcomes = [], []
        for option in options:
            values.append(self.eval(option, scope))
            outcomes.append(self._uses.rollback(uses_mark))
        self._uses.merge(outcomes)
        return values

    def binary(self, expr: m.BinOp, scope: Scope) -> Value:
        left = self.eval(expr.left, scope)
        right = self.eval(expr.right, scope)
        if isinstance(left, ColumnV) or isinstance(right, ColumnV):
            return ColumnV("op", expr.op, (left, right), self.loc(scope, expr.span), scope.stack)
        if expr.op == "+" and (isinstance(left, TextV) or isinstance(right, TextV)
                               or (isinstance(left, ConstV) and isinstance(right, ConstV) and (left.origin or right.origin))):
            parts = [text_of(left), text_of(right)]
            if None not in parts:
                text, origin = concatenated(parts)
                return TextV(text, origin) if TextV in (type(left), type(right)) else ConstV(text, origin)
        collection = combined(expr.op, left, right)
        if collection is not None:
            return collection
        if expr.op in ("and", "or") and _decided(expr.op, left) is not None:
            return left  # Python's value of `a and b` / `a or b` when `a` decides
        if expr.op in ("&", "|") and type(left) is ConstV and type(left.value) is bool and _decided(expr.op, left) is not None:
            return left  # Scala's `false && b`, `true || b` (lowered as `&` and `|`)
        if expr.op in ("in", "not in"):
            return _membership(left, right, expr.op)
        if isinstance(left, ConstV) and isinstance(right, ConstV):
            return _fold(expr.op, left.value, right.value)
        return UNKNOWN

    def subscript(self, expr: m.Subscript, scope: Scope) -> Value:
        base = self.eval(expr.value, scope)
        index = self.eval(expr.index, scope)
        if isinstance(base, DataFrameV) and str_of(index) is not None:
            return ColumnV("ref", str_of(index), location=self.loc(scope, expr.span), origin=base)
        if isinstance(base, SeqV) and int_of(index) is not None:
            position = int_of(index)
            if -len(base.items) <= position < len(base.items):
                return base.items[position]
        return UNKNOWN

    # ------------------------------------------------------------ names

    def lookup(self, name: str, scope: Scope) -> Value:
        if name in scope.locals:
            return scope.locals[name]
        if name == scope.self_name and scope.self_value is not None:
            return scope.self_value
        if name in ("$col", "$each"):
            return ExternalRef(name)
        return self.lookup_global(scope.module, name)

    def lookup_global(self, module: m.Module, name: str, depth: int = 0) -> Value:
        if depth == 0 and module.language == "scala":
            # What a name denotes in a Scala file is the same wherever it is used; following
            # its wildcard imports again at each use cost a tree of look-ups.
            key = (module.path, name)
            known = self._resolved.get(key)
            if known is None:
                known = self._lookup_global(module, name, 0)
                if isinstance(known, (ModuleRef, FunctionRef, ClassRef, ExternalRef)):
                    self._resolved[key] = known
            return known
        return self._lookup_global(module, name, depth)

    def _lookup_global(self, module: m.Module, name: str, depth: int) -> Value:
        if depth > 8:
            return UNKNOWN
        if module.language == "python":
            env = self.module_globals(module)
            if name in env:
                return env[name]
        symbol = self.index.member(module.namespace, name)
        if symbol is not None:
            return self.symbol_value(symbol)
        for imported in module.imports:
            if imported.alias == name:
                return self.resolve_import(module, imported, depth)
        for namespace in module.visible_namespaces:
            symbol = self.index.member(namespace, name)
            if symbol is not None:
                return self.symbol_value(symbol)
        # Project wildcards first: their members are known, while a Spark functions wildcard
        # would claim any name.
        wildcards = [imported for imported in module.imports if imported.name == "*"]
        for imported in sorted(wildcards, key=lambda i: i.module in api.FUNCTIONS_MODULES):  # types before functions
            value = self.resolve_wildcard(module, imported, name, depth)
            if value is not UNKNOWN:
                return value
        return ExternalRef(name)

    def resolve_import(self, module: m.Module, imported: m.Import, depth: int) -> Value:
        base = imported.module
        if imported.level:
            base = self.index.resolve_relative(module, imported.level, imported.module)
        if imported.name is None:
            # `import a.b` binds `a`; `import a.b as c` binds the module `a.b` itself.
            head = base.split(".")[0]
            target = head if imported.alias == head else base
            symbol = self.index.module_symbol(target)
            return self.symbol_value(symbol) if symbol is not None else ExternalRef(target)
        dotted = f"{base}.{imported.name}" if base else imported.name
        symbol = self.index.module_symbol(dotted) or self.index.enclosing_symbol(module, dotted)
        if symbol is not None:
            return self.symbol_value(symbol)
        base_symbol = self.index.module_symbol(base) if base else None
        if base_symbol is not None and base_symbol.kind == "module" and base_symbol.module is not None:
            if base_symbol.module is module:
                return UNKNOWN
            return self.lookup_global(base_symbol.module, imported.name, depth + 1)
        return ExternalRef(dotted)

    def resolve_wildcard(self, module: m.Module, imported: m.Import, name: str, depth: int) -> Value:
        base = imported.module
        if imported.level:
            base = self.index.resolve_relative(module, imported.level, imported.module)
        if base in api.FUNCTIONS_MODULES or (base in coltypes.TYPES_MODULES and coltypes.is_types_member(name)):
            return ExternalRef(f"{base}.{name}")
        symbol = self.index.member(base, name) or self.index.enclosing_symbol(module, f"{base}.{name}")
        if symbol is not None:
            return self.symbol_value(symbol)
        base_symbol = self.index.module_symbol(base)
        if base_symbol is not None and base_symbol.module is not None and base_symbol.module is not module:
            value = self.lookup_global(base_symbol.module, name, depth + 1)
            return UNKNOWN if isinstance(value, ExternalRef) and value.dotted == name else value
        return UNKNOWN

    def field_expression(self, symbol: Symbol) -> m.Expr | None:
        """What a field or module constant is defined as; a class's fields are read from it once."""
        if symbol.expr is not None or symbol.owner is None:
            return symbol.expr
        owner = symbol.owner.qualname
        expressions = self._field_expressions.get(owner)
        if expressions is None:
            expressions = self._field_expressions[owner] = {}
            for name, expr in symbol.owner.fields:
                expressions.setdefault(name, expr)  # the first of a name, as the index keeps it
        return expressions.get(symbol.qualname[len(owner) + 1:])

    def symbol_value(self, symbol: Symbol) -> Value:
        if symbol.kind in ("module", "package"):
            return ModuleRef(symbol.qualname)
        if symbol.kind == "function":
            return FunctionRef(symbol.qualname)
        if symbol.kind == "class":
            return ClassRef(symbol.qualname)
        if symbol.kind == "field":
            if symbol.owner is None and symbol.module is not None:
                if symbol.module.language == "python":
                    return self.module_globals(symbol.module).get(symbol.qualname.rpartition(".")[2], UNKNOWN)
                return self.field_value(symbol)
            if symbol.owner is not None and symbol.owner.kind == "object":
                return self.get_attr(self.object_instance(symbol.owner.qualname), symbol.qualname.rpartition(".")[2], None, None)
            if symbol.module is not None:
                return self.field_value(symbol)
        return UNKNOWN

    def field_value(self, symbol: Symbol) -> Value:
        """A field defined outside any function body (a Scala top-level or class `val` read
        statically), evaluated where it is defined, once: fields that read other fields would
        otherwise be evaluated again at every reference, a tree of evaluations."""
        self.reads.add(_defining_unit(symbol))
        known = self._field_values.get(symbol.qualname)
        if known is not None:
            return known
        if symbol.qualname in self._fields_in_progress or symbol.module is None:
            return UNKNOWN  # a field defined through itself
        self._fields_in_progress.add(symbol.qualname)
        try:
            value = _schema_named(self.eval(self.field_expression(symbol), Scope(symbol.module, "module")), symbol.qualname)
        finally:
            self._fields_in_progress.discard(symbol.qualname)
        self._field_values[symbol.qualname] = value
        return value

    def module_globals(self, module: m.Module) -> dict[str, Value]:
        """The values of a Python module's top-level names (constants, session, ...)."""
        self.reads.add(module_unit(module.path))
        cached = self._globals.get(module.name)
        if cached is not None:
            return cached
        if module.name in self._globals_in_progress:
            return {}
        self._globals_in_progress.add(module.name)
        scope = Scope(module, "module")
        self._quiet += 1
        try:
            self.exec_block(module.body, scope)
        finally:
            self._quiet -= 1
            self._globals_in_progress.discard(module.name)
        self._globals[module.name] = scope.locals
        return scope.locals

    def object_instance(self, qualname: str) -> InstanceV:
        instance = self._objects.get(qualname)
        if instance is None:
            instance = InstanceV(qualname)
            self._objects[qualname] = instance
            self._keys.singleton(instance)
        return instance

    # ------------------------------------------------------------ attributes

    def get_attr(self, base: Value, attr: str, scope: Scope | None, span: m.Span | None) -> Value:
        if type(base) is ConstV and attr in _PARAMETERLESS_TEXT_METHODS:
            return _text_method(base, attr, ())  # Scala `env.toLowerCase`, `name.isEmpty`
        if attr == "stripMargin" and text_of(base) is not None:
            text, origin = sql.strip_margin(*text_of(base))
            return TextV(text, origin) if isinstance(base, TextV) else ConstV(text, origin)
        if isinstance(base, ModuleRef):
            return self.module_member(base.name, attr)
        if isinstance(base, InstanceV):
            return self.instance_attr(base, attr)
        if isinstance(base, ClassRef):
            klass = self.index.class_of(base.qualname)
            if klass is not None and klass.kind == "object":
                return self.instance_attr(self.object_instance(base.qualname), attr)
            companion = self.index.companion_of(base.qualname)
            if companion is not None and self.class_member(companion, attr) is not None:
                return self.instance_attr(self.object_instance(companion), attr)
            symbol = self.class_member(base.qualname, attr)
            if symbol is not None and symbol.kind == "field" and symbol.module is not None:
                return self.field_value(symbol)
            return self.symbol_value(symbol) if symbol is not None else UNKNOWN
        if isinstance(base, ExternalRef):
            if attr in SESSION_GETTERS and "SparkSession" in base.dotted and (scope is None or scope.module.language == "scala"):
                return SessionV()  # Scala `SparkSession.builder.appName(...).getOrCreate`, no parentheses
            return ExternalRef(f"{base.dotted}.{attr}")
        if scope is None:
            return UNKNOWN
        if isinstance(base, DataFrameV):
            return self.dataframe_attr(base, attr, scope, span)
        if isinstance(base, SessionV):
            if attr in ("read", "readStream"):
                return SessionV(reader=attr)
            if attr in ("sparkContext", "sqlContext"):
                return base
            return UNKNOWN
        if isinstance(base, (WriterV, GroupedV, ColumnV, WindowV)):
            return self.call_method(base, attr, (), (), scope, span, span)
        if isinstance(base, SeqV) and attr in ("toDF", "toDS"):
            return self.call_method(base, attr, (), (), scope, span, span)
        if base is UNKNOWN:
            if attr in ("sparkContext", "sparkSession"):
                return SessionV()
            if attr == "write":
                return WriterV(self.assumed_dataframe(scope, span), "write", [], self.loc(scope, span), scope.stack)
            if attr == "read":
                return SessionV(reader="read")
            if attr == "na":  # DataFrameNaFunctions: only a DataFrame has it
                return self.assumed_dataframe(scope, span)
        return UNKNOWN

    def module_member(self, module_name: str, attr: str) -> Value:
        symbol = self.index.symbols.get(module_name)
        if symbol is not None and symbol.kind == "module" and symbol.module is not None:
            submodule = self.index.symbols.get(f"{module_name}.{attr}")
            if submodule is not None and submodule.kind in ("module", "package"):
                return ModuleRef(submodule.qualname)
            value = self.lookup_global(symbol.module, attr)
            return UNKNOWN if isinstance(value, ExternalRef) and value.dotted == attr else value
        member = self.index.member(module_name, attr)
        return self.symbol_value(member) if member is not None else UNKNOWN

    def class_member(self, class_qualname: str, attr: str) -> Symbol | None:
        """A member of a class, of its bases, or of its Scala companion object (`C$`)."""
        key = (class_qualname, attr)
        try:
            return self._members[key]
        except KeyError:
            pass
        found = self._class_member(class_qualname, attr, 0)
        if not self._bases_resolving:  # found while some bases read as none: not kept
            self._members[key] = found
        return found

    def _class_member(self, class_qualname: str, attr: str, depth: int) -> Symbol | None:
        symbol = self.index.symbols.get(f"{class_qualname}.{attr}")
        if symbol is not None or depth > 6:
            return symbol
        companion = self.index.companion_of(class_qualname)
        if companion is not None:
            member = self.index.symbols.get(f"{companion}.{attr}")
            if member is not None:
                return member
        for base in self.base_classes(class_qualname):
            found = self._class_member(base, attr, depth + 1)
            if found is not None:
                return found
        return None

    def base_classes(self, class_qualname: str) -> tuple[str, ...]:
        """The project classes a class extends, resolved once."""
        cached = self._bases_cache.get(class_qualname)
        if cached is not None:
            return cached
        self._bases_cache[class_qualname] = ()  # a cycle in the bases resolves to nothing
        klass = self.index.class_of(class_qualname)
        owner = self.index.symbols.get(class_qualname)
        bases: tuple[str, ...] = ()
        if klass is not None and owner is not None and owner.module is not None:
            self._bases_resolving += 1
            try:
                resolved = [self.resolve_dotted(owner.module, name) for name in klass.bases]
            finally:
                self._bases_resolving -= 1
            bases = tuple(base.qualname for base in resolved if isinstance(base, ClassRef))
        self._bases_cache[class_qualname] = bases
        return bases

    def resolve_dotted(self, module: m.Module, dotted: str) -> Value:
        head, *rest = dotted.split(".")
        value = self.lookup_global(module, head)
        for part in rest:
            value = self.get_attr(value, part, None, None)
        return value

    def instance_attr(self, instance: InstanceV, attr: str) -> Value:
        if attr in instance.fields:
            return instance.fields[attr]
        symbol = self.class_member(instance.class_qualname, attr)
        if symbol is None:
            return UNKNOWN
        if symbol.kind == "function":
            return BoundMethodV(instance, symbol.qualname)
        if symbol.kind == "field" and symbol.module is not None:
            self.reads.add(_defining_unit(symbol))
            key = (instance.class_qualname, attr)
            if key in self._object_fields_in_progress:
                return UNKNOWN
            self._object_fields_in_progress.add(key)
            try:
                scope = Scope(symbol.module, "module", self_name="this", self_value=instance)
                owner = symbol.owner
                if owner is not None and owner.kind != "object":
                    # not built here (a method analysed on its own): constructor arguments are
                    # unknown, but for their defaults, as a function analysed on its own takes its own
                    scope.locals = {param.name: UNKNOWN if param.default is None else self.eval(param.default, scope)
                                    for param in owner.init_params}
                value = _schema_named(self.eval(self.field_expression(symbol), scope), symbol.qualname)
            finally:
                self._object_fields_in_progress.discard(key)
            owner = self.index.class_of(instance.class_qualname)
            if owner is not None and owner.kind == "object":
                instance.fields[attr] = value
                self._keys.fields_changed(instance)
            return value
        return self.symbol_value(symbol)

    def dataframe_attr(self, df: DataFrameV, attr: str, scope: Scope, span: m.Span | None) -> Value:
        if attr == "write":
            return WriterV(df, "write", [], self.loc(scope, span), scope.stack)
        if attr == "writeStream":
            return WriterV(df, "writeStream", [], self.loc(scope, span), scope.stack)
        if attr == "rdd":
            return DataFrameV(df.head, is_rdd=True)
        if attr in ("na", "stat"):
            return df
        if attr in ("sparkSession", "sql_ctx", "sqlContext"):
            return SessionV()
        if attr in ("columns", "schema", "dtypes", "storageLevel", "isStreaming"):
            return UNKNOWN
        if attr in api.ACTIONS and scope.module.language == "scala":
            return self.dataframe_method(df, attr, (), (), scope, span, span)  # `df.count`, `df.collect`
        if _is_dataframe_method(attr):
            return self.dataframe_method(df, attr, (), (), scope, span, span)
        return ColumnV("ref", attr, location=self.loc(scope, span), origin=df)

    # ------------------------------------------------------------ calls

    def eval_call(self, call: m.Call, scope: Scope) -> Value:
        args = tuple(self.eval(arg, scope) for arg in call.args)
        kwargs = tuple((key, self.eval(value, scope)) for key, value in call.kwargs)
        func = call.func
        if isinstance(func, m.Attr):
            receiver = self.eval(func.value, scope)
            if isinstance(receiver, SeqV) and func.attr in MUTATORS:
                self.mutate(func.value, mutated(receiver, func.attr, args), scope)
            if func.attr == m.SETITEM:
                return UNKNOWN
            return self.call_method(receiver, func.attr, args, kwargs, scope, call.name_span, call.span, call)
        callee = self.eval(func, scope)
        return self.call_value(callee, args, kwargs, scope, call)

    def mutate(self, place: m.Expr, value: Value, scope: Scope) -> None:
        """A collection changed in place gets its new contents where the code keeps it: a local
        or a field of `self`/`this` (elsewhere it stays as it was)."""
        if isinstance(place, m.Name) and place.id in scope.locals:
            self.assign(place.id, value, scope)
        elif isinstance(place, m.Attr) and isinstance(place.value, m.Name) and place.value.id == scope.self_name:
            self.assign(f"{scope.self_name}.{place.attr}", value, scope)

    def call_value(self, callee: Value, args, kwargs, scope: Scope, call: m.Call | None) -> Value:
        if isinstance(callee, FunctionRef):
            symbol = self.index.function_of(callee.qualname)
            return self.call_function(symbol, args, kwargs, None, scope, call) if symbol else UNKNOWN
        if isinstance(callee, BoundMethodV):
            symbol = self.index.function_of(callee.qualname)
            return self.call_function(symbol, args, kwargs, callee.self_value, scope, call) if symbol else UNKNOWN
        if isinstance(callee, ClassRef):
            return self.instantiate(callee.qualname, args, kwargs, scope, call)
        if isinstance(callee, ExternalRef):
            return self.external_call(callee.dotted, args, kwargs, scope, call)
        if isinstance(callee, LambdaV):
            return self.call_lambda(callee, args)
        if isinstance(callee, DataFrameV) and args and str_of(args[0]) is not None:
            return ColumnV("ref", str_of(args[0]), location=self.loc(scope, call.span if call else None), origin=callee)
        return UNKNOWN

    def call_lambda(self, function: LambdaV, args) -> Value:
        outer: Scope = function.scope  # type: ignore[assignment]
        scope = Scope(outer.module, outer.label, dict(outer.locals), outer.self_name, outer.self_value, outer.stack)
        for name, value in zip(function.params, args):
            scope.locals[name] = value
        return self.eval(function.body, scope)  # type: ignore[arg-type]

    def call_method(self, receiver: Value, name: str, args, kwargs, scope: Scope,
                    name_span: m.Span | None, span: m.Span | None, call: m.Call | None = None) -> Value:
        if type(receiver) is ConstV and name in _TEXT_METHODS and not kwargs:
            return _text_method(receiver, name, args)
        if type(receiver) is SeqV and name == "contains" and len(args) == 1 and not kwargs:
            return _membership(args[0], receiver, "in")
        if isinstance(receiver, SchemaV):
            return coltypes.with_field(receiver, args) if name == "add" else UNKNOWN
        if isinstance(receiver, DataFrameV) and name == "as" and call is not None and call.type_args:
            schema = self.case_class_schema(call.type_args[0], scope)
            op = Op("as", tuple(args), (("schema", schema),) if schema else (), self.loc(scope, name_span), scope.stack, receiver.head)
            return DataFrameV(op, receiver.is_rdd)
        if isinstance(receiver, DataFrameV):
            if not _is_dataframe_method(name) and self.index.extension_methods.get(name):
                return self.call_extension(receiver, name, args, kwargs, scope, call)
            return self.dataframe_method(receiver, name, args, kwargs, scope, name_span, span)
        if isinstance(receiver, WriterV):
            return self.writer_method(receiver, name, args, kwargs, scope, name_span)
        if isinstance(receiver, GroupedV):
            if name == "pivot":
                return receiver
            op = Op("aggregate", receiver.keys, (), self.loc(scope, name_span), scope.stack, receiver.df.head)
            return DataFrameV(op, receiver.df.is_rdd)
        if isinstance(receiver, ColumnV):
            return ColumnV("method", name, (receiver, *args), self.loc(scope, name_span), scope.stack)
        if isinstance(receiver, WindowV):
            keys = receiver.keys + _flatten(args) if name == "partitionBy" else receiver.keys
            return WindowV(keys, receiver.location, receiver.stack)
        if isinstance(receiver, SessionV):
            return self.session_method(receiver, name, args, kwargs, scope, name_span)
        if name == "foldLeft" and len(args) == 2 and (isinstance(args[0], DataFrameV) or (
                args[0] is UNKNOWN and isinstance(args[1], LambdaV))) and (receiver is UNKNOWN or isinstance(receiver, SeqV)):
            return self.fold("foldLeft", receiver, args[0], args[1], scope, name_span)
        if isinstance(receiver, SeqV):
            if name in ("toDF", "toDS"):
                return self.source(scope, name_span, "literal", (receiver, *args),
                                   (*self.rows_schema(receiver), *_local_relation(scope)))
            if name in ITEM_FUNCTIONS and len(args) == 1 and isinstance(args[0], LambdaV):
                return self.each_item(receiver, args[0], name)
            if name in ("get", "head") and not args and receiver.kind == "seq" and receiver.items:
                return receiver.items[0]
            if name in ("items", "values", "keys") and not args and receiver.kind == "dict":
                pairs = [item for item in receiver.items if isinstance(item, SeqV) and len(item.items) == 2]
                if len(pairs) != len(receiver.items):
                    return UNKNOWN
                if name == "items":
                    return SeqV(tuple(pairs), "list", receiver.location)
                return SeqV(tuple(pair.items[name == "values"] for pair in pairs), "list", receiver.location)
            return UNKNOWN
        if isinstance(receiver, ExternalRef):
            return self.external_method(receiver.dotted, name, args, kwargs, scope, name_span, call)
        if receiver is UNKNOWN:
            return self.unknown_method(name, args, kwargs, scope, name_span, span, call)
        return self.call_value(self.get_attr(receiver, name, scope, name_span), args, kwargs, scope, call)

    def unknown_method(self, name, args, kwargs, scope, name_span, span, call) -> Value:
        if self._written_for_a_lookalike(scope.module):
            return UNKNOWN
        if name in api.DATAFRAME_ONLY and not (name == "coalesce" and not _looks_like_partition_count(args)) \
                and not (name == "groupBy" and _is_function_argument(args)):
            return self.dataframe_method(self.assumed_dataframe(scope, name_span), name, args, kwargs, scope, name_span, span)
        if name == "join" and args and isinstance(args[0], DataFrameV):
            return self.dataframe_method(self.assumed_dataframe(scope, name_span), name, args, kwargs, scope, name_span, span)
        if name in api.RDD_SINKS:
            rdd = DataFrameV(self.assumed_dataframe(scope, name_span).head, is_rdd=True)
            return self.dataframe_method(rdd, name, args, kwargs, scope, name_span, span)
        if name in ("createDataFrame", "sql") or (name == "parallelize" and args and isinstance(args[0], SeqV)) or (
            name in ("range", "table") and args and (int_of(args[0]) is not None or str_of(args[0]) is not None)
        ):
            return self.session_method(SessionV(), name, args, kwargs, scope, name_span)
        if name == "merge" and args and isinstance(args[0], DataFrameV):
            return WriterV(args[0], "merge", [], self.loc(scope, name_span), scope.stack)
        if name == "count" and not args and not kwargs and scope.module.language == "scala" and not (
            call is not None and isinstance(call.func, m.Attr) and _limited(call.func.value)
        ):
            # `x.count()`: no Scala collection has a `count()` without a predicate, a Dataset or
            # an RDD does (a bare `x.count` is often a field of the project's own classes)
            return self.dataframe_method(self.assumed_dataframe(scope, name_span), name, args, kwargs, scope, name_span, span)
        if name == "getOrCreate":
            return SessionV()
        if self.index.extension_methods.get(name):
            return self.call_extension(UNKNOWN, name, args, kwargs, scope, call)
        if name == "foreach" and len(args) == 1 and isinstance(args[0], LambdaV):
            # `stats.foreach(_.coalesce(1).write...)` on a collection or Option of unknown
            # items: the function runs on some item, as a `foreach` loop's body does
            self.each_item(UNKNOWN, args[0], name)
        return UNKNOWN

    def _written_for_a_lookalike(self, module: m.Module) -> bool:
        """A module that imports a library named in `api.LOOKALIKE_ENGINES` and not pyspark."""
        known = self._lookalike_modules.get(module.path)
        if known is None:
            imported = [item.module for item in module.imports]
            known = (any(name == engine or name.startswith(engine + ".") for name in imported for engine in api.LOOKALIKE_ENGINES)
                     and not any(name == "pyspark" or name.startswith("pyspark.") for name in imported))
            self._lookalike_modules[module.path] = known
        return known

    def each_item(self, items: Value, function: LambdaV, name: str) -> Value:
        """`xs.foreach(f)`, `xs.map(f)`, a comprehension: `f` called with each item of a small
        literal collection (or once with an unknown item); `map` gives the collection of
        results."""
        size = collection_size(items)
        elements = _elements(items, size)
        values = self._loop_items(elements)
        if values is elements and items.kind == "dict" and name == "$each":  # iterating a dict gives its keys
            values = tuple(item.items[0] if isinstance(item, SeqV) and item.items else UNKNOWN for item in values)
        many = values == (UNKNOWN,) and (size is None or size > 1)
        if many:
            outer = self._carried_dataframes(function.scope)  # type: ignore[arg-type]
            self._uses.enter_loop(self._item_loop_location(function), list(outer.values()))
        self._loop_nesting += 1
        self._uses.open_loop()
        try:
            results = tuple(self.call_lambda(function, self._unpacked(function, item)) for item in values)
        finally:
            self._loop_nesting -= 1
            self._uses.close_loop()
            if many:
                self._uses.exit_loop()
        if name == "foreach" or elements is None or len(values) != len(elements):
            return UNKNOWN
        kind = "list" if name == "$each" or items.kind == "range" else items.kind
        return SeqV(results, kind, items.location)

    def _loop_items(self, elements: tuple[Value, ...] | None) -> tuple[Value, ...]:
        """What a loop body or a comprehension runs with: a few known elements one by one (none
        for an empty collection), else one unknown item."""
        if elements is not None and len(elements) <= MAX_LOOP_UNROLL and (
            not elements or self._loop_nesting < MAX_UNROLLED_LOOP_NESTING
        ):
            return elements
        return (UNKNOWN,)

    def _item_loop_location(self, function: LambdaV) -> Location:
        """Where a comprehension or `foreach` function is written (the body run per element)."""
        scope: Scope = function.scope  # type: ignore[assignment]
        return self.loc(scope, getattr(function.body, "span", None))

    @staticmethod
    def _unpacked(function: LambdaV, item: Value) -> tuple[Value, ...]:
        """A comprehension's `for k, v in pairs` unpacks each item into the targets."""
        if len(function.params) > 1:
            if isinstance(item, SeqV) and len(item.items) == len(function.params):
                return item.items
            return tuple(UNKNOWN for _ in function.params)
        return (item,)

    def call_extension(self, receiver: Value, name: str, args, kwargs, scope: Scope, call) -> Value:
        candidates = self.index.extension_methods.get(name, [])
        if len(candidates) != 1:
            return UNKNOWN
        symbol = self.index.function_of(candidates[0])
        if symbol is None or symbol.function is None:
            return UNKNOWN
        if symbol.function.extension_receiver:
            return self.call_function(symbol, args, kwargs, None, scope, call, extra_locals={symbol.function.extension_receiver: receiver})
        owner = symbol.owner
        if owner is not None:
            self.reads.add(class_unit(owner.qualname))
        field_name = owner.init_params[0].name if owner and owner.init_params else "self"
        instance = InstanceV(owner.qualname if owner else "", {field_name: receiver})
        return self.call_function(symbol, args, kwargs, instance, scope, call)

    def instantiate(self, qualname: str, args, kwargs, scope: Scope, call) -> Value:
        klass = self.index.class_of(qualname)
        symbol = self.index.symbols.get(qualname)
        if klass is None or symbol is None or symbol.module is None:
            return UNKNOWN
        self.reads.add(class_unit(qualname))
        if klass.kind == "object":
            apply = self.class_member(qualname, "apply")
            if apply is not None and apply.kind == "function":
                return self.call_function(apply, args, kwargs, self.object_instance(qualname), scope, call)
            return UNKNOWN
        key = ("<new>", qualname, *self._arguments_key(args, kwargs))
        built = self._constructed.get(key)
        if built is not None:  # the same constructor arguments build the same fields
            return InstanceV(qualname, dict(built))
        if key in self._in_progress or not self._admit(
            "<new>" + qualname, klass.name, symbol.module.path, f"{klass.name}(...)", "built from"
        ):
            return InstanceV(qualname)  # built while building itself, or too often: fields unknown
        instance = InstanceV(qualname)
        self_name = "this" if symbol.module.language == "scala" else "self"
        init_scope = Scope(symbol.module, f"{klass.name}()", self_name=self_name, self_value=instance, stack=scope.stack)
        self._in_progress.add(key)
        try:
            self.bind_params(klass.init_params, args, kwargs, init_scope, symbol.module, instance)
            for field_name, expr in klass.fields:
                instance.fields[field_name] = self.eval(expr, init_scope)
                self._keys.fields_changed(instance)
        finally:
            self._in_progress.discard(key)
        self._constructed[key] = dict(instance.fields)
        return instance

    def bind_params(self, params, args, kwargs, scope: Scope, module: m.Module, self_value: Value | None) -> None:
        keyword = dict(kwargs)
        positional = list(args)
        for param in params:
            if param.kind == "varargs":
                scope.locals[param.name] = SeqV(tuple(positional), "tuple")
                positional = []
                continue
            if param.kind == "varkw":
                scope.locals[param.name] = UNKNOWN
                continue
            if param.kind == "positional" and positional:
                scope.locals[param.name] = positional.pop(0)
            elif param.name in keyword:
                scope.locals[param.name] = keyword[param.name]
            elif param.default is not None:
                default_scope = Scope(module, "module", self_name=scope.self_name, self_value=self_value)
                scope.locals[param.name] = self.eval(param.default, default_scope)
            else:
                scope.locals[param.name] = UNKNOWN

    def call_function(self, symbol: Symbol, args, kwargs, self_value: Value | None,
                      caller: Scope | None, call: m.Call | None, extra_locals: dict | None = None) -> Value:
        function = symbol.function
        module = symbol.module
        if function is None or module is None:
            return UNKNOWN
        self.reads.add(function_unit(function.qualname))
        if self_value is None and function.self_name and symbol.owner is not None and symbol.owner.kind == "object":
            self_value = self.object_instance(symbol.owner.qualname)
        if caller is not None and call is not None and len(caller.stack) >= MAX_DEPTH:
            return UNKNOWN
        keys = self._keys
        key = (function.qualname, keys.of(self_value), *self._arguments_key(args, kwargs),
               tuple((k, keys.of(v)) for k, v in (extra_locals or {}).items()))
        fields = self_value.fields if isinstance(self_value, InstanceV) else None
        known = self._memo.get(key)
        if known is not None:
            if known.field_changes and fields is not None:
                keys.fields_changed(self_value)
            inputs = _input_frames(args, kwargs, fields, extra_locals)
            same = known.same_call(inputs)
            if caller is not None and call is not None and self._uses.has_uses(key):
                for event in self._uses.replay(key, inputs, self.loc(caller, call.span), caller.stack, remake=not same):
                    self.emit_event(event)
            return known.replay(self_value, inputs, remake=not same)
        if key in self._in_progress or not self._admit(
            function.qualname, function.name, module.path, code_label(symbol), "called in"
        ):
            return UNKNOWN
        stack: Stack = ()
        if caller is not None and call is not None:
            stack = (*caller.stack, Frame(caller.label, _callee_text(call.func), self.loc(caller, call.span)))
        self._in_progress.add(key)
        fields_before = dict(fields) if fields is not None else None
        uses_mark = self._uses.mark()
        try:
            scope = Scope(module, code_label(symbol), self_name=function.self_name, self_value=self_value, stack=stack)
            if extra_locals:
                scope.locals.update(extra_locals)
            self.bind_params(function.params, args, kwargs, scope, module, self_value)
            self.exec_block(function.body, scope)
            if scope.returned_uses:
                self._uses.join_returns(uses_mark, scope.returned_uses)
            result = merge_values(scope.returns, stack) if scope.returns else UNKNOWN
        finally:
            self._in_progress.discard(key)
        frames = _input_frames(args, kwargs, fields_before, extra_locals)
        outcome = CallResult(result, _field_changes(fields_before, self_value), tuple(df.head for df in frames),
                             stack[-1] if stack else None, len(stack), _all_known(args, kwargs, extra_locals))
        self._uses.end_call(key, uses_mark, frames, outcome.made_in_call)
        self._memo[key] = outcome
        return result

    def _arguments_key(self, args, kwargs) -> tuple[tuple, tuple]:
        keys = self._keys
        return tuple(keys.of(a) for a in args), tuple((k, keys.of(v)) for k, v in kwargs)

    def _admit(self, counted: str, name: str, path: str, what: str, relation: str) -> bool:
        """Whether one more context of a function or constructor (`counted`, named `name` where
        it is called) may be analysed, and if so count it. When a brake is reached the value is
        unknown (fewer findings, never a wrong one) and the run summary names the code."""
        calls = self.index.call_sites.get(name, 0)
        allowed = CONTEXTS_PER_FUNCTION + CONTEXTS_PER_CALL_SITE * calls
        used = self._contexts.get(counted, 0)
        if used >= CONTEXTS_PER_FUNCTION:
            self.budgeted.add((name, calls))
        if used >= allowed:
            noun = "contexts" if relation == "called in" else "arguments"
            self.note_degraded(path, what, f"{relation} more than {allowed} distinct {noun}")
            return False
        if self._root_evaluations >= MAX_ROOT_EVALUATIONS:
            self.note_degraded(path, what, f"reached through more than {MAX_ROOT_EVALUATIONS} calls from one root")
            return False
        self.evaluations += 1
        self._root_evaluations += 1
        self._contexts[counted] = self._contexts.get(counted, 0) + 1
        return True

    def note_degraded(self, path: str, what: str, why: str) -> None:
        self.degraded.setdefault((path, what), why)

    # ------------------------------------------------------------ Spark API

    def loc(self, scope: Scope, span: m.Span | None) -> Location:
        if span is None or span.line == 0:
            return Location(scope.module.path, 1, 1)
        return Location(scope.module.path, span.line, span.col, span.end_line, span.end_col)

    def source(self, scope: Scope, span, detail: str, args=(), kwargs=()) -> DataFrameV:
        return DataFrameV(Op("source", tuple(args), tuple(kwargs), self.loc(scope, span), scope.stack, None, detail=detail))

    def assumed_dataframe(self, scope: Scope, span) -> DataFrameV:
        return self.source(scope, span, "unknown")

    def emit_event(self, event: Event) -> None:
        if self._quiet:
            return
        self.emit(event)
        if isinstance(event, WriteEvent) or (isinstance(event, ActionEvent) and event.method in COMPUTING_ACTIONS):
            recomputed = self._uses.use(event.df, event.method, isinstance(event, WriteEvent), event.location, event.stack)
            if recomputed is not None:
                self.emit(recomputed)

    def dataframe_method(self, df: DataFrameV, name: str, args, kwargs, scope: Scope, name_span, span) -> Value:
        location = self.loc(scope, name_span)
        if name == "fill":
            name = "fillna"  # `df.na.fill(...)`: `na` is the DataFrame itself here
        if name == "writeTo":
            return WriterV(df, "writeTo", [("target", args)], location, scope.stack)
        if name in api.RDD_SINKS:
            writer = WriterV(df, "rdd", [], location, scope.stack)
            self.emit_event(WriteEvent(writer, name, tuple(args), location, scope.stack))
            return UNKNOWN
        if name in ("groupBy", "groupby", "rollup", "cube", "groupByKey"):
            keys = _flatten(args)
            self.emit_event(GroupingEvent("groupBy", df, keys, location, scope.stack))
            return GroupedV(df, keys, location)
        if name in ("col", "apply") and len(args) == 1 and str_of(args[0]) is not None and not kwargs:
            return ColumnV("ref", str_of(args[0]), location=location, origin=df)  # `a.col("x")`, `a.apply("x")`
        if name == "transform" and args:
            result = self.call_value(args[0], (df, *args[1:]), kwargs, scope, None)
            return result if isinstance(result, DataFrameV) else UNKNOWN
        if name in api.ACTIONS:
            self.emit_event(ActionEvent(df, name, tuple(args), location, scope.stack))
            if name == "count" and not args and not kwargs:
                # the number of rows, kept as a value so a test of it (`== 0`) can be recognised
                return ColumnV("action", "count", (df,), location, scope.stack)
            return UNKNOWN
        other = None
        if name in ("join", "crossJoin", "union", "unionAll", "unionByName", "joinWith"):
            right = args[0] if args else dict(kwargs).get("other", UNKNOWN)
            if right is UNKNOWN and name in ("join", "joinWith") and (len(args) > 1 or "on" in dict(kwargs)):
                right = self.assumed_dataframe(scope, name_span)  # a parameter: a DataFrame of unknown origin
            other = right if isinstance(right, DataFrameV) else None
            # an RDD's join(other) matches the keys of two pair RDDs: no product
            if other is not None and not df.is_rdd and (name == "crossJoin" or (
                    name == "join" and len(args) == 1 and not {"on", "joinExprs", "usingColumn", "usingColumns"} & set(dict(kwargs)))):
                self.emit_event(CartesianEvent(df, other, name, location, scope.stack))
            if name in ("join", "joinWith") and other is not None:
                on = args[1] if len(args) > 1 else dict(kwargs).get("on", UNKNOWN)
                how = args[2] if len(args) > 2 else dict(kwargs).get("how", UNKNOWN)
                if len(args) <= 2 and "how" not in dict(kwargs) and "joinType" not in dict(kwargs):
                    how = ConstV("inner")
                self.emit_event(JoinEvent(df, other, on, how, location, scope.stack))
        elif name in ("repartition", "repartitionByRange") and any(_is_column_like(a) for a in args):
            self.emit_event(GroupingEvent("repartition", df, tuple(a for a in _flatten(args) if _is_column_like(a)), location, scope.stack))
        elif name in ("dropDuplicates", "drop_duplicates") and args:
            self.emit_event(GroupingEvent("dropDuplicates", df, _flatten(args), location, scope.stack))
        elif name in TEMP_VIEW_METHODS and args and str_of(args[0]):
            view = str_of(args[0]).lower()
            self._views[view] = df
            if "Global" in name:
                self._views[f"global_temp.{view}"] = df
            return UNKNOWN
        elif name in ("withColumn", "select", "withColumns"):
            for window in _windows_in(args):
                self.emit_event(GroupingEvent("window", df, window.keys, window.location or location, window.stack or scope.stack))
        if not _is_dataframe_method(name):
            return UNKNOWN
        detail = ROWS_PER_PARTITION if name in PARTITION_MAPS and args and self._returns_literal_rows(args[0]) else ""
        op = Op(name, tuple(args), tuple(kwargs), location, scope.stack, df.head, other, detail=detail)
        return DataFrameV(op, df.is_rdd)

    def _returns_literal_rows(self, function: Value) -> bool:
        """Whether a function given to `mapPartitions` returns a list or tuple written in the
        code on every path (`return [(low, high, count)]`): then each partition gives a fixed
        number of rows, a per-partition aggregate."""
        if isinstance(function, LambdaV):
            return _literal_rows(function.body)
        symbol = self.index.function_of(function.qualname) if isinstance(function, FunctionRef) else None
        if symbol is None or symbol.function is None:
            return False
        returns: list[m.Return] = []
        return _collect_returns(symbol.function.body, returns) and bool(returns) and all(
            _literal_rows(statement.value) for statement in returns)

    def writer_method(self, writer: WriterV, name: str, args, kwargs, scope: Scope, name_span) -> Value:
        location = self.loc(scope, name_span)
        sinks = {
            "write": api.WRITER_SINKS, "writeTo": api.WRITE_TO_SINKS, "merge": frozenset({"execute"}),
            "writeStream": frozenset(),
        }[writer.api]
        if name in sinks:
            self.emit_event(WriteEvent(writer, name, tuple(args), location, scope.stack))
            return UNKNOWN
        if name in api.WRITER_CONFIG or name in api.MERGE_BUILDER or name.startswith("option"):
            return writer.with_option(name, tuple(args) + tuple(v for _, v in kwargs))
        if writer.api == "writeStream":
            return writer.with_option(name, tuple(args))
        return UNKNOWN

    def session_method(self, session: SessionV, name: str, args, kwargs, scope: Scope, name_span) -> Value:
        if session.reader is not None:
            if name in ("format", "option", "options", "schema"):
                keyword = tuple(("option", (ConstV(key), value)) for key, value in kwargs)
                return SessionV(session.reader, (*session.options, (name, tuple(args)), *keyword))
            if name in api.READER_FORMATS:
                source = self._read_source(session, name, args, scope, name_span)
                if session.reader == "read":
                    self.emit_event(_read_event(source, session, name, args, kwargs, scope.module.language))
                return source
            return UNKNOWN
        if name in ("table",):
            return self.source(scope, name_span, "table", args)
        if name == "sql":
            return self.run_sql(args, scope, name_span)
        if name == "createDataFrame":
            rows = args[0] if args else dict(kwargs).get("data", UNKNOWN)
            through_rdd = isinstance(rows, DataFrameV)
            if isinstance(rows, DataFrameV) and rows.head.name == "source" and rows.head.detail == "literal":
                rows = rows.head.arg(0)  # createDataFrame(sc.parallelize([...]), schema)
                args = (rows, *args[1:])
            detail = "literal" if isinstance(rows, SeqV) else "unknown"
            if len(args) < 2 and "schema" not in dict(kwargs) and isinstance(rows, SeqV):
                kwargs = (*kwargs, *self.rows_schema(rows))
            if isinstance(args[0] if args else None, SeqV) and not through_rdd:
                kwargs = (*kwargs, *_local_relation(scope))
            return self.source(scope, name_span, detail, args, kwargs)
        if name == "range":
            return self.source(scope, name_span, "range", args, kwargs)
        if name == "parallelize":
            rows = args[0] if args else UNKNOWN
            df = self.source(scope, name_span, "literal" if isinstance(rows, SeqV) else "unknown", args)
            return DataFrameV(df.head, is_rdd=True)
        if name in ("textFile", "wholeTextFiles"):
            return DataFrameV(self.source(scope, name_span, "path", args).head, is_rdd=True)
        if name in ("newSession", "getOrCreate"):
            return session
        return UNKNOWN

    def _read_source(self, session: SessionV, name: str, args, scope: Scope, name_span) -> DataFrameV:
        fmt = name
        for option, option_args in session.options:
            if option == "format" and option_args and str_of(option_args[0]):
                fmt = str_of(option_args[0])
        detail = "table" if name == "table" else "path"
        stated = [(option, option_args[0]) for option, option_args in session.options if option == "schema" and option_args]
        return self.source(scope, name_span, detail, args, (("format", ConstV(fmt)), *stated[-1:]))

    def external_method(self, dotted: str, name: str, args, kwargs, scope: Scope, name_span, call) -> Value:
        if dotted in api.WINDOW_CLASSES or dotted.endswith(".Window") or dotted == "Window":
            if name in ("partitionBy", "orderBy", "rowsBetween", "rangeBetween"):
                keys = _flatten(args) if name == "partitionBy" else ()
                return WindowV(keys, self.loc(scope, name_span), scope.stack)
        full = f"{dotted}.{name}"
        if name == "range" and "." not in dotted and not any(i.alias == dotted for i in scope.module.imports):
            # `spark.range(10)` with `spark` inherited from a base the project does not define:
            # an unknown receiver, and the same rows as `spark.range(10)` on a session
            return self.unknown_method(name, args, kwargs, scope, name_span, None, call)
        if name == "merge" and args and isinstance(args[0], DataFrameV):
            return WriterV(args[0], "merge", [], self.loc(scope, name_span), scope.stack)
        return self.external_call(full, args, kwargs, scope, call, name_span)

    def external_call(self, dotted: str, args, kwargs, scope: Scope, call, name_span=None) -> Value:
        prefix, _, name = dotted.rpartition(".")
        span = name_span or (call.name_span if call is not None else None)
        location = self.loc(scope, span)
        if dotted == "$col":
            return ColumnV("ref", str_of(args[0]) or "?", location=location) if args else UNKNOWN
        if dotted == "$format" and call is not None:
            return self.formatted(args, call, scope)
        if dotted == "$each":  # a comprehension, lowered to `$each(iterable, lambda target: element)`
            if len(args) >= 2 and isinstance(args[1], LambdaV):
                result = self.each_item(args[0], args[1], "$each")
                kind = str_of(args[2]) if len(args) > 2 else None
                return SeqV(result.items, kind, result.location) if isinstance(result, SeqV) and kind else result
            return UNKNOWN
        if dotted in ("functools.reduce", "reduce") and len(args) == 3 and (isinstance(args[2], DataFrameV) or (
                args[2] is UNKNOWN and isinstance(args[0], (LambdaV, FunctionRef)))):
            return self.fold("reduce", args[1], args[2], args[0], scope, span)
        if prefix in api.FUNCTIONS_MODULES:
            return self.spark_function(name, args, scope, location)
        if prefix in coltypes.TYPES_MODULES:
            return self.data_type(dotted, name, args, kwargs, location)
        if "SparkSession" in dotted and name in ("getOrCreate", "getActiveSession", "active", "create"):
            return SessionV()
        if "SparkSession.builder" in dotted:
            return ExternalRef(dotted)  # builder methods chain on to getOrCreate()
        if name in ("range", "Range") and prefix in ("", "scala") and 1 <= len(args) <= 3:
            bounds = [int_of(a) for a in args]
            if all(b is not None for b in bounds):
                start, stop = (0, bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
                return SeqV((ConstV(start), ConstV(stop)), "range", location)
        if name in ("max", "min") and prefix == "" and args and all(int_of(a) is not None for a in args):
            return ConstV(max(int_of(a) for a in args) if name == "max" else min(int_of(a) for a in args))
        if name == "int" and prefix == "" and len(args) == 1 and int_of(args[0]) is not None:
            return args[0]
        return UNKNOWN

    def formatted(self, args, call: m.Call, scope: Scope) -> Value:
        """An f-string or Scala interpolation: a constant when every part is known, else a text
        with placeholders for the unknown parts (for SQL lowering)."""
        parts: list[tuple[str, tuple]] = []
        holes = 0
        for value, expr in zip(args, call.args):
            holes += isinstance(value, TextV)  # a part with unknown parts of its own
            known = text_of(value)
            if known is None and isinstance(value, ConstV) and value.value is not None and not isinstance(value.value, bool):
                known = (str(value.value), ())
            if known is None:
                holes += 1
                known = (f"{sql.HOLE_PREFIX}{holes}__", ())
            if not known[1]:
                span = getattr(expr, "span", None) or call.span
                known = (known[0], ((0, scope.module.path, span.line, span.col, False),))
            parts.append(known)
        text, origin = concatenated(parts)
        return TextV(text, origin) if holes else ConstV(text, origin)

    def run_sql(self, args, scope: Scope, name_span) -> Value:
        """`spark.sql(query)`: the query lowered into operations and events; an opaque source when
        its text is unknown or not SQL that sqlglot reads."""
        known = text_of(args[0]) if args else None
        if known is None:
            return self.source(scope, name_span, "sql", args)
        location = self.loc(scope, name_span)
        text = sql.SqlText.of(known[0], known[1], location)
        result = sql.SqlLowering(text, scope.stack, self._views, self.emit_event, location).run()
        if result is None:
            return self.source(scope, name_span, "sql", args)
        return result

    def data_type(self, dotted: str, name: str, args, kwargs, location: Location) -> Value:
        """`StructType(...)`, `StructField(...)`, `StringType()`: schemas and data types."""
        if name == "StructType":
            schema = coltypes.struct_type(tuple(args))
            return SchemaV(schema.fields, location=location)
        if name == "StructField":
            return coltypes.struct_field(tuple(args), tuple(kwargs)) or UNKNOWN
        return ExternalRef(dotted)  # a data type: StringType(), DecimalType(10, 2)

    def case_class_schema(self, type_name: str, scope: Scope) -> SchemaV | None:
        """The columns of a Dataset of a project case class, typed by its parameters."""
        reference = self.lookup(type_name.split("[", 1)[0], scope)
        klass = self.index.class_of(reference.qualname) if isinstance(reference, ClassRef) else None
        if klass is None or not klass.init_params:
            return None
        self.reads.add(class_unit(klass.qualname))
        fields = tuple((param.name, coltypes.jvm_type_name(param.annotation)) for param in klass.init_params)
        return SchemaV(fields, f"case class `{klass.name}`")

    def rows_schema(self, rows: SeqV) -> tuple[tuple[str, Value], ...]:
        """`Seq(Click(...), ...).toDS`: the rows' case class states the columns' types."""
        classes = {item.class_qualname for item in rows.items if isinstance(item, InstanceV)}
        if len(classes) != 1 or len(rows.items) != sum(isinstance(item, InstanceV) for item in rows.items):
            return ()
        klass = self.index.class_of(classes.pop())
        if klass is None or not klass.init_params or not any(param.annotation for param in klass.init_params):
            return ()
        self.reads.add(class_unit(klass.qualname))
        fields = tuple((param.name, coltypes.jvm_type_name(param.annotation)) for param in klass.init_params)
        return (("schema", SchemaV(fields, f"case class `{klass.name}`")),)

    def spark_function(self, name: str, args, scope: Scope, location: Location) -> Value:
        if name in ("col", "column") and args:
            return ColumnV("ref", str_of(args[0]) or "?", location=location)
        if name in ("lit", "typedLit") and args:
            return ColumnV("lit", "lit", (args[0],), location, scope.stack)
        if name == "broadcast" and args and isinstance(args[0], DataFrameV):
            df = args[0]
            return DataFrameV(Op("broadcast", (), (), location, scope.stack, df.head), df.is_rdd)
        if name in COLUMN_NAME_FUNCTIONS and scope.module.language == "python":
            # PySpark takes column names here: `F.coalesce("a", "b")` reads columns a and b
            args = tuple(ColumnV("ref", arg.value, location=location) if isinstance(arg, ConstV) and isinstance(arg.value, str)
                         else arg for arg in args)
        return ColumnV("func", name, tuple(args), location, scope.stack)


TEMP_VIEW_METHODS = frozenset({
    "createOrReplaceTempView", "createTempView", "createOrReplaceGlobalTempView", "createGlobalTempView",
    "registerTempTable",
})
COLUMN_NAME_FUNCTIONS = frozenset({*api.NULL_COALESCING, "nvl2", "greatest", "least"})
# Collection methods that call their function with each item.
ITEM_FUNCTIONS = frozenset({"foreach", "map"})
# Members of `SparkSession` (and its builder) that Scala calls without parentheses.
SESSION_GETTERS = frozenset({"getOrCreate", "active"})


def _local_relation(scope: Scope) -> tuple[tuple[str, Value], ...]:
    """Rows written in Scala code become a LocalRelation, which Spark sizes (and broadcasts when
    small); PySpark sends a local list through an RDD, which Spark cannot size."""
    return (("relation", ConstV("local")),) if scope.module.language == "scala" else ()


def _defining_unit(symbol: Symbol) -> str:
    """The unit holding a field's expression: its class, or its module's top-level code."""
    if symbol.owner is not None:
        return class_unit(symbol.owner.qualname)
    return module_unit(symbol.module.path) if symbol.module is not None else ""


def _named(value: Value, name: str, module: m.Module) -> Value:
    """A schema assigned to a module-level name is called by it in findings."""
    return _schema_named(value, f"{module.name}.{name}")


def _schema_named(value: Value, qualname: str) -> Value:
    """`schemas.CLICKS` for a schema defined as `CLICKS` in module or object `...schemas`."""
    if isinstance(value, SchemaV) and not value.origin:
        short = ".".join(qualname.rsplit(".", 2)[-2:])
        return SchemaV(value.fields, f"`{short}`", value.location)
    return value


_SCALARS = (bool, int, float, str, type(None))
_SHORT_CIRCUITS = frozenset({"and", "or", "&", "|"})


def _truth(value: Value) -> bool | None:
    """Whether a value known from constants is true, else None."""
    return bool(value.value) if type(value) is ConstV and isinstance(value.value, _SCALARS) else None


def _decided(op: str, left: Value) -> bool | None:
    """The truth of `left <op> right` when its left operand decides it alone (`False and x`,
    `True or x`; Scala's `&&` and `||` are lowered as `&` and `|`), else None."""
    truth = _truth(left)
    return truth if truth is not None and truth == (op in ("or", "|")) else None


def _constant_shaped(expr: m.Expr) -> bool:
    """Names, constants and members of `this`/`self` combined by operators, literal collections
    of them and the text methods that only compute (`env.lower() in ["dev", "test"]`): a
    condition that calls nothing but what reading them runs (a Scala `def` without parentheses)."""
    kind = type(expr)
    if kind is m.Name or kind is m.Const:
        return True
    if kind is m.Attr:
        if expr.attr in _PARAMETERLESS_TEXT_METHODS:
            return _constant_shaped(expr.value)
        return type(expr.value) is m.Name and expr.value.id in ("this", "self")
    if kind is m.Call:
        func = expr.func
        return (type(func) is m.Attr and (func.attr in _TEXT_METHODS or func.attr == "contains") and not expr.kwargs
                and all(map(_constant_shaped, (func.value, *expr.args))))
    return (kind is m.BinOp or kind is m.UnaryOp or kind is m.Seq) and all(map(_constant_shaped, m.sub_expressions(expr)))


# Methods of Python's `str` and Scala's `String` that only compute from the text and constant
# arguments, folded when all are known: what a condition on a setting (`env.lower() == "prod"`) reads.
_TEXT_METHODS = {
    "lower": str.lower, "upper": str.upper, "casefold": str.casefold, "strip": str.strip,
    "lstrip": str.lstrip, "rstrip": str.rstrip, "startswith": str.startswith, "endswith": str.endswith,
    "toLowerCase": str.lower, "toUpperCase": str.upper, "trim": str.strip,
    "startsWith": str.startswith, "endsWith": str.endswith,
    "equalsIgnoreCase": lambda text, other: text.casefold() == other.casefold(),
    "isEmpty": lambda text: not text, "nonEmpty": lambda text: bool(text),
}
_PARAMETERLESS_TEXT_METHODS = frozenset({"toLowerCase", "toUpperCase", "trim", "isEmpty", "nonEmpty"})


def _text_method(receiver: ConstV, name: str, args) -> Value:
    """`"Prod".lower()`, `env.toLowerCase`, `path.startswith("s3")` on known text."""
    text = receiver.value
    values = [arg.value for arg in args if type(arg) is ConstV and type(arg.value) is str]
    if type(text) is not str or len(values) != len(args):
        return UNKNOWN
    try:
        result = _TEXT_METHODS[name](text, *values)
    except TypeError:  # not the arguments the method takes
        return UNKNOWN
    return ConstV(result) if isinstance(result, (str, bool)) else UNKNOWN


def _membership(item: Value, collection: Value, op: str) -> Value:
    """`x in [...]`, `x not in (...)`, Scala `Seq(...).contains(x)`, `"a" in "abc"`: known when
    the item and every element are constants."""
    if type(item) is not ConstV or not isinstance(item.value, _SCALARS):
        return UNKNOWN
    if type(collection) is ConstV and type(collection.value) is str and type(item.value) is str:
        found = item.value in collection.value
    elif type(collection) is SeqV and collection.kind not in ("range", "dict") and all(
            type(element) is ConstV and isinstance(element.value, _SCALARS) for element in collection.items):
        found = any(item.value == element.value for element in collection.items)
    else:
        return UNKNOWN
    return ConstV(found == (op == "in"))


def _compare(op: str, left, right) -> Value:
    """A comparison or a logical operator of two scalars, as Python and Scala agree on them."""
    if op in ("is", "is not"):  # identity is only defined here for None and the booleans
        if not (left is None or right is None or (type(left) is bool and type(right) is bool)):
            return UNKNOWN
        return ConstV((left is right) == (op == "is"))
    if op in ("==", "!="):
        return ConstV((left == right) == (op == "=="))
    if op in ("and", "or"):
        return ConstV(left and right if op == "and" else left or right)
    if op in ("&", "|") and type(left) is bool and type(right) is bool:  # Scala's && and ||
        return ConstV(left and right if op == "&" else left or right)
    numbers = (int, float)
    if op in ("<", "<=", ">", ">=") and type(left) is not bool and type(right) is not bool and (
            (isinstance(left, numbers) and isinstance(right, numbers)) or (type(left) is str and type(right) is str)):
        return ConstV({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op])
    return UNKNOWN


def _fold(op: str, left, right) -> Value:
    numbers = (int, float)
    if not isinstance(left, _SCALARS) or not isinstance(right, _SCALARS):
        return UNKNOWN
    compared = _compare(op, left, right)
    if compared is not UNKNOWN:
        return compared
    try:
        if isinstance(left, bool) or isinstance(right, bool):
            return UNKNOWN
        if isinstance(left, numbers) and isinstance(right, numbers):
            result = {
                "+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
                "//": lambda: left // right, "/": lambda: left / right, "%": lambda: left % right,
                "**": lambda: left ** right if abs(right) < 64 else None,
            }.get(op)
            value = result() if result else None
            if isinstance(value, float) and value.is_integer() and op == "/":
                value = int(value)
            return ConstV(value) if value is not None else UNKNOWN
        if isinstance(left, str) and isinstance(right, str) and op == "+":
            return ConstV(left + right)
    except (ArithmeticError, ValueError, OverflowError):
        return UNKNOWN
    return UNKNOWN


def _is_dataframe_method(name: str) -> bool:
    return (
        name in api.NARROW or name in api.SHUFFLING or name in api.SORTS_WITHIN_PARTITIONS
        or name in ("coalesce", "hint", "broadcast", "rdd", "dropDuplicates", "explode")
    )


def _read_event(source: DataFrameV, session: SessionV, method: str, args, kwargs, language: str) -> ReadEvent:
    """What a `spark.read...` call says of its input: the format, the options (from `option`,
    `options` and the format method's keyword arguments) and whether a schema is given."""
    fmt: str | None = None if method in ("load", "table") else method
    options: list[tuple[str, Value]] = []
    # PySpark's `csv(path, schema)`, `json(path, schema)`, `load(path, format, schema)`
    positional_schema = {"csv": 1, "json": 1, "load": 2}.get(method) if language == "python" else None
    has_schema = positional_schema is not None and len(args) > positional_schema and not (
        isinstance(args[positional_schema], ConstV) and args[positional_schema].value is None)
    if method == "load" and len(args) > 1 and str_of(args[1]):
        fmt = str_of(args[1]).lower()
    opaque = False
    for option, option_args in session.options:
        if option == "format" and option_args and str_of(option_args[0]):
            fmt = str_of(option_args[0]).lower()
        elif option == "schema":
            has_schema = True
        elif option == "option" and len(option_args) == 2 and str_of(option_args[0]):
            options.append((str_of(option_args[0]).lower(), option_args[1]))
        elif option in ("option", "options"):
            pairs = [_known_pairs(arg) for arg in option_args]
            opaque = opaque or None in pairs
            options.extend(pair for known in pairs if known for pair in known)
    for key, value in kwargs:
        if key == "schema":
            has_schema = has_schema or not (isinstance(value, ConstV) and value.value is None)  # `schema=None` infers
        elif key == "format" and str_of(value):
            fmt = str_of(value).lower()
        else:
            options.append((key.lower(), value))
    return ReadEvent(source, fmt, tuple(options), has_schema, source.head.location, source.head.stack, opaque)


def _known_pairs(value: Value) -> list[tuple[str, Value]] | None:
    """A literal `{"k": v}` / `Map("k" -> v)` of reader options; None when not known."""
    if not isinstance(value, SeqV) or value.kind != "dict":
        return None
    pairs = []
    for item in value.items:
        if not (isinstance(item, SeqV) and len(item.items) == 2 and str_of(item.items[0])):
            return None
        pairs.append((str_of(item.items[0]).lower(), item.items[1]))
    return pairs


PARTITION_MAPS = frozenset({"mapPartitions", "mapPartitionsWithIndex"})


def _literal_rows(expr) -> bool:
    return type(expr) is m.Seq and expr.kind in ("list", "tuple")


def _collect_returns(statements, returns: list) -> bool:
    """The `return`s of a body, into `returns`; False where the body may be a generator or
    hides code the model does not hold (a `yield` is lowered as an opaque statement)."""
    for statement in statements:
        kind = type(statement)
        if kind is m.Return:
            returns.append(statement)
        elif kind is m.ExprStmt and type(statement.value) is m.Opaque:
            return False
        elif kind is m.For and not _collect_returns(statement.body, returns):
            return False
        elif kind is m.Branch and not all(_collect_returns(arm, returns) for arm in statement.arms):
            return False
    return True


def _input_frames(args, kwargs, self_fields: dict | None, extra_locals) -> list[DataFrameV]:
    """The DataFrames a call is given, in a fixed order (SPK006 replays a memoised call's uses
    onto them): arguments, keyword arguments, `self`'s fields, extension receivers."""
    values = [*args, *(value for _, value in kwargs), *(extra_locals or {}).values()]
    if self_fields is not None:
        values.extend(self_fields[name] for name in sorted(self_fields))
    return [value for value in values if isinstance(value, DataFrameV)]


def _counts(iterable: m.Expr) -> bool:
    """`range(n)`, Scala `1 to n` / `0 until n`: a loop that counts (attempts, pages) rather than
    walk a collection of things."""
    if isinstance(iterable, m.Call):
        func = iterable.func
        name = func.id if isinstance(func, m.Name) else func.attr if isinstance(func, m.Attr) else ""
        return name in ("range", "xrange", "to", "until")
    return isinstance(iterable, m.BinOp) and iterable.op in ("to", "until")


def _reassigned_from_itself(body: tuple[m.Stmt, ...], name: str) -> bool:
    """A loop body that assigns `name` a value computed from `name` (`df = df.withColumn(...)`,
    `df = add_flag(df, c)`), in the body or a branch of it: the loop carries the value."""
    pending, seen = list(body), 0
    while pending and seen < 500:
        statement = pending.pop()
        seen += 1
        if isinstance(statement, m.Assign) and name in statement.targets and _mentions(statement.value, name):
            return True
        if isinstance(statement, m.Branch):
            pending.extend(s for arm in statement.arms for s in arm)
        elif isinstance(statement, m.For):
            pending.extend(statement.body)
    return False


def _mentions(expr: m.Expr, name: str) -> bool:
    pending, seen = [expr], 0
    while pending and seen < 500:
        current = pending.pop()
        seen += 1
        if isinstance(current, m.Name) and current.id == name:
            return True
        pending.extend(m.sub_expressions(current))
    return False


def _counts_rows(test: m.Expr) -> bool:
    """A condition that calls `count` (`if df.count() == 0`): the only conditions evaluated, so
    the calls in other conditions stay as unexplored as before (and cost nothing)."""
    pending, seen = [test], 0
    while pending and seen < 200:
        expr = pending.pop()
        seen += 1
        if isinstance(expr, m.Call) and isinstance(expr.func, m.Attr) and expr.func.attr == "count":
            return True
        if isinstance(expr, m.Attr) and expr.attr == "count":
            return True
        pending.extend(m.sub_expressions(expr))
    return False


def _limited(receiver: m.Expr) -> bool:
    """A receiver written as `x.limit(n)` (or `head`, `take`, `tail`)."""
    func = receiver.func if isinstance(receiver, m.Call) else None
    return isinstance(func, m.Attr) and func.attr in ("limit", "head", "take", "tail")


def _elements(items: Value, size: int | None) -> tuple[Value, ...] | None:
    """A literal collection's items, or the numbers of a `range(a, b)` when there are few of
    them (a range is kept as its two bounds, not its elements); None when they are unknown."""
    if not isinstance(items, SeqV):
        return None
    if items.kind != "range":
        return items.items
    if size is None or size > MAX_LOOP_UNROLL:
        return None
    start = items.items[0].value  # collection_size read both bounds as ints
    return tuple(ConstV(start + offset) for offset in range(size))


def _is_function_argument(args) -> bool:
    """`xs.groupBy(_.key)`: a Scala collection's `groupBy` takes a function; a Dataset's takes
    columns or names (its typed grouping by a function is `groupByKey`)."""
    return len(args) == 1 and isinstance(args[0], (LambdaV, FunctionRef, BoundMethodV))


def _looks_like_partition_count(args) -> bool:
    return len(args) in (1, 2) and not isinstance(args[0], (ColumnV, DataFrameV, SeqV))


def _is_column_like(value: Value) -> bool:
    return isinstance(value, ColumnV) or str_of(value) is not None or (
        isinstance(value, SeqV) and any(_is_column_like(item) for item in value.items)
    )


def _flatten(args) -> tuple[Value, ...]:
    out: list[Value] = []
    for arg in args:
        if isinstance(arg, SeqV) and arg.kind != "dict":
            out.extend(arg.items)
        else:
            out.append(arg)
    return tuple(out)


def _windows_in(values, depth: int = 0):
    for value in values:
        if isinstance(value, WindowV):
            yield value
        elif isinstance(value, ColumnV) and depth < 12:
            yield from _windows_in(value.args, depth + 1)
        elif isinstance(value, SeqV) and depth < 12:
            yield from _windows_in(value.items, depth + 1)


@dataclass(frozen=True, slots=True)
class CallResult:
    """A memoised call: its value, what it assigned to `self` (replayed on every reuse, so a
    method that sets `self.df` has that effect on each instance it is called on), the heads of
    the DataFrames it was given (`_input_frames` order), and the frame it ran in (`depth` deep)."""

    value: Value
    field_changes: tuple[tuple[str, Value], ...] = ()
    inputs: tuple[Op, ...] = ()
    frame: Frame | None = None
    depth: int = 0
    known_arguments: bool = False  # no argument was unknown

    def same_call(self, inputs: list[DataFrameV]) -> bool:
        """Whether a reuse given `inputs` computes what the first call computed: the same
        DataFrames and arguments all known (and alike, as the memo key says). Then the first
        call's DataFrames are this one's too: the same code computing the same data twice."""
        return self.known_arguments and len(inputs) == len(self.inputs) and all(
            df.head is head for df, head in zip(inputs, self.inputs))

    def replay(self, self_value: Value | None, inputs: list[DataFrameV], remake: bool = True) -> Value:
        """The value for a reuse given `inputs`. Two calls alike enough to share a calling
        context still make two DataFrames (`remake`, unless `same_call`): a DataFrame the call
        returned is made again, its operations that the call made put on this call's input (or
        on what it was made from outside the call), so that computing one of them and then the
        other is not taken for computing one DataFrame twice."""
        if self.field_changes and isinstance(self_value, InstanceV):
            self_value.fields.update(self.field_changes)
        if remake and isinstance(self.value, DataFrameV) and (self.inputs or self.frame is not None):
            return self.made_again(self.value, inputs, 0)
        return self.value

    def made_again(self, result: DataFrameV, inputs: list[DataFrameV], nesting: int,
                   budget: list[int] | None = None) -> DataFrameV:
        """`result` with the operations this call made rebuilt, at most `MAX_REMADE_OPS` of
        them in all (beyond that the first call's DataFrame is given back, as before)."""
        budget = budget if budget is not None else [MAX_REMADE_OPS]
        positions = {head: number for number, head in enumerate(self.inputs)}
        made: list[Op] = []
        base: Op | None = None
        for op in result.head.chain():
            number = positions.get(op)
            if number is not None:
                base = inputs[number].head if number < len(inputs) else op
                break
            if not self.made_in_call(op):
                base = op
                break
            made.append(op)
            budget[0] -= 1
            if budget[0] < 0:
                return result
        if not made and (base is None or base is result.head):
            return result
        head = base
        for op in reversed(made):
            other = op.other
            if other is not None and nesting < MAX_REMADE_NESTING:
                other = self.made_again(other, inputs, nesting + 1, budget)
            head = replace(op, prev=head, other=other)
        return DataFrameV(head, result.is_rdd) if head is not None else result

    def made_in_call(self, op: Op) -> bool:
        return self.frame is not None and len(op.stack) >= self.depth and op.stack[self.depth - 1] is self.frame


def _field_changes(before: dict[str, Value] | None, self_value: Value | None) -> tuple[tuple[str, Value], ...]:
    if before is None or not isinstance(self_value, InstanceV):
        return ()
    return tuple((name, value) for name, value in self_value.fields.items() if before.get(name) is not value)


def _all_known(args, kwargs, extra_locals) -> bool:
    values = (*args, *(value for _, value in kwargs), *(extra_locals or {}).values())
    return not any(value is UNKNOWN for value in values)


def _places_holding(scope: Scope, kind: type) -> dict:
    """The locals and `self` fields (as `self.name`) whose value is a `kind`."""
    found = {name: value for name, value in scope.locals.items() if isinstance(value, kind)}
    if isinstance(scope.self_value, InstanceV):
        found.update((f"{scope.self_name}.{name}", value) for name, value in scope.self_value.fields.items()
                     if isinstance(value, kind))
    return found


def _method_receiver(expr: m.Expr) -> m.Expr | None:
    """`df` in `df.cache()` (Scala also `df.cache`)."""
    if isinstance(expr, m.Call) and isinstance(expr.func, m.Attr):
        return expr.func.value
    if isinstance(expr, m.Attr):
        return expr.value
    return None


ALL_SKIPPED = -1  # the path of a branch on which no arm runs


def _elif_tests_before(numbers: list[int], index: int) -> list[int]:
    """Of the `elif` conditions `numbers` (their places in `Branch.elif_tests`), those evaluated
    on the way to arm `index`: the ones before it (all of them past every arm, `ALL_SKIPPED`)."""
    if not numbers or index == 0:
        return []
    return numbers if index == ALL_SKIPPED else [number for number in numbers if number < index]


def _returns(arm: tuple[m.Stmt, ...]) -> bool:
    """An arm that ends in a `return` (also in a branch of its own), not only in a `raise`."""
    if not arm:
        return False
    last = arm[-1]
    return isinstance(last, m.Return) or (isinstance(last, m.Branch) and any(_returns(inner) for inner in last.arms))


def merge_values(values: list[Value], stack: Stack) -> Value:
    """What is known of a value that is one of several (branches, `a if c else b`, several
    `return`s). A DataFrame keeps the option with the longest history, so an operation on any
    path (`if ...: df = df.coalesce(1)`) stays visible, behind a `choice` op that tells rules
    the data is not the same on every path."""
    distinct: list[Value] = []
    for value in values:
        if not any(value is seen or (isinstance(value, ConstV) and value == seen) for seen in distinct):
            distinct.append(value)
    if len(distinct) == 1:
        return distinct[0]
    frames = [value for value in distinct if isinstance(value, DataFrameV)]
    if frames:
        longest = max(frames, key=_history_length)
        return DataFrameV(_choice(longest, frames, stack), longest.is_rdd)
    writers = [value for value in distinct if isinstance(value, WriterV)]
    if writers:  # `val w = if (c) df.coalesce(1).write else df.write`
        longest = max(writers, key=lambda writer: _history_length(writer.df))
        df = DataFrameV(_choice(longest.df, [writer.df for writer in writers], stack), longest.df.is_rdd)
        return WriterV(df, longest.api, list(longest.options), longest.location, longest.stack)
    return UNKNOWN


def _history_length(df: DataFrameV) -> int:
    return sum(1 for _ in df.head.chain())


MAX_CHOICE_OPTIONS = 8


def _choice(df: DataFrameV, options: list[DataFrameV], stack: Stack) -> Op:
    """The `choice` op continues the longest option's history; its arguments are the other
    options, so a rule that looks at every path (`if (c) df.coalesce(n) else df.coalesce(2)`)
    can walk them too."""
    others = tuple(option for option in options if option is not df and option.head is not df.head)
    return Op("choice", others[:MAX_CHOICE_OPTIONS], (), df.head.location, stack, df.head)


def code_label(symbol: Symbol) -> str:
    function = symbol.function
    assert function is not None
    if function.name == "<main>":
        return "the `__main__` block"
    if function.name == "<init>" and symbol.owner is not None:
        return f"{symbol.owner.name} (body)"
    if symbol.owner is not None:
        return f"{display_name(symbol.owner)}.{function.name}()"
    return f"{function.name}()"


def _callee_text(expr: m.Expr, depth: int = 0) -> str:
    if depth > 6:
        return "..."
    if isinstance(expr, m.Name):
        return expr.id
    if isinstance(expr, m.Attr):
        return f"{_callee_text(expr.value, depth + 1)}.{expr.attr}"
    if isinstance(expr, m.Call):
        return f"{_callee_text(expr.func, depth + 1)}(...)"
    return "<expr>"
