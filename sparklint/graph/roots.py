"""The order in which the interpreter analyses code: entry points first, so a finding reached
from an entry point keeps the whole chain from that entry point."""

from __future__ import annotations

from typing import Iterable

from sparklint import model as m
from sparklint.graph.index import ProjectIndex, Symbol


def analysis_roots(modules: list[m.Module], index: ProjectIndex) -> Iterable[tuple[str, object]]:
    """Entry points first, then module code, then functions nobody calls by name, then the rest,
    so that a finding reached from an entry point keeps the chain from that entry point."""
    called = index.call_sites
    functions: list[Symbol] = [s for s in index.symbols.values() if s.kind == "function"]
    entries = [s for s in functions if s.function.is_entry]
    # An entry point nobody calls (`__main__` block, `extends App`) before one that is called
    # (`main()` called from the `__main__` block).
    for symbol in sorted(entries, key=lambda s: (s.function.name in called, *_symbol_order(s))):
        yield "function", symbol
    for module in modules:
        if module.body:
            yield "module", module
    outermost = [s for s in functions if not s.function.is_entry and s.function.name not in called]
    for symbol in sorted(outermost, key=_symbol_order):
        yield "function", symbol
    rest = [s for s in functions if not s.function.is_entry and s.function.name in called]
    for symbol in sorted(rest, key=_symbol_order):
        yield "function", symbol


def _symbol_order(symbol: Symbol) -> tuple:
    return (symbol.module.path if symbol.module else "", symbol.function.span.line if symbol.function else 0)
