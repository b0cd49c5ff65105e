"""Code units: the pieces of a module that the interpreter reads one at a time, so that a re-check
after an edit analyses again only what read an edited piece.

A unit is a function (its parameters and body), a class without its methods (fields, constructor
parameters), or a module's top-level code (constants, the code a Python import runs). The rest
of a module is its interface: the names it defines and imports, and the signatures. (How often
the project's functions are called orders the roots and scales the context budgets: the engine
compares those counts for the whole project, `call_counts`.) An edit that keeps the
interface lets the analysis be redone for the units it changed; any other edit redoes it all.
"""

from __future__ import annotations

from collections.abc import Iterator

from sparklint import model as m
from sparklint.graph.index import ProjectIndex


def function_unit(qualname: str) -> str:
    return "f:" + qualname


def class_unit(qualname: str) -> str:
    return "c:" + qualname


def module_unit(path: str) -> str:
    return "g:" + path


def changed_units(old: m.Module, new: m.Module) -> frozenset[str] | None:
    """The units that differ between two lowerings of one file, or None when its interface
    differs (then every analysis may be affected)."""
    if interface(old) != interface(new):
        return None
    before = dict(_units(old))
    return frozenset(unit for unit, code in _units(new) if before.get(unit) != code)


def interface(module: m.Module) -> tuple:
    return (
        module.path, module.language, module.name, module.namespace, module.imports,
        module.visible_namespaces, module.is_package_init,
        tuple(_signature(function) for function in module.functions),
        tuple(_class_interface(klass) for klass in module.classes),
        tuple(_top_level_names(module)),
    )


def _units(module: m.Module) -> Iterator[tuple[str, object]]:
    yield module_unit(module.path), module.body
    for function in module.functions:
        yield function_unit(function.qualname), function
    for klass in module.classes:
        yield class_unit(klass.qualname), (klass.fields, klass.init_params, klass.span)
        for method in klass.methods:
            yield function_unit(method.qualname), method


def _signature(function: m.Function) -> tuple:
    return (function.name, function.qualname, tuple((p.name, p.kind) for p in function.params),
            function.is_method, function.self_name, function.extension_receiver, function.is_entry,
            function.decorators)


def _class_interface(klass: m.Class) -> tuple:
    return (klass.name, klass.qualname, klass.kind, klass.bases, klass.extension,
            tuple(name for name, _ in klass.fields), tuple((p.name, p.kind) for p in klass.init_params),
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
