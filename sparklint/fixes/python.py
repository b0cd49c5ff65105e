"""Fixes in Python files, through libcst: the file is parsed again, the nodes the edits name are
found by their byte spans, and a transformer rewrites only those nodes, so comments and
formatting everywhere else survive byte for byte. The result must compile."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from sparklint.findings import CallSite, Edit, Operand, RemoveNoqaCode, RenameCall, ReplaceArgument, WrapInFunction
from sparklint.fixes.errors import FixError, as_fix_error
from sparklint.fixes.noqa import without_code
from sparklint.fixes.text import LineIndex

FUNCTIONS_MODULES = ("pyspark.sql.functions", "pyspark.sql.connect.functions")
Range = tuple[int, int]
Rewrite = Callable[[cst.CSTNode], cst.CSTNode | cst.RemovalSentinel]


class PythonFile:
    """One Python file as parsed for fixing."""

    @as_fix_error
    def __init__(self, source: bytes) -> None:
        try:
            self.module = cst.parse_module(source)
        except (cst.ParserSyntaxError, ValueError) as error:
            raise FixError(f"cannot parse the file again ({type(error).__name__})") from None
        self.spans = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(ByteSpanPositionProvider)
        self.index = LineIndex(source)
        collector = _Collector(self.spans)
        self.module.visit(collector)
        self.calls = collector.calls
        self.comments = collector.comments
        self.functions = _FunctionsAccess.of(self.module, collector.names)

    def span(self, node: cst.CSTNode) -> Range:
        code_span = self.spans[node]
        return code_span.start, code_span.start + code_span.length

    # ------------------------------------------------------------ finding what edits name

    def call_at(self, site: CallSite) -> tuple[cst.Call, cst.Name]:
        offset = self.index.location_offset(site.location)
        found = self.calls.get(offset) if offset is not None else None
        if found is None or found[1].value not in site.names:
            raise FixError(f"no call of `{site.names[0]}` at {site.location}")
        return found

    def argument(self, operand: Operand) -> cst.Arg:
        call, _ = self.call_at(operand.call)
        if operand.keyword is not None:
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == operand.keyword:
                    return arg
        positional = []
        for arg in call.args:
            if arg.star:
                break  # `*args`: which argument comes next is not known here
            if arg.keyword is None:
                positional.append(arg)
        if operand.index is None or operand.index >= len(positional):
            raise FixError(f"no argument {operand.index} in the call at {operand.call.location}")
        return positional[operand.index]

    def operand(self, operand: Operand) -> cst.BaseExpression:
        if operand.index is None:
            call, _ = self.call_at(operand.call)
            if not isinstance(call.func, cst.Attribute):
                raise FixError(f"the call at {operand.call.location} has no receiver")
            return call.func.value
        return self.argument(operand).value

    def comment_at(self, edit: RemoveNoqaCode) -> tuple[cst.Comment, int]:
        offset = self.index.location_offset(edit.location)
        for comment, (start, end) in self.comments:
            if offset is not None and start <= offset < end:
                return comment, len(self.index.data[start:offset].decode("utf-8", errors="surrogateescape"))
        raise FixError(f"no comment at {edit.location}")

    def target(self, edit: Edit) -> cst.CSTNode:
        """The node an edit rewrites."""
        if isinstance(edit, RenameCall):
            return self.call_at(edit.call)[1]
        if isinstance(edit, ReplaceArgument):
            return self.argument(edit.argument).value
        if isinstance(edit, WrapInFunction):
            return self.operand(edit.operand)
        return self.comment_at(edit)[0]

    @as_fix_error
    def touched(self, edits: Sequence[Edit]) -> list[Range]:
        return [self.span(self.target(edit)) for edit in edits]

    # ------------------------------------------------------------ rewriting

    @as_fix_error
    def apply(self, edits: Sequence[Edit]) -> bytes:
        rewrites: dict[int, Rewrite] = {}
        imports: list[str] = []
        for edit in edits:
            node, rewrite = self._rewrite(edit, imports)
            if id(node) in rewrites:
                raise FixError("two edits rewrite the same code")
            rewrites[id(node)] = rewrite
        layouts = {id(call): self._layout(call) for call in self._calls_with_wrapped_arguments(edits)}
        fixed = self.module.visit(_Rewriter(rewrites, layouts))
        if imports:
            context = CodemodContext()
            for name in dict.fromkeys(imports):
                AddImportsVisitor.add_needed_import(context, "pyspark.sql.functions", name)
            fixed = AddImportsVisitor(context).transform_module(fixed)
        data = fixed.bytes
        _check_compiles(data)
        return data

    def _rewrite(self, edit: Edit, imports: list[str]) -> tuple[cst.CSTNode, Rewrite]:
        if isinstance(edit, RenameCall):
            return self.target(edit), lambda node: node.with_changes(value=edit.new_name)
        if isinstance(edit, ReplaceArgument):
            return self.target(edit), lambda node: cst.Integer(str(edit.value))
        if isinstance(edit, WrapInFunction):
            function = self.functions.reference(edit.function, imports)
            literals = [cst.Arg(cst.Call(self.functions.reference("lit", imports), [cst.Arg(_literal(value))]))
                        for value in edit.literals]
            return self.target(edit), lambda node: cst.Call(function, [cst.Arg(node), *literals])
        comment, at = self.comment_at(edit)
        kept = _kept_comment(comment, at, edit.code)
        return comment, lambda node: cst.RemovalSentinel.REMOVE if kept is None else node.with_changes(value=kept)


    def _calls_with_wrapped_arguments(self, edits: Sequence[Edit]) -> list[cst.Call]:
        return [self.call_at(edit.operand.call)[0] for edit in edits
                if isinstance(edit, WrapInFunction) and edit.operand.index is not None]

    def _layout(self, call: cst.Call) -> Rewrite:
        """A call on one line whose wrapped arguments push the line past LINE_LIMIT gets one
        argument per line, as a formatter would lay it out."""
        start, end = self.span(call)
        (line, col), (end_line, end_col) = self.index.point(start), self.index.point(end)
        text = self.index.line_text(line)
        indent = text[:len(text) - len(text.lstrip())]
        outside = (col - 1) + (len(text) - (end_col - 1))

        def laid_out(node: cst.CSTNode) -> cst.CSTNode:
            if line != end_line or not isinstance(node, cst.Call) or not node.args:
                return node
            if outside + len(EMPTY_MODULE.code_for_node(node)) <= LINE_LIMIT:
                return node
            return _one_argument_per_line(node, indent)

        return laid_out


LINE_LIMIT = 100
EMPTY_MODULE = cst.Module(body=[])


def _one_argument_per_line(call: cst.Call, indent: str) -> cst.Call:
    inner = indent + ("\t" if indent.startswith("\t") else "    ")

    def line_break(then: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=False,
                                           last_line=cst.SimpleWhitespace(then))

    args = [arg.with_changes(whitespace_after_arg=cst.SimpleWhitespace(""),
                             comma=cst.Comma(whitespace_before=cst.SimpleWhitespace(""),
                                             whitespace_after=line_break(inner if position < len(call.args) - 1 else indent)))
            for position, arg in enumerate(call.args)]
    return call.with_changes(whitespace_before_args=line_break(inner), args=args)


def _kept_comment(comment: cst.Comment, at: int, code: str) -> str | None:
    try:
        return without_code(comment.value, at, code)
    except ValueError as error:
        raise FixError(str(error)) from None


def _literal(value: str | int) -> cst.BaseExpression:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FixError(f"cannot write the literal {value!r}")
    return cst.SimpleString(json.dumps(value)) if isinstance(value, str) else cst.Integer(str(value))


def _check_compiles(data: bytes) -> None:
    try:
        compile(data, "<fixed file>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise FixError(f"the fixed file would not compile ({type(error).__name__})") from None


class _Collector(cst.CSTVisitor):
    """Calls by where their callee's name starts, comments with their spans, every name used."""

    def __init__(self, spans) -> None:
        self.spans = spans
        self.calls: dict[int, tuple[cst.Call, cst.Name]] = {}
        self.comments: list[tuple[cst.Comment, Range]] = []
        self.names: set[str] = set()
        self._attributes: set[int] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._attributes.add(id(node.attr))  # `x.lit` binds no name `lit`

    def visit_Call(self, node: cst.Call) -> None:
        name = node.func.attr if isinstance(node.func, cst.Attribute) else node.func
        if isinstance(name, cst.Name):
            self.calls[self.spans[name].start] = (node, name)

    def visit_Comment(self, node: cst.Comment) -> None:
        span = self.spans[node]
        self.comments.append((node, (span.start, span.start + span.length)))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._attributes:
            self.names.add(node.value)


class _Rewriter(cst.CSTTransformer):
    """Replaces the nodes it is given (by identity) with what their rewrite makes of them, after
    their own children were rewritten. A comment removed takes the spaces before it along, and a
    line holding nothing but that comment goes too."""

    def __init__(self, rewrites: dict[int, Rewrite], layouts: dict[int, Rewrite]) -> None:
        super().__init__()
        self.rewrites = rewrites
        self.layouts = layouts

    def on_leave(self, original_node, updated_node):
        updated = super().on_leave(original_node, updated_node)
        for rewrite in (self.layouts.get(id(original_node)), self.rewrites.get(id(original_node))):
            if rewrite is not None and isinstance(updated, cst.CSTNode):
                updated = rewrite(updated)
        return updated

    def leave_TrailingWhitespace(self, original_node, updated_node):
        if original_node.comment is not None and updated_node.comment is None:
            return updated_node.with_changes(whitespace=cst.SimpleWhitespace(""))
        return updated_node

    def leave_EmptyLine(self, original_node, updated_node):
        if original_node.comment is not None and updated_node.comment is None:
            return cst.RemovalSentinel.REMOVE
        return updated_node


class _FunctionsAccess:
    """How this module reaches Spark's SQL functions: `F.broadcast` where it imports
    `functions as F`, a bare name it imports, or an import to add."""

    def __init__(self, modules: list[str], direct: dict[str, str], star: bool, names: set[str]) -> None:
        self.modules = modules  # names bound to the functions module: "F", "pyspark.sql.functions"
        self.direct = direct  # function -> the name it is imported as
        self.star = star
        self.names = names

    @classmethod
    def of(cls, module: cst.Module, names: set[str]) -> "_FunctionsAccess":
        modules: list[str] = []
        direct: dict[str, str] = {}
        star = False
        for statement in module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        dotted = _dotted(alias.name)
                        if dotted in FUNCTIONS_MODULES:
                            modules.append(alias.asname.name.value if alias.asname else dotted)
                elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                    source = _dotted(small.module)
                    if isinstance(small.names, cst.ImportStar):
                        star = star or source in FUNCTIONS_MODULES
                        continue
                    for alias in small.names:
                        name = _dotted(alias.name)
                        bound = alias.asname.name.value if alias.asname else name
                        if f"{source}.{name}" in FUNCTIONS_MODULES:
                            modules.append(bound)
                        elif source in FUNCTIONS_MODULES:
                            direct[name] = bound
        modules.sort(key=lambda alias: (alias.count("."), alias))  # `F` before `pyspark.sql.functions`
        return cls(modules, direct, star, names)

    def reference(self, function: str, imports: list[str]) -> cst.BaseExpression:
        if function in self.direct:
            return cst.Name(self.direct[function])
        if self.modules:
            return cst.parse_expression(f"{self.modules[0]}.{function}")
        if self.star:
            return cst.Name(function)
        if function in self.names:
            raise FixError(f"`{function}` already names something else in this file")
        imports.append(function)
        return cst.Name(function)


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""
