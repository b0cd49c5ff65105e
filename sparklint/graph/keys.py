"""Calling-context keys: what the interpreter memoises a call by.

A key says what a callee can observe of its arguments, so two calls with equal keys compute the
same thing and the second reuses the first. Keys come from content, never from `id()` (an id is
reused once its object is freed, which made results depend on timing): immutable values by what
they hold, mutable builders (writers, closures) by a serial number given in creation order, which
is the same on every run because the analysis order is.

Call stacks are left out on purpose: the same DataFrame reached along two paths is one context,
and its findings keep the chain of the path analysed first (entry points come first).
"""

from __future__ import annotations

from sparklint.graph.values import (
    UNKNOWN, BoundMethodV, ClassRef, ColumnV, ConstV, DataFrameV, ExternalRef, FunctionRef,
    GroupedV, InstanceV, ModuleRef, Op, SchemaV, SeqV, SessionV, TextV, Value, WindowV,
)

MAX_KEY_DEPTH = 6
SEQ_KEY_ITEMS = 8


class ContextKeys:
    """Keys for one analysis run. Interned keys are small ints, so a DataFrame with a history
    thousands of operations long is keyed in constant time once its head is known."""

    __slots__ = ("_serials", "_interned", "_ops", "_columns", "_singletons", "_instances", "_reached")

    def __init__(self) -> None:
        # Identity-keyed tables hold their objects, so an object's entry can never be inherited
        # by a later object at the same address.
        self._serials: dict[object, int] = {}
        self._interned: dict[tuple, int] = {}
        self._ops: dict[Op, int] = {}
        self._columns: dict[ColumnV, int] = {}
        self._singletons: set[InstanceV] = set()
        # An instance's key by content, with the instances it was computed from (itself and the
        # ones in its fields) and their versions: kept until one of them changes. A test suite's
        # `this` holds a hundred fields, and is keyed at every call of its methods.
        self._instances: dict[tuple[InstanceV, int], tuple[tuple, tuple]] = {}
        self._reached: list | None = None  # while an instance key is computed: the instances it reads

    def fields_changed(self, instance: InstanceV) -> None:
        instance.version += 1

    def singleton(self, instance: InstanceV) -> None:
        """A Scala `object`: there is one of it, so its name is its key (the fields it caches
        as they are read would otherwise make each read a new context)."""
        self._singletons.add(instance)

    def of(self, value: Value | None, depth: int = 0):
        if value is None or value is UNKNOWN:
            return None
        kind = type(value)
        if kind is ConstV:
            return ("c", type(value.value).__name__, value.value)
        # Plain tuples rather than the values: a key is hashed at every memo lookup, and a
        # dataclass hashes through Python code (a test suite's `this` holds a hundred of them).
        if kind is FunctionRef:
            return ("f", value.qualname)
        if kind is ClassRef:
            return ("C", value.qualname)
        if kind is ModuleRef:
            return ("m", value.name)
        if kind is ExternalRef:
            return ("x", value.dotted)
        if kind is SchemaV:
            return value
        if kind is TextV:
            return ("t", value.text)
        if depth > MAX_KEY_DEPTH:
            return ("n", self.serial(value))  # too deep to compare by content: by identity
        if kind is DataFrameV:
            return ("d", self.op(value.head), value.is_rdd)
        if kind is ColumnV:
            return ("k", self.column(value, depth))
        if kind is SeqV:
            items = tuple(self.of(item, depth + 1) for item in value.items[:SEQ_KEY_ITEMS])
            return ("s", value.kind, len(value.items), items)
        if kind is InstanceV:
            if value in self._singletons:
                return ("o", value.class_qualname)
            known = self._instances.get((value, depth))  # by depth: MAX_KEY_DEPTH cuts deeper keys shorter
            if known is not None and all(instance.version == version for instance, version in known[1]):
                if self._reached is not None:
                    self._reached.extend(known[1])
                return known[0]
            outer, self._reached = self._reached, [(value, value.version)]
            try:
                fields = tuple((name, self.of(field, depth + 1)) for name, field in sorted(value.fields.items()))
                reached = tuple(self._reached)
            finally:
                if outer is not None:
                    outer.extend(self._reached)  # what this key read, the enclosing key read too
                self._reached = outer
            # Interned: an instance's key goes into the key of every call of its methods.
            key = ("i", self._intern(("i", value.class_qualname, fields)))
            self._instances[(value, depth)] = (key, reached)
            return key
        if kind is BoundMethodV:
            return ("b", value.qualname, self.of(value.self_value, depth + 1))
        if kind is GroupedV:
            return ("g", self.of(value.df, depth + 1), self._all(value.keys, depth), value.location)
        if kind is WindowV:
            return ("w", self._all(value.keys, depth), value.location)
        if kind is SessionV:
            options = tuple((name, self._all(args, depth)) for name, args in value.options)
            return ("ss", value.reader, options)
        # WriterV and LambdaV are mutable or close over a scope: only the same object is the same.
        return ("n", self.serial(value))

    def serial(self, value: object) -> int:
        number = self._serials.get(value)
        if number is None:
            number = self._serials[value] = len(self._serials)
        return number

    def op(self, head: Op) -> int:
        """The key of an operation and its whole history, computed oldest first without recursion."""
        known = self._ops.get(head)
        if known is not None:
            return known
        pending: list[Op] = []
        op: Op | None = head
        while op is not None and op not in self._ops:
            pending.append(op)
            op = op.prev
        previous = self._ops[op] if op is not None else -1
        for op in reversed(pending):
            other = self.op(op.other.head) if op.other is not None else -1
            parts = (op.name, op.detail, op.location, previous, other, self._all(op.args, 1),
                     tuple((name, self.of(arg, 1)) for name, arg in op.kwargs))
            previous = self._ops[op] = self._intern(parts)
        return previous

    def column(self, column: ColumnV, depth: int) -> int:
        known = self._columns.get(column)
        if known is None:
            # (the DataFrame a column was taken from tells a join condition's sides apart: SPK007)
            origin = self.of(column.origin, depth + 1) if column.origin is not None else None
            parts = (column.kind, column.name, column.location, self._all(column.args, depth), origin)
            known = self._columns[column] = self._intern(parts)
        return known

    def _all(self, values, depth: int) -> tuple:
        return tuple(self.of(value, depth + 1) for value in values)

    def _intern(self, parts: tuple) -> int:
        number = self._interned.get(parts)
        if number is None:
            number = self._interned[parts] = len(self._interned)
        return number
