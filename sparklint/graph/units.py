"""Code units: the pieces of a module that the interpreter reads one at a time, so that a re-check
after an edit analyses again only what read an edited piece.

A unit is a function (its parameters and body), a class without its methods (fields, constructor
parameters), or a module's top-level code (constants, the code a Python import runs). The rest
of a module is its interface: the names it defines and imports, and the signatures. (How often
the project's functions are called decides which roots are called and scales the context
budgets: `call_counts`.) An edit that keeps the interface lets the analysis be redone for the
units it changed. An edit of the interface by names (`changed_names`) also redoes it for the
units of modules that spell one of the names (`units_mentioning`); any other edit redoes it all.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass

from sparklint import model as m
from sparklint.graph.index import ProjectIndex, mentioned_names


# Interned: every group of roots keeps the set of units it read, and the last result on disk
# holds one copy of each name instead of one per group.
def function_unit(qualname: str) -> str:
    return sys.intern("f:" + qualname)


def class_unit(qualname: str) -> str:
    return sys.intern("c:" + qualname)


def module_unit(path: str) -> str:
    return sys.intern("g:" + path)


@dataclass(frozen=True, slots=True)
class LineMap:
    """Where the code of one file that an edit left alone now stands: lines `start`..`end` of the
    old file moved by `delta`, piece by piece (functions, statements, fields)."""

    path: str
    pieces: tuple[tuple[int, int, int], ...]  # (start, end, delta)

    def new_line(self, line: int) -> int | None:
        """The new line of an old one, or None when it is not in code the edit left alone."""
        best: tuple[int, int, int] | None = None
        for piece in self.pieces:
            if piece[0] <= line <= piece[1] and (best is None or piece[1] - piece[0] < best[1] - best[0]):
                best = piece
        return line + best[2] if best is not None else None


@dataclass(frozen=True, slots=True)
class UnitDiff:
    changed: frozenset[str]  # units whose code changed
    lines: LineMap  # where the others' code stands now


def unit_diff(old: m.Module, new: m.Module) -> UnitDiff | None:
    """The units that differ between two lowerings of one file, beyond moving up or down as
    lines are added or removed above them; None when the file's interface differs (then every
    analysis may be affected)."""
    if interface(old) != interface(new):
        return None
    return code_diff(old, new)


def code_diff(old: m.Module, new: m.Module) -> UnitDiff:
    """`unit_diff` whatever the interfaces: a unit only one of them has counts as changed."""
    before = dict(_units(old))
    changed: set[str] = before.keys() - set(units_of(new))
    pieces: list[tuple[int, int, int]] = []
    for unit, code in _units(new):
        moved = _moved(before.get(unit), code)
        if moved is None:
            changed.add(unit)
        else:
            pieces.extend(moved)
    return UnitDiff(frozenset(changed), LineMap(new.path, tuple(pieces)))


def _moved(old: tuple | None, new: tuple) -> list[tuple[int, int, int]] | None:
    """The pieces of a unit as (old start, old end, delta) when each is the old one moved by
    whole lines; None when the code itself changed."""
    if old is None or len(old) != len(new):
        return None
    pieces = []
    for before, after in zip(old, new):
        old_span, new_span = _span_of(before), _span_of(after)
        if old_span is None or new_span is None:
            if before != after:
                return None
            continue
        delta = new_span.line - old_span.line
        if (shifted(before, delta) if delta else before) != after:
            return None
        first, last = _extent(before)
        pieces.append((min(first, old_span.line), max(last, old_span.end_line, old_span.line), delta))
    return pieces


def _extent(value, bounds: list[int] | None = None) -> tuple[int, int]:
    """The first and last line that any position inside a piece of code names."""
    if bounds is None:
        bounds = [1 << 30, 0]
    kind = type(value)
    if kind is m.Span or kind is m.Anchor:
        if value.line:
            bounds[0] = min(bounds[0], value.line)
            bounds[1] = max(bounds[1], getattr(value, "end_line", 0) or value.line)
    elif kind is tuple or kind is m.LazyCode:
        for item in value:
            _extent(item, bounds)
    elif is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            _extent(getattr(value, item.name), bounds)
    return bounds[0], bounds[1]


def _span_of(piece) -> m.Span | None:
    span = getattr(piece, "span", None)
    if span is None and isinstance(piece, tuple) and len(piece) == 2 and isinstance(piece[0], str):
        span = getattr(piece[1], "span", None)  # a class field: (name, expression)
    return span if isinstance(span, m.Span) and span.line else None


def shifted(value, delta: int):
    """A model value with every position moved down by `delta` lines."""
    kind = type(value)
    if kind is m.Span:
        return m.Span(value.line + delta, value.col, value.end_line + delta, value.end_col) if value.line else value
    if kind is m.Anchor:
        return value._replace(line=value.line + delta)
    if kind is tuple or kind is m.LazyCode:
        return tuple(shifted(item, delta) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return kind(*(shifted(getattr(value, item.name), delta) for item in fields(value)))
    return value


def interface(module: m.Module) -> tuple:
    return (
        module.path, module.language, module.name, module.namespace,
        tuple((i.module, i.name, i.alias, i.level) for i in module.imports),  # where they stand is not read
        module.visible_namespaces, module.is_package_init,
        tuple(_signature(function) for function in module.functions),
        tuple(_class_interface(klass) for klass in module.classes),
        tuple(_top_level_names(module)),
    )


def _units(module: m.Module) -> Iterator[tuple[str, tuple]]:
    """Each unit's code as a tuple of pieces that move as wholes when lines are added above them."""
    yield module_unit(module.path), module.body
    for function in module.functions:
        yield function_unit(function.qualname), (function,)
    for klass in module.classes:
        yield class_unit(klass.qualname), (*klass.fields, klass.init_params)
        for method in klass.methods:
            yield function_unit(method.qualname), (method,)


def _signature(function: m.Function) -> tuple:
    return (function.name, function.qualname, _param_kinds(function.params),
            function.is_method, function.self_name, function.extension_receiver, function.is_entry,
            function.decorators)


def _param_kinds(params: tuple[m.Param, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((param.name, param.kind) for param in params)


def _class_interface(klass: m.Class) -> tuple:
    return (klass.name, klass.qualname, klass.kind, klass.bases, klass.extension,
            m.field_names(klass), _param_kinds(klass.init_params),
            tuple(_signature(method) for method in klass.methods))


def _top_level_names(module: m.Module) -> Iterator[tuple[str, ...]]:
    for statement in module.body:
        if isinstance(statement, m.Assign) and not statement.unpack:
            yield statement.targets


def call_counts(index: ProjectIndex) -> tuple[tuple[str, int], ...]:
    """How often each name of a project function or class is referenced: what the analysis reads
    of the references (the roots' order, the budgets of calling contexts)."""
    names = {symbol.function.name for symbol in index.symbols.values() if symbol.kind == "function"}
    names.update(symbol.klass.name for symbol in index.symbols.values() if symbol.kind == "class")
    return tuple(sorted((name, index.call_sites.get(name, 0)) for name in names))


# Names the interpreter looks up without the code spelling them: `Foo(...)` calls `Foo.apply`,
# a Python class is built through `__init__`, `x(i) = v` calls `update`.
IMPLICIT_NAMES = frozenset({"apply", "unapply", "update"})


def changed_names(old: m.Module, new: m.Module) -> frozenset[str] | None:
    """The names whose definitions differ between two lowerings of one file (functions, methods,
    classes, fields, imports, top-level names): the analysis of code that never spells one of
    them cannot change. None when the difference is not one of names (the module's name or
    package, a wildcard import, a class's bases or kind) or is one of a name the interpreter
    looks up unwritten (`IMPLICIT_NAMES`, dunder names)."""
    if _frame(old) != _frame(new) or not _same_class_frames(old, new):
        return None
    before, after = _definitions(old), _definitions(new)
    names = frozenset(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    return None if any(map(_implicit, names)) else names


def _implicit(name: str) -> bool:
    return name.startswith(("__", "<")) or name in IMPLICIT_NAMES


def called_or_not(before: tuple[tuple[str, int], ...], after: tuple[tuple[str, int], ...]) -> frozenset[str]:
    """The names of `call_counts` that the project calls in one and not in the other."""
    old, new = dict(before), dict(after)
    return frozenset(name for name in old.keys() | new.keys() if (old.get(name, 0) > 0) != (new.get(name, 0) > 0))


def _frame(module: m.Module) -> tuple:
    wildcards = tuple((i.module, i.level) for i in module.imports if i.name == "*")
    return (module.path, module.language, module.name, module.namespace, module.visible_namespaces,
            module.is_package_init, wildcards)


def _same_class_frames(old: m.Module, new: m.Module) -> bool:
    """Whether every class both lowerings define kept its kind, bases and what it extends."""
    before = {klass.qualname: _class_frame(klass) for klass in old.classes}
    return all(before.get(klass.qualname, _class_frame(klass)) == _class_frame(klass) for klass in new.classes)


def _class_frame(klass: m.Class) -> tuple:
    return klass.kind, klass.bases, klass.extension


def _definitions(module: m.Module) -> dict[str, tuple]:
    """Each name the module defines or imports, with everything the analysis reads of its
    definitions but their code (the units)."""
    found: dict[str, list] = {}

    def define(name: str, what: tuple) -> None:
        found.setdefault(name, []).append(what)

    for function in module.functions:
        define(function.name, ("function", *_signature(function)))
    for klass in module.classes:
        define(klass.name.removesuffix(m.COMPANION_SUFFIX),
               ("class", klass.qualname, *_class_frame(klass), _param_kinds(klass.init_params)))
        for name in m.field_names(klass):
            define(name, ("field", klass.qualname))
        for method in klass.methods:
            define(method.name, ("method", klass.qualname, *_signature(method)))
    for imported in module.imports:
        if imported.name != "*":
            define(imported.alias, ("import", imported.module, imported.name, imported.level))
    for targets in _top_level_names(module):
        for name in targets:
            define(name, ("top-level",))
    return {name: tuple(sorted(map(repr, whats))) for name, whats in found.items()}


def units_of(module: m.Module) -> Iterator[str]:
    """The names of a module's units (those `_units` pairs with their code), without reading it."""
    yield module_unit(module.path)
    for function in module.functions:
        yield function_unit(function.qualname)
    for klass in module.classes:
        yield class_unit(klass.qualname)
        for method in klass.methods:
            yield function_unit(method.qualname)


def units_mentioning(modules, names: frozenset[str]) -> set[str]:
    """The units of every module whose code may spell one of `names`: as a name, an attribute, a
    type argument, a base class or an import."""
    found: set[str] = set()
    if not names:
        return found
    for module in modules:
        if not names.isdisjoint(mentioned_names(module)):
            found.update(units_of(module))
    return found
