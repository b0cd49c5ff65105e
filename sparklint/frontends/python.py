"""The PySpark front end: lowers one Python file into the model with libcst.

Positions come from libcst's cheap `ByteSpanPositionProvider`; names are resolved later by the
project graph, on the model, because libcst's `QualifiedNameProvider` costs 3x the parse.
"""

from __future__ import annotations

import ast

import bisect
import io
import re
import tokenize
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from sparklint import model as m

NOQA_RE = re.compile(r"#\s*noqa\s*:\s*([A-Za-z]+[0-9]+(?:\s*,\s*[A-Za-z]+[0-9]+)*)", re.IGNORECASE)

ENTRY_DECORATOR_SUFFIXES = ("command", "main", "entrypoint", "entry_point")


def _string_parts(node) -> list:
    """The literals of an implicit concatenation (`"a" "b" f"{c}"`), in order."""
    if isinstance(node, cst.ConcatenatedString):
        return [*_string_parts(node.left), *_string_parts(node.right)]
    return [node]


def _has_fstring(node) -> bool:
    return any(isinstance(part, cst.FormattedString) for part in _string_parts(node))


def _literal_pieces(raw: str) -> tuple[str, str, str]:
    """(prefix, quote, body) of a string literal's source text."""
    prefix = raw[: len(raw) - len(raw.lstrip("rRbBuUfF"))]
    rest = raw[len(prefix):]
    quote = rest[:3] if rest[:3] in ('"""', "\'\'\'") else rest[:1]
    return prefix, quote, rest[len(quote): len(rest) - len(quote)]


def module_name_for(rel_path: str) -> tuple[str, bool]:
    """`pkg/sub/mod.py` -> ("pkg.sub.mod", False); `pkg/__init__.py` -> ("pkg", True)."""
    parts = rel_path[:-3].split("/") if rel_path.endswith(".py") else rel_path.split("/")
    is_init = parts[-1] == "__init__"
    if is_init:
        parts = parts[:-1]
    return ".".join(p for p in parts if p) or "__init__", is_init


class _Positions:
    """Turns libcst byte spans into 1-based line / code-point column spans."""

    def __init__(self, source: bytes, spans) -> None:
        self._source = source
        self._spans = spans
        self._line_starts = [0]
        find = source.find
        start = find(b"\n")
        while start != -1:
            self._line_starts.append(start + 1)
            start = find(b"\n", start + 1)
        self._ascii = source.isascii()

    def point(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._line_starts, offset) - 1
        line_start = self._line_starts[index]
        if self._ascii:
            col = offset - line_start
        else:
            col = len(self._source[line_start:offset].decode("utf-8", errors="replace"))
        return index + 1, col + 1

    def span(self, node: cst.CSTNode) -> m.Span:
        code_span = self._spans.get(node)
        if code_span is None:
            return m.NO_SPAN
        line, col = self.point(code_span.start)
        end_line, end_col = self.point(code_span.start + code_span.length)
        return m.Span(line, col, end_line, end_col)

    @property
    def line_count(self) -> int:
        if not self._source:
            return 0
        ends_with_newline = self._source.endswith(b"\n")
        return len(self._line_starts) - (1 if ends_with_newline else 0)


@dataclass(slots=True)
class _ModuleParts:
    imports: list[m.Import] = field(default_factory=list)
    functions: list[m.Function] = field(default_factory=list)
    classes: list[m.Class] = field(default_factory=list)
    statement_lines: list[tuple[int, int]] = field(default_factory=list)


class _Lowerer:
    def __init__(self, module_name: str, positions: _Positions) -> None:
        self.module_name = module_name
        self.pos = positions
        self.parts = _ModuleParts()
        # While lowering a class body: the class's path in the module and the attributes bound
        # so far; a bare name among them reads the class attribute (`FILES = BASE + 1`).
        self.class_scope: tuple[tuple[str, ...], frozenset[str]] | None = None

    # ------------------------------------------------------------ expressions

    def expr(self, node: cst.BaseExpression | None) -> m.Expr:
        if node is None:
            return m.Opaque()
        method = getattr(self, "_expr_" + type(node).__name__, None)
        if method is None:
            return m.Opaque(self.pos.span(node))
        return method(node)

    def _expr_Name(self, node: cst.Name) -> m.Expr:
        if node.value in ("True", "False"):
            return m.Const(node.value == "True", self.pos.span(node))
        if node.value == "None":
            return m.Const(None, self.pos.span(node))
        span = self.pos.span(node)
        if self.class_scope is not None and node.value in self.class_scope[1]:
            path, _ = self.class_scope
            owner: m.Expr = m.Name(path[0], span)
            for part in path[1:]:
                owner = m.Attr(owner, part, span)
            return m.Attr(owner, node.value, span)
        return m.Name(node.value, span)

    def _expr_Attribute(self, node: cst.Attribute) -> m.Expr:
        return m.Attr(self.expr(node.value), node.attr.value, self.pos.span(node))

    def _expr_Call(self, node: cst.Call) -> m.Expr:
        args: list[m.Expr] = []
        kwargs: list[tuple[str, m.Expr]] = []
        for arg in node.args:
            if arg.keyword is not None:
                kwargs.append((arg.keyword.value, self.expr(arg.value)))
            elif arg.star:
                args.append(m.Opaque(self.pos.span(arg.value), "*"))
            else:
                args.append(self.expr(arg.value))
        func = node.func
        name_node = func.attr if isinstance(func, cst.Attribute) else func
        return m.Call(
            self.expr(func), tuple(args), tuple(kwargs), self.pos.span(node), self.pos.span(name_node)
        )

    def _expr_Integer(self, node: cst.Integer) -> m.Expr:
        try:
            return m.Const(int(node.value.replace("_", ""), 0), self.pos.span(node))
        except ValueError:
            return m.Opaque(self.pos.span(node))

    def _expr_Float(self, node: cst.Float) -> m.Expr:
        try:
            return m.Const(float(node.value.replace("_", "")), self.pos.span(node))
        except ValueError:
            return m.Opaque(self.pos.span(node))

    def _expr_SimpleString(self, node: cst.SimpleString) -> m.Expr:
        return self._string(node)

    def _expr_ConcatenatedString(self, node: cst.ConcatenatedString) -> m.Expr:
        return self._string(node)

    def _string(self, node) -> m.Expr:
        if isinstance(node, cst.ConcatenatedString) and _has_fstring(node):
            return self._template(_string_parts(node), self.pos.span(node))
        try:
            value = node.evaluated_value
        except Exception:  # an odd escape: not a constant
            return m.Opaque(self.pos.span(node))
        if isinstance(value, bytes) or value is None:
            return m.Opaque(self.pos.span(node))
        return m.Const(value, self.pos.span(node), self._anchors(node))

    def _anchors(self, node) -> tuple[m.Anchor, ...]:
        """Where each piece of an (implicitly concatenated) string literal starts in the file."""
        anchors: list[m.Anchor] = []
        offset = 0
        for part in _string_parts(node):
            span = self.pos.span(part)
            prefix, quote, body = _literal_pieces(part.value)
            verbatim = "\\" not in body or "r" in prefix.lower()
            anchors.append(m.Anchor(offset, span.line, span.col + len(prefix) + len(quote), verbatim))
            try:
                offset += len(part.evaluated_value)
            except Exception:
                return ()
        return tuple(anchors)

    def _expr_FormattedString(self, node: cst.FormattedString) -> m.Expr:
        return self._template([node], self.pos.span(node))

    def _template(self, parts, span: m.Span) -> m.Expr:
        """An f-string as `$format(text, value, text, ...)`: its text with the holes it fills."""
        pieces: list[m.Expr] = []
        for part in parts:
            if isinstance(part, cst.SimpleString):
                pieces.append(self._string(part))
                continue
            raw = "r" in part.prefix.lower()
            for piece in part.parts:
                if isinstance(piece, cst.FormattedStringExpression):
                    pieces.append(self.expr(piece.expression))
                    continue
                text = piece.value
                verbatim = raw or ("\\" not in text and "{{" not in text and "}}" not in text)
                value = text.replace("{{", "{").replace("}}", "}")
                if not raw and "\\" in value:
                    try:
                        value = ast.literal_eval(f'"""{value}"""')
                    except (ValueError, SyntaxError):
                        return m.Opaque(span)
                piece_span = self.pos.span(piece)
                pieces.append(m.Const(value, piece_span, (m.Anchor(0, piece_span.line, piece_span.col, verbatim),)))
        return m.Call(m.Name("$format", span), tuple(pieces), (), span, span)

    def _collection(self, node, kind: str) -> m.Expr:
        items = tuple(
            m.Opaque(self.pos.span(el.value), "*") if isinstance(el, (cst.StarredElement,))
            else self.expr(el.value)
            for el in node.elements
        )
        return m.Seq(items, kind, self.pos.span(node))

    def _expr_List(self, node: cst.List) -> m.Expr:
        return self._collection(node, "list")

    def _expr_Tuple(self, node: cst.Tuple) -> m.Expr:
        return self._collection(node, "tuple")

    def _expr_Set(self, node: cst.Set) -> m.Expr:
        return self._collection(node, "set")

    def _expr_Dict(self, node: cst.Dict) -> m.Expr:
        items = []
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                items.append(m.Seq((self.expr(element.key), self.expr(element.value)), "tuple"))
        return m.Seq(tuple(items), "dict", self.pos.span(node))

    _BINARY = {
        cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/", cst.FloorDivide: "//",
        cst.Modulo: "%", cst.Power: "**", cst.BitAnd: "&", cst.BitOr: "|", cst.BitXor: "^",
        cst.LeftShift: "<<", cst.RightShift: ">>", cst.MatrixMultiply: "@",
    }
    _COMPARE = {
        cst.Equal: "==", cst.NotEqual: "!=", cst.LessThan: "<", cst.LessThanEqual: "<=",
        cst.GreaterThan: ">", cst.GreaterThanEqual: ">=", cst.Is: "is", cst.IsNot: "is not",
        cst.In: "in", cst.NotIn: "not in",
    }

    def _expr_BinaryOperation(self, node: cst.BinaryOperation) -> m.Expr:
        op = self._BINARY.get(type(node.operator), "?")
        return m.BinOp(op, self.expr(node.left), self.expr(node.right), self.pos.span(node))

    def _expr_BooleanOperation(self, node: cst.BooleanOperation) -> m.Expr:
        op = "and" if isinstance(node.operator, cst.And) else "or"
        return m.BinOp(op, self.expr(node.left), self.expr(node.right), self.pos.span(node))

    def _expr_Comparison(self, node: cst.Comparison) -> m.Expr:
        if len(node.comparisons) != 1:
            return m.Opaque(self.pos.span(node))
        target = node.comparisons[0]
        op = self._COMPARE.get(type(target.operator), "?")
        return m.BinOp(op, self.expr(node.left), self.expr(target.comparator), self.pos.span(node))

    def _expr_UnaryOperation(self, node: cst.UnaryOperation) -> m.Expr:
        operator = node.operator
        op = {cst.Minus: "-", cst.Plus: "+", cst.Not: "not", cst.BitInvert: "~"}.get(type(operator), "?")
        return m.UnaryOp(op, self.expr(node.expression), self.pos.span(node))

    def _expr_Subscript(self, node: cst.Subscript) -> m.Expr:
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = self.expr(node.slice[0].slice.value)
        else:
            index = m.Opaque(self.pos.span(node))
        return m.Subscript(self.expr(node.value), index, self.pos.span(node))

    def _expr_IfExp(self, node: cst.IfExp) -> m.Expr:
        return m.Choice((self.expr(node.body), self.expr(node.orelse)), self.pos.span(node))

    def _expr_ListComp(self, node: cst.ListComp) -> m.Expr:
        return self._comprehension(node, node.elt, "list")

    def _expr_SetComp(self, node: cst.SetComp) -> m.Expr:
        return self._comprehension(node, node.elt, "set")

    def _expr_GeneratorExp(self, node: cst.GeneratorExp) -> m.Expr:
        return self._comprehension(node, node.elt, "list")

    def _expr_DictComp(self, node: cst.DictComp) -> m.Expr:
        span = self.pos.span(node)
        return self._comprehension(node, m.Seq((self.expr(node.key), self.expr(node.value)), "tuple", span), "dict")

    def _comprehension(self, node, element, kind: str) -> m.Expr:
        """`[f(x) for x in xs if c]` -> `$each(xs, lambda x: f(x), kind)`; nested `for`s nest;
        the filters are left out (the element is what some item gives)."""
        outer, self.class_scope = self.class_scope, None  # a class's names are not visible inside
        try:
            return self._comprehension_in(node, element, kind)
        finally:
            self.class_scope = outer

    def _comprehension_in(self, node, element, kind: str) -> m.Expr:
        span = self.pos.span(node)
        clauses = []
        clause = node.for_in
        while clause is not None:
            clauses.append(clause)
            clause = clause.inner_for_in
        value = element if isinstance(element, m.Expr) else self.expr(element)
        for position, clause in enumerate(reversed(clauses)):
            target = clause.target
            if isinstance(target, (cst.Tuple, cst.List)):
                names = tuple(self._target_name(el.value) or "_" for el in target.elements)
            else:
                names = (self._target_name(target) or "_",)
            innermost = position == 0
            call_args = (self.expr(clause.iter), m.Lambda(names, value, span),
                         m.Const(kind if innermost else "list", span))
            value = m.Call(m.Name("$each", span), call_args, (), span, span)
        return value

    def _expr_Lambda(self, node: cst.Lambda) -> m.Expr:
        params = tuple(p.name.value for p in node.params.params)
        outer, self.class_scope = self.class_scope, None  # a class's names are not visible inside
        try:
            body = self.expr(node.body)
        finally:
            self.class_scope = outer
        return m.Lambda(params, body, self.pos.span(node))

    # ------------------------------------------------------------ statements

    def block(self, body) -> tuple[m.Stmt, ...]:
        statements = body.body if isinstance(body, cst.IndentedBlock) else getattr(body, "body", ())
        if isinstance(body, cst.SimpleStatementSuite):
            statements = (body,)
        out: list[m.Stmt] = []
        for statement in statements:
            out.extend(self.statement(statement))
        return tuple(out)

    def statement(self, node: cst.CSTNode) -> list[m.Stmt]:
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            span = self.pos.span(node)
            self.parts.statement_lines.append((span.line, span.end_line))
            out: list[m.Stmt] = []
            for small in node.body:
                out.extend(self.small_statement(small))
            return out
        method = getattr(self, "_stmt_" + type(node).__name__, None)
        return method(node) if method is not None else []

    def small_statement(self, node: cst.BaseSmallStatement) -> list[m.Stmt]:
        span = self.pos.span(node)
        if isinstance(node, cst.Assign):
            value = self.expr(node.value)
            out = []
            for target in node.targets:
                out.append(self._assign(target.target, value, span))
            return out
        if isinstance(node, cst.AnnAssign):
            if node.value is None:
                return []
            return [self._assign(node.target, self.expr(node.value), span)]
        if isinstance(node, cst.AugAssign):
            target = self._target_name(node.target)
            if target is None:
                return [m.ExprStmt(self.expr(node.value), span)]
            op = self._BINARY.get(type(node.operator).__mro__[0], "?")
            op = {
                cst.AddAssign: "+", cst.SubtractAssign: "-", cst.MultiplyAssign: "*",
                cst.DivideAssign: "/", cst.FloorDivideAssign: "//",
            }.get(type(node.operator), op)
            current = self.expr(node.target)
            return [m.Assign((target,), m.BinOp(op, current, self.expr(node.value), span), span)]
        if isinstance(node, cst.Expr):
            return [m.ExprStmt(self.expr(node.value), span)]
        if isinstance(node, cst.Return):
            return [m.Return(self.expr(node.value) if node.value is not None else None, span)]
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = _dotted(alias.name)
                if alias.asname is not None:
                    bound = alias.asname.name.value
                else:
                    bound = dotted.split(".")[0]
                self.parts.imports.append(m.Import(dotted, None, bound, 0, span))
            return []
        if isinstance(node, cst.ImportFrom):
            self._import_from(node, span)
            return []
        return []

    def _import_from(self, node: cst.ImportFrom, span: m.Span) -> None:
        module = _dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            self.parts.imports.append(m.Import(module, "*", "*", level, span))
            return
        for alias in node.names:
            name = _dotted(alias.name)
            bound = alias.asname.name.value if alias.asname is not None else name
            self.parts.imports.append(m.Import(module, name, bound, level, span))

    def _target_name(self, target: cst.BaseExpression) -> str | None:
        if isinstance(target, cst.Name):
            return target.value
        if isinstance(target, cst.Attribute):
            base = self._target_name(target.value)
            return f"{base}.{target.attr.value}" if base else None
        return None

    def _assign(self, target: cst.BaseExpression, value: m.Expr, span: m.Span) -> m.Stmt:
        if isinstance(target, (cst.Tuple, cst.List)):
            names = tuple(self._target_name(el.value) or "_" for el in target.elements)
            return m.Assign(names, value, span, unpack=True)
        name = self._target_name(target)
        if isinstance(target, cst.Subscript):
            place = self._expr_Subscript(target)
            return m.ExprStmt(m.Call(m.Attr(place.value, m.SETITEM, place.span), (place.index, value), (), span, place.span), span)
        if name is None:
            return m.ExprStmt(value, span)
        return m.Assign((name,), value, span)

    def _stmt_If(self, node: cst.If) -> list[m.Stmt]:
        bodies = [node.body]
        elif_tests: list[m.Expr] = []
        exhaustive = False
        orelse = node.orelse
        while orelse is not None:
            if isinstance(orelse, cst.If):
                bodies.append(orelse.body)
                elif_tests.append(self.expr(orelse.test))
                orelse = orelse.orelse
            else:
                bodies.append(orelse.body)
                exhaustive = True
                orelse = None
        return [self._branch(bodies, node, exhaustive, self.expr(node.test), tuple(elif_tests))]

    def _branch(self, bodies: list, node: cst.CSTNode, exhaustive: bool, test: m.Expr | None = None,
                elif_tests: tuple[m.Expr, ...] | None = None) -> m.Branch:
        """`elif_tests` given: an if chain (`Branch.conditional`)."""
        arms = tuple(self.block(body) for body in bodies)
        terminal = tuple(index for index, body in enumerate(bodies) if _ends_flow(body))
        return m.Branch(arms, self.pos.span(node), test, exhaustive, terminal, elif_tests is not None, elif_tests or ())

    def _stmt_For(self, node: cst.For) -> list[m.Stmt]:
        target = node.target
        if isinstance(target, (cst.Tuple, cst.List)):
            names = tuple(self._target_name(el.value) or "_" for el in target.elements)
        else:
            names = (self._target_name(target) or "_",)
        loop = m.For(names, self.expr(node.iter), self.block(node.body), self.pos.span(node))
        out: list[m.Stmt] = [loop]
        if node.orelse is not None:
            out.extend(self.block(node.orelse.body))
        return out

    def _stmt_While(self, node: cst.While) -> list[m.Stmt]:
        return [self._branch([node.body], node, False, self.expr(node.test))]

    def _stmt_Try(self, node: cst.Try) -> list[m.Stmt]:
        bodies = [node.body, *(handler.body for handler in node.handlers)]
        out: list[m.Stmt] = [self._branch(bodies, node, True)]
        if node.orelse is not None:
            out.extend(self.block(node.orelse.body))
        if node.finalbody is not None:
            out.extend(self.block(node.finalbody.body))
        return out

    def _stmt_With(self, node: cst.With) -> list[m.Stmt]:
        out: list[m.Stmt] = []
        for item in node.items:
            if item.asname is not None:
                out.append(self._assign(item.asname.name, self.expr(item.item), self.pos.span(item)))
            else:
                out.append(m.ExprStmt(self.expr(item.item), self.pos.span(item)))
        out.extend(self.block(node.body))
        return out

    def _stmt_Match(self, node) -> list[m.Stmt]:
        return [self._branch([case.body for case in node.cases], node, False, self.expr(node.subject))]

    def _stmt_FunctionDef(self, node: cst.FunctionDef) -> list[m.Stmt]:
        # A def nested in a function or block: analysed on its own, as a module-level function.
        self.parts.functions.append(self.function(node, self.module_name, None))
        return []

    def _stmt_ClassDef(self, node: cst.ClassDef) -> list[m.Stmt]:
        self.parts.classes.append(self.klass(node, self.module_name))
        return []

    # ------------------------------------------------------------ definitions

    def params(self, node: cst.Parameters) -> tuple[m.Param, ...]:
        out: list[m.Param] = []
        for param in (*node.posonly_params, *node.params):
            out.append(self._param(param, "positional"))
        if isinstance(node.star_arg, cst.Param):
            out.append(self._param(node.star_arg, "varargs"))
        for param in node.kwonly_params:
            out.append(self._param(param, "keyword"))
        if node.star_kwarg is not None:
            out.append(self._param(node.star_kwarg, "varkw"))
        return tuple(out)

    def _param(self, param: cst.Param, kind: str) -> m.Param:
        default = self.expr(param.default) if param.default is not None else None
        annotation = None
        if param.annotation is not None:
            annotation = _annotation_text(param.annotation.annotation)
        return m.Param(param.name.value, default, kind, annotation)

    def function(self, node: cst.FunctionDef, owner: str, class_name: str | None) -> m.Function:
        decorators = tuple(_dotted_or_empty(d.decorator) for d in node.decorators)
        params = self.params(node.params)
        is_static = "staticmethod" in decorators
        is_method = class_name is not None and not is_static and bool(params)
        self_name = params[0].name if is_method else None
        if is_method:
            params = params[1:]
        name = node.name.value
        is_entry = class_name is None and (
            name == "main" or any(d.split(".")[-1] in ENTRY_DECORATOR_SUFFIXES for d in decorators if d)
        )
        outer, self.class_scope = self.class_scope, None  # a method's body does not see the class's names
        try:
            body = self.block(node.body)
        finally:
            self.class_scope = outer
        return m.Function(
            name=name,
            qualname=f"{owner}.{name}",
            params=params,
            body=body,
            span=self.pos.span(node.name),
            is_method=is_method,
            self_name=self_name,
            is_entry=is_entry,
            decorators=decorators,
        )

    def klass(self, node: cst.ClassDef, owner: str) -> m.Class:
        qualname = f"{owner}.{node.name.value}"
        methods: list[m.Function] = []
        fields: list[tuple[str, m.Expr]] = []
        init_params: tuple[m.Param, ...] = ()
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        path = tuple(qualname[len(self.module_name) + 1:].split(".")) if qualname.startswith(self.module_name + ".") else None
        bound: set[str] = set()
        outer = self.class_scope
        for statement in body:
            # names bound earlier in the class body are its attributes there (and in default arguments)
            self.class_scope = (path, frozenset(bound)) if path and bound else None
            try:
                if isinstance(statement, cst.FunctionDef):
                    function = self.function(statement, qualname, node.name.value)
                    methods.append(function)
                    if function.name == "__init__":
                        init_params = function.params
                        fields.extend(_self_fields(function))
                elif isinstance(statement, cst.ClassDef):
                    self.parts.classes.append(self.klass(statement, qualname))
                else:
                    for lowered in self.statement(statement):
                        if isinstance(lowered, m.Assign) and not lowered.unpack:
                            fields.extend((target, lowered.value) for target in lowered.targets)
                            bound.update(target for target in lowered.targets if "." not in target)
            finally:
                self.class_scope = outer
        bases = tuple(_dotted_or_empty(arg.value) for arg in node.bases if arg.keyword is None)
        return m.Class(
            name=node.name.value,
            qualname=qualname,
            kind="class",
            bases=tuple(b for b in bases if b),
            methods=tuple(methods),
            fields=tuple(fields),
            init_params=init_params,
            span=self.pos.span(node.name),
        )

    def module_body(self, module: cst.Module) -> list[m.Stmt]:
        body: list[m.Stmt] = []
        for statement in module.body:
            if isinstance(statement, cst.FunctionDef):
                self.parts.functions.append(self.function(statement, self.module_name, None))
            elif isinstance(statement, cst.ClassDef):
                self.parts.classes.append(self.klass(statement, self.module_name))
            elif isinstance(statement, cst.If) and _is_main_guard(statement.test):
                self.parts.functions.append(
                    m.Function(
                        name="<main>",
                        qualname=f"{self.module_name}.<main>",
                        params=(),
                        body=self.block(statement.body),
                        span=self.pos.span(statement),
                        is_entry=True,
                    )
                )
            else:
                body.extend(self.statement(statement))
        return body


def _ends_flow(body) -> bool:
    """A block whose last statement is `return` or `raise`: nothing after the branch follows it."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else getattr(body, "body", ())
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) and last.body:
        return isinstance(last.body[-1], (cst.Return, cst.Raise))
    return False


def _self_fields(init: m.Function) -> list[tuple[str, m.Expr]]:
    prefix = f"{init.self_name}."
    fields = []
    for statement in init.body:
        if isinstance(statement, m.Assign) and not statement.unpack:
            for target in statement.targets:
                if target.startswith(prefix) and target.count(".") == 1:
                    fields.append((target[len(prefix):], statement.value))
    return fields


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    names = {_dotted_or_empty(left), _dotted_or_empty(right)}
    strings = {getattr(n, "evaluated_value", None) for n in (left, right) if isinstance(n, cst.SimpleString)}
    return "__name__" in names and "__main__" in strings


def _dotted(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    raise ValueError("not a dotted name")


def _dotted_or_empty(node) -> str:
    if isinstance(node, cst.Call):
        node = node.func
    try:
        return _dotted(node)
    except ValueError:
        return ""


def _annotation_text(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    dotted = _dotted_or_empty(node)
    return dotted.split(".")[-1] if dotted else None


def _suppressions(source: bytes, statement_lines: list[tuple[int, int]]) -> tuple[m.Suppression, ...]:
    if b"noqa" not in source and b"NOQA" not in source:
        return ()
    found = []
    for line, col, comment in _comments(source):
        match = NOQA_RE.search(comment)
        if match is None:
            continue
        codes = tuple(code.strip().upper() for code in match.group(1).split(","))
        innermost = None
        for start, end in statement_lines:
            if start <= line <= end and (innermost is None or end - start < innermost[1] - innermost[0]):
                innermost = (start, end)
        first, last = innermost or (line, line)
        found.append(m.Suppression(codes, line, col + match.start(), first, last))
    return tuple(found)


def _comments(source: bytes) -> list[tuple[int, int, str]]:
    """(line, column, text) of every comment: a `noqa` inside a string or docstring is no
    suppression. Only run on files that mention noqa at all."""
    tokens = tokenize.tokenize(io.BytesIO(source).readline)
    try:
        return [(token.start[0], token.start[1] + 1, token.string) for token in tokens if token.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return []


def _byte_spans(tree: cst.Module):
    """Byte spans of every node. `MetadataWrapper.resolve` also walks the whole tree for
    batchable providers even when there are none (a third of the lowering time), so the
    provider's code generation is run directly, with the wrapper as the fallback."""
    provider = ByteSpanPositionProvider()
    try:
        provider._computed = {}
        provider._gen_impl(tree)
        return provider._computed
    except AttributeError:  # a libcst whose provider internals differ
        return MetadataWrapper(tree, unsafe_skip_copy=True).resolve(ByteSpanPositionProvider)


def _syntax_error_location(source: bytes, error: cst.ParserSyntaxError) -> tuple[str, m.Span]:
    """libcst's tokenizer errors point at 1:1; CPython's own parser (only run on this error
    path) usually knows the real line, so prefer it when it agrees the file is broken."""
    try:
        compile(source, "<checked file>", "exec", flags=0x400, dont_inherit=True)  # PyCF_ONLY_AST
    except SyntaxError as python_error:
        if python_error.lineno:
            line, col = python_error.lineno, max(python_error.offset or 1, 1)
            return f"syntax error: {python_error.msg}", m.Span(line, col, line, col)
    except (ValueError, RecursionError, MemoryError):
        pass
    message = str(getattr(error, "message", "") or str(error).splitlines()[0])
    return f"syntax error: {message}", m.Span(error.raw_line, error.raw_column + 1, error.raw_line, error.raw_column + 1)


# A notebook's IPython magic or shell escape at the start of a line (`%pip install x`, `!ls`,
# kept as they are in Databricks and Jupyter notebooks saved as .py files): no Python statement
# starts so. Tried only when a file does not parse, as comments of the same length.
_MAGIC_LINE = re.compile(rb"^([ \t]*)[%!]", re.MULTILINE)


def _without_magics(source: bytes) -> bytes | None:
    plain = _MAGIC_LINE.sub(rb"\1#", source)
    return plain if plain != source else None


def _parsed(source: bytes) -> tuple[cst.Module | None, cst.ParserSyntaxError | None]:
    try:
        return cst.parse_module(source), None
    except cst.ParserSyntaxError as error:
        return None, error


def lower_python(rel_path: str, source: bytes) -> m.Module:
    """Lower one Python file. Never raises: a syntax error becomes a `ParseError` on the module."""
    module_name, is_init = module_name_for(rel_path)
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        plain = _without_magics(source)
        tree, later = _parsed(plain) if plain is not None else (None, None)
        if tree is None:
            message, span = _syntax_error_location(source, error)
            if later is not None:  # a notebook's own syntax error lies past its magics
                later_message, later_span = _syntax_error_location(plain, later)
                if later_span.line > span.line:
                    message, span = later_message, later_span
            return m.Module(
                path=rel_path, language="python", name=module_name, namespace=module_name,
                parse_errors=(m.ParseError(message, span),),
                line_count=source.count(b"\n") + 1, is_package_init=is_init,
            )
        source = plain
    positions = _Positions(source, _byte_spans(tree))
    lowerer = _Lowerer(module_name, positions)
    body = lowerer.module_body(tree)
    parts = lowerer.parts
    return m.Module(
        path=rel_path,
        language="python",
        name=module_name,
        namespace=module_name,
        imports=tuple(parts.imports),
        functions=tuple(parts.functions),
        classes=tuple(parts.classes),
        body=tuple(body),
        suppressions=_suppressions(source, parts.statement_lines),
        line_count=positions.line_count,
        is_package_init=is_init,
    )
