"""The order in which the interpreter analyses code: entry points first, so a finding reached
from an entry point keeps the whole chain from that entry point."""

from __future__ import annotations

from typing import Iterable

from sparklint import model as m
from sparklint.graph.index import ProjectIndex, Symbol


def analysis_roots(modules: list[m.Module], index: ProjectIndex) -> Iterable[tuple[str, object]]:
    """Entry points first, then module code, then functions nobody calls by name, then the rest,
    so that a finding reached from an entry point keeps the chain from that entry point."""
    called = _called_names(modules)
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


def _called_names(modules: list[m.Module]) -> set[str]:
    names: set[str] = set()

    def visit_expr(expr) -> None:
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, m.Call):
                func = node.func
                if isinstance(func, m.Name):
                    names.add(func.id)
                elif isinstance(func, m.Attr):
                    names.add(func.attr)
                stack.append(func)
                stack.extend(node.args)
                stack.extend(value for _, value in node.kwargs)
            elif isinstance(node, m.Attr):
                names.add(node.attr)  # passed as a value: `df.transform(helper)` / method refs
                stack.append(node.value)
            elif isinstance(node, m.Name):
                names.add(node.id)
            elif isinstance(node, (m.Seq,)):
                stack.extend(node.items)
            elif isinstance(node, m.BinOp):
                stack.extend((node.left, node.right))
            elif isinstance(node, m.UnaryOp):
                stack.append(node.operand)
            elif isinstance(node, m.Subscript):
                stack.extend((node.value, node.index))
            elif isinstance(node, m.Lambda):
                stack.append(node.body)

    def visit_block(statements) -> None:
        for statement in statements:
            if isinstance(statement, (m.Assign, m.ExprStmt)):
                visit_expr(statement.value)
            elif isinstance(statement, m.Return) and statement.value is not None:
                visit_expr(statement.value)
            elif isinstance(statement, m.For):
                visit_expr(statement.iter)
                visit_block(statement.body)
            elif isinstance(statement, m.Branch):
                for arm in statement.arms:
                    visit_block(arm)

    for module in modules:
        visit_block(module.body)
        for function in module.functions:
            visit_block(function.body)
        for klass in module.classes:
            for method in klass.methods:
                visit_block(method.body)
            for _, expr in klass.fields:
                visit_expr(expr)
    return names
