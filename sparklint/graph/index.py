"""The project index: every module, function, class and namespace, by qualified name, and
name resolution on the model (imports, relative imports, re-exports, Scala packages)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from sparklint import model as m

IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")


def display_name(klass: m.Class) -> str:
    """How a chain names a class or object: a companion object by its class's name."""
    return klass.name.removesuffix(m.COMPANION_SUFFIX)


@dataclass(frozen=True, slots=True)
class Symbol:
    """What a qualified name denotes inside the project."""

    kind: str  # "module", "package", "function", "class", "field"
    qualname: str
    module: m.Module | None = None
    function: m.Function | None = None
    klass: m.Class | None = None
    owner: m.Class | None = None  # for methods and fields
    # A module constant's expression. A class field's is read from its class when it is evaluated
    # (`Interpreter.field_expression`): a cached class keeps its fields' code packed until then.
    expr: m.Expr | None = None


@dataclass(slots=True)
class ProjectIndex:
    modules: dict[str, m.Module] = field(default_factory=dict)  # by module name
    symbols: dict[str, Symbol] = field(default_factory=dict)  # by qualified name
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # namespace -> name -> qualname
    module_aliases: dict[str, str] = field(default_factory=dict)  # import name -> module name
    extension_methods: dict[str, list[str]] = field(default_factory=dict)  # method name -> qualnames
    packages_with_init: set[str] = field(default_factory=set)
    # How often each simple name is called or referenced in the project: `f(...)`, `x.f(...)`,
    # `transform(f)`. An upper bound of a function's call sites, which scales its context budget.
    call_sites: dict[str, int] = field(default_factory=dict)
    sources: tuple[m.Module, ...] = ()  # the modules it was built from, in order
    _module_symbol_cache: dict[str, Symbol | None] = field(default_factory=dict)
    _enclosing_cache: dict[tuple[str, str], Symbol | None] = field(default_factory=dict)

    # ------------------------------------------------------------ building

    @classmethod
    def build(cls, modules: list[m.Module]) -> "ProjectIndex":
        index = cls()
        for module in modules:
            if module.is_package_init:
                index.packages_with_init.add(module.name)
        for module in modules:
            index._add_module(module)
        for module in modules:
            if module.language == "python":
                index._add_import_aliases(module)
        index.call_sites = count_referenced_names(modules)
        index.sources = tuple(modules)
        return index

    def with_code_of(self, replacements: list[tuple[m.Module, m.Module]]) -> "ProjectIndex":
        """The index `build` gives when each (old, new) module of `replacements` takes the old
        one's place, for modules whose interface the edit kept (`units.interface`: the same
        names, signatures and imports, in the same order): only what the names denote and how
        often names are referenced change, so the rest is shared instead of built again."""
        new_of = {id(old): new for old, new in replacements}
        index = ProjectIndex(dict(self.modules), dict(self.symbols), self.members, self.module_aliases,
                             self.extension_methods, self.packages_with_init, dict(self.call_sites),
                             tuple(new_of.get(id(module), module) for module in self.sources))
        for old, new in replacements:
            alone = ProjectIndex()
            alone._add_module(new)
            for qualname, symbol in alone.symbols.items():
                current = index.symbols.get(qualname)
                if current is not None and current.module is old:
                    index.symbols[qualname] = symbol
            if index.modules.get(new.name) is old:
                index.modules[new.name] = new
            for name, count in referenced_names(old).items():
                left = index.call_sites[name] - count
                if left:
                    index.call_sites[name] = left
                else:
                    del index.call_sites[name]
            for name, count in referenced_names(new).items():
                index.call_sites[name] = index.call_sites.get(name, 0) + count
        return index

    def _member(self, namespace: str, name: str, qualname: str) -> None:
        self.members.setdefault(namespace, {}).setdefault(name, qualname)

    def _add_module(self, module: m.Module) -> None:
        self.modules[module.name] = module
        if module.language == "python":
            self.symbols[module.name] = Symbol("module", module.name, module=module)
            parts = module.name.split(".")
            for depth in range(1, len(parts)):
                package = ".".join(parts[:depth])
                self.symbols.setdefault(package, Symbol("package", package))
                self._member(package, parts[depth], ".".join(parts[: depth + 1]))
        else:
            namespace = module.namespace
            parts = namespace.split(".") if namespace else []
            for depth in range(1, len(parts) + 1):
                package = ".".join(parts[:depth])
                self.symbols.setdefault(package, Symbol("package", package))
                if depth < len(parts):
                    self._member(package, parts[depth], ".".join(parts[: depth + 1]))
        namespace = module.namespace
        for function in module.functions:
            self.symbols[function.qualname] = Symbol("function", function.qualname, module, function)
            self._member(namespace, function.name, function.qualname)
            if function.extension_receiver:
                self.extension_methods.setdefault(function.name, []).append(function.qualname)
        for klass in module.classes:
            self._add_class(module, klass)
        for statement in module.body:
            if isinstance(statement, m.Assign) and not statement.unpack:
                for target in statement.targets:
                    if "." not in target:
                        qualname = f"{namespace}.{target}" if namespace else target
                        self.symbols[qualname] = Symbol("field", qualname, module, expr=statement.value)
                        self._member(namespace, target, qualname)

    def _add_class(self, module: m.Module, klass: m.Class) -> None:
        self.symbols[klass.qualname] = Symbol("class", klass.qualname, module, klass=klass)
        owner_namespace, _, _ = klass.qualname.rpartition(".")
        self._member(owner_namespace, klass.name, klass.qualname)
        for method in klass.methods:
            self.symbols.setdefault(
                method.qualname, Symbol("function", method.qualname, module, method, owner=klass)
            )
            self._member(klass.qualname, method.name, method.qualname)
            if klass.extension:
                self.extension_methods.setdefault(method.name, []).append(method.qualname)
            if method.extension_receiver:
                self.extension_methods.setdefault(method.name, []).append(method.qualname)
        for name in m.field_names(klass):
            qualname = f"{klass.qualname}.{name}"
            self.symbols.setdefault(qualname, Symbol("field", qualname, module, owner=klass))
            self._member(klass.qualname, name, qualname)

    def _add_import_aliases(self, module: m.Module) -> None:
        """Register the names a module can be imported by when its path starts with folders that
        are not packages (`src/`, `python/`, `jobs/` without `__init__.py`)."""
        parts = module.name.split(".")
        for drop in range(1, len(parts)):
            dropped = ".".join(parts[:drop])
            if dropped in self.packages_with_init:
                break
            alias = ".".join(parts[drop:])
            current = self.module_aliases.get(alias)
            self.module_aliases[alias] = module.name if current in (None, module.name) else ""

    # ------------------------------------------------------------ lookups

    def module_symbol(self, dotted: str) -> Symbol | None:
        if dotted in self._module_symbol_cache:
            return self._module_symbol_cache[dotted]
        symbol = self._find_module_symbol(dotted)
        self._module_symbol_cache[dotted] = symbol
        return symbol

    def _find_module_symbol(self, dotted: str) -> Symbol | None:
        symbol = self.symbols.get(dotted)
        if symbol is not None:
            return symbol
        alias = self.module_aliases.get(dotted)
        if alias:
            return self.symbols.get(alias)
        # A package reached through an alias: `sitevisits` when modules are `src.sitevisits.x`.
        for name, target in self.module_aliases.items():
            if target and name.startswith(dotted + "."):
                real = target[: len(target) - len(name) + len(dotted)]
                if real.endswith(dotted) and real in self.symbols:
                    return self.symbols[real]
        return None

    def member(self, namespace: str, name: str) -> Symbol | None:
        qualname = self.members.get(namespace, {}).get(name)
        if qualname is not None:
            return self.symbols.get(qualname)
        return self.symbols.get(f"{namespace}.{name}") if namespace else self.symbols.get(name)

    def class_of(self, qualname: str) -> m.Class | None:
        symbol = self.symbols.get(qualname)
        return symbol.klass if symbol is not None and symbol.kind == "class" else None

    def function_of(self, qualname: str) -> Symbol | None:
        symbol = self.symbols.get(qualname)
        return symbol if symbol is not None and symbol.kind == "function" else None

    def enclosing_symbol(self, module: m.Module, dotted: str) -> Symbol | None:
        """Scala: a name relative to the enclosing packages (`import lake.Writer` inside
        `package com.acme`), which Scala resolves before the root package."""
        if module.language != "scala":
            return None
        key = (module.name, dotted)
        if key not in self._enclosing_cache:
            self._enclosing_cache[key] = self._find_enclosing(module, dotted)
        return self._enclosing_cache[key]

    def _find_enclosing(self, module: m.Module, dotted: str) -> Symbol | None:
        for namespace in (module.namespace, *module.visible_namespaces):
            parts = namespace.split(".") if namespace else []
            while parts:
                symbol = self.symbols.get(".".join(parts) + "." + dotted)
                if symbol is not None:
                    return symbol
                parts.pop()
        return None

    def companion_of(self, class_qualname: str) -> str | None:
        """The qualified name of a Scala class's companion object, when the project has one."""
        if class_qualname.endswith(m.COMPANION_SUFFIX):
            return None
        companion = class_qualname + m.COMPANION_SUFFIX
        return companion if self.class_of(companion) is not None else None

    def resolve_relative(self, module: m.Module, level: int, target: str) -> str:
        """The absolute module name of a Python relative import."""
        parts = module.name.split(".")
        if not module.is_package_init:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        base = ".".join(parts)
        if target:
            return f"{base}.{target}" if base else target
        return base


def count_referenced_names(modules: list[m.Module]) -> dict[str, int]:
    """How often each simple name occurs as a name or an attribute, in calls or as a value."""
    names: Counter[str] = Counter()
    for module in modules:
        names.update(referenced_names(module))
    return dict(names)


def referenced_names(module: m.Module) -> dict[str, int]:
    """One module's share of `count_referenced_names`, computed when it is lowered and kept with
    it in the cache: a re-check would otherwise walk every expression of the project again."""
    known = module.extra.get("referenced_names")
    if known is None:
        names: Counter[str] = Counter()
        type_names: set[str] = set()
        for node in m.expressions_of(module):
            if isinstance(node, m.Name):
                names[node.id] += 1
            elif isinstance(node, m.Attr):
                names[node.attr] += 1  # called, or passed as a value: `df.transform(helper)`
            elif isinstance(node, m.Call) and node.type_args:
                type_names.update(_heads(node.type_args))
        known = module.extra["referenced_names"] = dict(names)
        module.extra["type_names"] = tuple(sorted(type_names))
    return known


def mentioned_names(module: m.Module) -> frozenset[str]:
    """Every simple name the module's code spells where the analysis may look it up: names and
    attributes, type arguments (`.as[Click]`), base classes and imports."""
    names = set(referenced_names(module))
    names.update(module.extra.get("type_names", ()))
    for klass in module.classes:
        names.update(_heads(klass.bases))
    for imported in module.imports:
        names.update(imported.module.split("."))
        names.update(part for part in (imported.name, imported.alias) if part)
    return frozenset(names)


def _heads(type_texts) -> Iterator[str]:
    """The identifiers of type texts: `Seq[Click]` -> Seq, Click; `a.b.C` -> a, b, C."""
    for text in type_texts:
        yield from IDENTIFIER.findall(text)
