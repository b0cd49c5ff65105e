"""The Scala front end: tree-sitter-scala syntax trees lowered into sparklint's model.

`lower_scala(rel_path, source)` parses one file once and returns a `model.Module`; it never
raises (an internal error becomes a `ParseError` on the module). The lowering follows the
conventions in `sparklint/model.py`:

- packages: `Module.namespace` is the package, `Module.name` the package plus the file stem;
  chained clauses (`package a.b; package c`) make `a.b` visible too;
- `object` / `class` / `trait` become `Class` values (nested ones flattened, dotted qualnames),
  methods become `Function(is_method=True, self_name="this")`, bare references to members of
  the enclosing class (or of its companion, or of a trait defined in the same file) become
  `Attr(Name("this"), member)`;
- statements of an object body become an `<init>` method (the entry point for `extends App`);
- `implicit class X(df: DataFrame)` becomes `Class(extension=True)`, Scala 3 `extension (df: T)`
  methods carry `extension_receiver`;
- if / match / try become `Branch`; blocks used as values are hoisted before their use;
  expressions that need hoisting inside an expression assign a temporary named `$tN`;
- `$"c"` and `'c` become `Call(Name("$col"), (Const("c"),))`; string interpolation is `Opaque`.

Choices the model leaves open, made here:

- the companion object of a class or trait defined in the same scope is its own object
  `Class(kind="object", name="C$", qualname="<pkg>.C$")` (model.COMPANION_SUFFIX); the interpreter
  resolves `C.member` to it first, `C(...)` / `new C(...)` to the class, and a bare companion
  member inside the class is lowered as `this.member` (it falls back to the companion);
- valid Scala the grammar rejects (`using` as an identifier, keyword symbol literals such as
  `'new`, a postfix operator ending the line before `else`) is rewritten into same-length
  text before parsing (see `_neutralised`): spans stay exact, names come from the source;
- a local `def` inside a method is lifted to a method named `<outer>$<name>` (a function of
  the module at top level) and references to it use that name;
- inside a class extending a project trait, a bare call of an unknown lower-case name that
  is not imported and not a well-known Spark/Scala function is an inherited method:
  `helper(df)` -> `this.helper(df)`;
- a lambda body with statements is hoisted as a `Branch` arm (its parameters bound to
  `Opaque`) so writes inside closures are seen; placeholder arguments (`_.coalesce(2)`)
  and method values (`f _`) are functions;
- `if / else if / else` chains are one flat `Branch`, like Python's `elif`.

Long method chains, operator chains and else-if chains are walked with explicit loops, so
their length is not limited by Python's recursion limit; a file nested deeper than that
(hundreds of levels of blocks) yields a module with a parse error instead of a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

import tree_sitter
import tree_sitter_scala

from sparklint import model as m

__all__ = ["lower_scala"]

# A companion object (`object C` next to `class C` / `trait C`) is lowered as the object `C$`
# (model.COMPANION_SUFFIX); the interpreter resolves `C.member` to it first and `C(...)` /
# `new C(...)` to the class.


@lru_cache(maxsize=1)
def _scala_language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_scala.language())


# Operators whose Scala spelling differs from the model's (Python) spelling.
_OPERATOR_SPELLING: dict[str, str] = {"===": "==", "=!=": "!=", "&&": "&", "||": "|", "<=>": "=="}
_PREFIX_SPELLING: dict[str, str] = {"!": "not", "-": "-", "~": "~", "+": "+"}

# Bare collection constructors lowered as literal collections.
_COLLECTION_KINDS: dict[str, str] = {
    "Seq": "seq", "List": "seq", "Array": "seq", "Vector": "seq", "IndexedSeq": "seq",
    "Set": "set", "Map": "dict",
    "Some": "seq",  # an Option holding one item: `stats.foreach(...)` runs on it
}

# Bases that add no project members: a bare call in a class extending only these is never
# an inherited method.
_LIBRARY_BASES = frozenset({
    "App", "AnyVal", "AnyRef", "Any", "Serializable", "java.io.Serializable", "Product",
    "Equals", "Logging", "LazyLogging", "StrictLogging", "Exception", "RuntimeException",
    "Throwable", "Ordered", "Comparable", "Function1", "Function2", "Runnable",
})

# Names a bare call never means as an inherited method (Scala's Predef and Spark's
# `functions._`): these stay `Name`s even inside classes with project bases.
_WELL_KNOWN_FUNCTIONS = frozenset("""
println print printf require assert assume identity implicitly locally classOf Some None Option
Seq List Array Vector Map Set Tuple2 Tuple3 Nil Left Right Try Success Failure Future
col column lit expr when coalesce broadcast udf struct array map concat concat_ws lower upper
trim ltrim rtrim length substring regexp_replace regexp_extract split explode explode_outer
posexplode sum count countDistinct count_distinct avg mean min max first last collect_list
collect_set approx_count_distinct current_date current_timestamp to_date to_timestamp
date_format date_add date_sub datediff year month dayofmonth hour minute second from_json
to_json get_json_object nullif isnull isnan nanvl greatest least abs round floor ceil sqrt
hash md5 sha1 sha2 crc32 xxhash64 monotonically_increasing_id row_number rank dense_rank
lag lead window asc desc asc_nulls_first desc_nulls_last typedLit array_contains size
element_at format_string unix_timestamp from_unixtime input_file_name spark_partition_id
rand randn sort_array array_distinct flatten filter transform aggregate exists forall
""".split())

_NOQA = re.compile(rb"//[ \t]*noqa(?::[ \t]*([A-Za-z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Za-z]+[0-9]+)*))?",
                   re.IGNORECASE)
_NOQA_CODE = re.compile(r"[A-Za-z]+[0-9]+")

_BLOCKS = frozenset({"block", "indented_block"})
_DEFINITIONS = frozenset({
    "object_definition", "class_definition", "trait_definition", "package_object",
    "enum_definition",
})
_SKIPPED = frozenset({
    "comment", "block_comment", "type_definition", "given_definition", "function_declaration",
    "val_declaration", "var_declaration", "end_marker", "export_declaration",
    "enum_case_definitions", "using_directive", "annotation", "modifiers",
})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0",
            '"': '"', "'": "'", "\\": "\\"}


# Valid Scala that tree-sitter-scala does not parse (or parses wrongly). Before parsing, these
# constructs are rewritten into same-length text the grammar accepts, so every byte offset,
# line and column stays exact; names are always read from the original source.
# - `using` as an identifier (Scala 2; a Scala 3 soft keyword only before a name or type):
#   `@JsonSerialize(using = classOf[X])`, `def f(using: Int)`, `using + 1` -> `usinQ`.
_USING_IDENTIFIER = re.compile(
    rb"(?<![\w$])using(?![\w$])(?=[ \t]*(?:=(?!>)|[:),.\]};+\-*/%<>!&|^]))")
# - a symbol literal whose name is a keyword (`'new`, `'type`): the name becomes `nQQ`, `tQQQ`.
_KEYWORD_SYMBOL = re.compile(
    rb"(?<![\w$'])'(abstract|case|catch|class|def|do|else|enum|export|extends|false|final"
    rb"|finally|for|forSome|given|if|implicit|import|lazy|macro|match|new|null|object|override"
    rb"|package|private|protected|return|sealed|super|then|this|throw|trait|try|true|type|val"
    rb"|var|while|with|yield)(?![\w$'])")
# - a symbolic postfix operator ending a line whose next code line starts with `else`
#   (`if (c) cmd !` / `else ...`): the space before the operator becomes `.` (`cmd.!`, the same
#   member selection). An operator there cannot be infix: `else` is no operand.
_POSTFIX_BEFORE_ELSE = re.compile(
    rb"(?<=[\w)\]}\"'`])[ \t]+(?=(?!//|/\*)[!#%&*+\-/:<=>?@\\^|~]+[ \t]*(?://[^\n]*)?\r?\n"
    rb"(?:[ \t]*(?://[^\n]*)?\r?\n)*[ \t]*else(?![\w$]))")
# What that needs at the least (an operator character, then the lines up to `else`): three
# times quicker to rule out, and no file of Spark's Scala sources has the construct.
_OPERATOR_BEFORE_ELSE = re.compile(
    rb"[!#%&*+\-/:<=>?@\\^|~][ \t]*(?://[^\n]*)?\r?\n(?:[ \t]*(?://[^\n]*)?\r?\n)*[ \t]*else(?![\w$])")


def _neutralised(source: bytes) -> bytes:
    """`source` with the constructs above rewritten for the parser; the same length, the same
    line breaks."""
    if b"using" in source:
        source = _USING_IDENTIFIER.sub(b"usinQ", source)
    if b"'" in source:
        source = _KEYWORD_SYMBOL.sub(
            lambda match: b"'" + match.group(1)[:1] + b"Q" * (len(match.group(1)) - 1), source)
    if b"else" in source and _OPERATOR_BEFORE_ELSE.search(source):
        source = _POSTFIX_BEFORE_ELSE.sub(
            lambda match: match.group(0)[:-1] + b".", source)
    return source


def lower_scala(rel_path: str, source: bytes) -> m.Module:
    """Parse one Scala file and lower it into the model. Never raises."""
    try:
        return _Lowerer(rel_path, source).module()
    except RecursionError:
        return _failed_module(rel_path, source, "file nested too deeply to analyse")
    except Exception as error:  # noqa: BLE001 - the contract is "never raise"
        return _failed_module(rel_path, source, f"internal error in the Scala front end: "
                                                f"{type(error).__name__}: {error}")


def _line_count(source: bytes) -> int:
    return source.count(b"\n") + (0 if source.endswith(b"\n") or not source else 1)


def _failed_module(rel_path: str, source: bytes, message: str) -> m.Module:
    stem = PurePosixPath(rel_path).stem
    return m.Module(
        path=rel_path, language="scala", name=stem, namespace="", visible_namespaces=("",),
        parse_errors=(m.ParseError(message, m.Span(1, 1, 1, 1), "limit"),),
        line_count=_line_count(source),
    )


# ---------------------------------------------------------------- scopes


@dataclass(slots=True)
class _ClassFrame:
    """What a bare name means inside one class/object body."""

    qualname: str
    # dotted path of an object from its package (`Outer.Inner`), "" for non-objects
    object_path: str
    members: set[str]
    # nested classes/objects by name -> their dotted path from the package
    nested: dict[str, str]
    # the class extends something defined elsewhere in the project: a bare call that is
    # not local, not a member and not a known function is an inherited method
    inherits_project_members: bool


@dataclass(slots=True)
class _Locals:
    """Names bound in a block, a parameter list or a pattern. A value is an alias: local
    `def`s are lifted to methods / module functions under a mangled name."""

    names: dict[str, m.Expr | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Sink:
    """What to do with the value of an expression in tail position."""

    kind: str  # "discard", "return", "assign"
    targets: tuple[str, ...] = ()

    def make(self, value: m.Expr, span: m.Span) -> m.Stmt:
        if self.kind == "return":
            return m.Return(value, span)
        if self.kind == "assign":
            return m.Assign(self.targets, value, span)
        return m.ExprStmt(value, span)


_DISCARD = _Sink("discard")
_RETURN = _Sink("return")


class _Lowerer:
    def __init__(self, rel_path: str, source: bytes) -> None:
        self.rel_path = rel_path
        self.source = source
        self.all_ascii = source.isascii()
        self.lines = source.split(b"\n")
        self.tree = tree_sitter.Parser(_scala_language()).parse(_neutralised(source))
        self.scopes: list[_Locals | _ClassFrame] = []
        self.imports: list[m.Import] = []
        self.explicit_imports: set[str] = set()
        self.statement_ranges: list[tuple[int, int]] = []
        self.temp_counter = 0
        self.package = ""
        self.visible: list[str] = []
        self.module_functions: list[m.Function] = []
        self.module_classes: list[m.Class] = []
        self.module_body: list[m.Stmt] = []
        # members of classes/objects/traits defined in this file, by simple name and qualname
        self.file_members: dict[str, set[str]] = {}
        # local `def`s lifted out of the function being lowered (see `_local_def`)
        self.lifted: list[m.Function] = []
        # names of the functions being lowered, innermost last (mangles lifted local defs)
        self.function_names: list[str] = []

    # ------------------------------------------------------------ module

    def module(self) -> m.Module:
        root = self.tree.root_node
        self._collect_file_members(root)
        self._lower_unit_items(root.named_children, "")
        if not self.visible:
            self.visible.append(self.package)
        self.module_functions.extend(self.lifted)  # local defs of top-level statements
        stem = PurePosixPath(self.rel_path).stem
        return m.Module(
            path=self.rel_path,
            language="scala",
            name=f"{self.package}.{stem}" if self.package else stem,
            namespace=self.package,
            imports=tuple(self.imports),
            functions=tuple(self.module_functions),
            classes=tuple(self.module_classes),
            body=tuple(self.module_body),
            visible_namespaces=tuple(dict.fromkeys(reversed(self.visible))),
            suppressions=self._suppressions(),
            parse_errors=self._parse_errors(root),
            line_count=_line_count(self.source),
        )

    def _lower_unit_items(self, items: list[tree_sitter.Node], package: str) -> None:
        """Top-level items of a compilation unit or of a `package p { ... }` block."""
        for item in items:
            kind = item.type
            if kind == "package_clause":
                name = self._text(item.child_by_field_name("name"))
                inner = f"{package}.{name}" if package else name
                body = item.child_by_field_name("body")
                if body is None:
                    # `package a.b` then `package c`: members of a.b and a.b.c are visible.
                    package = inner
                    self.package = inner
                    self.visible.append(inner)
                else:
                    if not self.package:
                        self.package = inner
                        self.visible.append(inner)
                    self._lower_unit_items(body.named_children, inner)
            elif kind == "ERROR":
                self._lower_unit_items(item.named_children, package)
            elif kind == "import_declaration":
                self._import(item)
            elif kind in _DEFINITIONS:
                self.module_classes.extend(self._definition(item, package, ""))
            elif kind == "function_definition":
                self.module_functions.extend(self._function(item, package, is_method=False))
            elif kind == "extension_definition":
                self.module_functions.extend(self._extension(item, package, is_method=False))
            elif kind in _SKIPPED:
                continue
            else:
                self._statement(item, self.module_body)

    def _collect_file_members(self, root: tree_sitter.Node) -> None:
        """Member names of every class-like definition in the file, for companions and
        same-file traits. Walks definitions only (an explicit stack)."""
        stack = [root]
        while stack:
            node = stack.pop()
            for child in node.named_children:
                kind = child.type
                if kind in _DEFINITIONS:
                    name = self._text(child.child_by_field_name("name"))
                    body = child.child_by_field_name("body")
                    members = self.file_members.setdefault(name, set())
                    members.update(_parameter_names(child, self.source))
                    if body is not None:
                        members.update(self._member_names(body))
                        stack.append(body)
                elif kind in ("package_clause", "ERROR", "template_body"):
                    stack.append(child)

    def _member_names(self, body: tree_sitter.Node) -> set[str]:
        names: set[str] = set()
        for child in body.named_children:
            kind = child.type
            if kind in ("function_definition", "function_declaration"):
                names.add(self._text(child.child_by_field_name("name")))
            elif kind in ("val_definition", "var_definition", "val_declaration",
                          "var_declaration"):
                names.update(self._pattern_names(child.child_by_field_name("pattern")))
            elif kind == "extension_definition":
                continue
        return names

    # ------------------------------------------------------------ imports

    def _import(self, node: tree_sitter.Node) -> None:
        """`import a.b.C`, `a.b.{C, D => E}`, `a.b._`, `a.b.*`, `a.b.C as D`, `a.b, c.d`.
        Imports inside blocks land here too: their scope is approximated by the file."""
        span = self._span(node)
        segments: list[str] = []
        for child in node.children:
            kind = child.type
            if kind == "identifier":
                segments.append(self._text(child))
            elif kind == ",":
                self._import_path(segments, span)
                segments = []
            elif kind == "namespace_wildcard":
                self._add_import(".".join(segments), "*", "*", span)
                segments = []
            elif kind == "as_renamed_identifier":
                self._import_renamed(".".join(segments), child, span)
                segments = []
            elif kind == "namespace_selectors":
                self._import_selectors(".".join(segments), child, span)
                segments = []
        if segments:
            self._import_path(segments, span)

    def _import_path(self, segments: list[str], span: m.Span) -> None:
        if segments:
            self._add_import(".".join(segments[:-1]), segments[-1], segments[-1], span)

    def _import_selectors(self, module: str, node: tree_sitter.Node, span: m.Span) -> None:
        for selector in node.named_children:
            kind = selector.type
            if kind == "identifier":
                name = self._text(selector)
                self._add_import(module, name, name, span)
            elif kind == "namespace_wildcard":
                if self._text(selector) in ("_", "*"):
                    self._add_import(module, "*", "*", span)
            elif kind in ("arrow_renamed_identifier", "as_renamed_identifier"):
                self._import_renamed(module, selector, span)

    def _import_renamed(self, module: str, node: tree_sitter.Node, span: m.Span) -> None:
        name = self._text(node.child_by_field_name("name"))
        alias_node = node.child_by_field_name("alias")
        alias = self._text(alias_node) if alias_node is not None else name
        if alias != "_":  # `C => _` hides C
            self._add_import(module, name, alias, span)

    def _add_import(self, module: str, name: str, alias: str, span: m.Span) -> None:
        self.imports.append(m.Import(module, name, alias, 0, span))
        if alias != "*":
            self.explicit_imports.add(alias)

    # ------------------------------------------------------------ definitions

    def _definition(self, node: tree_sitter.Node, package: str, outer_path: str) -> list[m.Class]:
        """An object, class, trait (or enum / package object) and its nested definitions,
        flattened. `outer_path` is the dotted path of the enclosing definitions."""
        kind = node.type
        name = self._text(node.child_by_field_name("name"))
        path = f"{outer_path}.{name}" if outer_path else name
        qualname = f"{package}.{path}" if package else path
        modifiers = self._modifiers(node)
        class_kind = {"object_definition": "object", "package_object": "object",
                      "trait_definition": "trait"}.get(kind, "class")
        if kind == "object_definition" and self._has_companion_class(node, name):
            # the companion object of a class or trait: its own object `C$` (nested
            # definitions keep their path `C.Inner`, reached through the class)
            name += m.COMPANION_SUFFIX
            qualname += m.COMPANION_SUFFIX
        bases = self._bases(node)
        init_params = self._class_params(node)
        body = node.child_by_field_name("body")
        body_items = list(body.named_children) if body is not None else []

        members = set(self.file_members.get(name.removesuffix(m.COMPANION_SUFFIX), ()))
        for base in bases:
            members.update(self.file_members.get(base.rsplit(".", 1)[-1], ()))
        nested = {self._text(item.child_by_field_name("name")): f"{path}."
                  f"{self._text(item.child_by_field_name('name'))}"
                  for item in body_items if item.type in _DEFINITIONS}
        frame = _ClassFrame(
            qualname=qualname,
            object_path=path if class_kind == "object" else "",
            members=members,
            nested=nested,
            inherits_project_members=any(
                base not in _LIBRARY_BASES and base.rsplit(".", 1)[-1] not in _LIBRARY_BASES
                for base in bases),
        )

        methods: list[m.Function] = []
        fields: list[tuple[str, m.Expr]] = [(p.name, m.Name(p.name)) for p in init_params]
        init_body: list[m.Stmt] = []
        has_statements = False
        nested_classes: list[m.Class] = []
        self.scopes.append(frame)
        try:
            for item in body_items:
                item_kind = item.type
                if item_kind == "function_definition":
                    methods.extend(self._function(item, qualname, is_method=True,
                                                  in_object=class_kind == "object"))
                elif item_kind == "extension_definition":
                    methods.extend(self._extension(item, qualname, is_method=True))
                elif item_kind in _DEFINITIONS:
                    nested_classes.extend(self._definition(item, package, path))
                elif item_kind == "import_declaration":
                    self._import(item)
                elif item_kind in ("val_definition", "var_definition"):
                    self._record_statement(item)
                    hoisted: list[m.Stmt] = []
                    value = self._field_value(item, hoisted)
                    if hoisted:
                        value = m.Opaque(self._span(item), "value computed by statements")
                    fields.extend(self._field_entries(item, value))
                    self._statement(item, init_body, member_targets=True)
                    has_statements = has_statements or bool(hoisted)
                elif item_kind in _SKIPPED:
                    continue
                else:
                    self._statement(item, init_body)
                    has_statements = True
        finally:
            self.scopes.pop()

        is_app = "App" in bases
        if has_statements or is_app:
            methods.append(m.Function(
                name="<init>", qualname=f"{qualname}.<init>", params=(),
                body=tuple(init_body), span=self._span(node), is_method=True,
                self_name="this", is_entry=is_app and class_kind == "object"))
        cls = m.Class(
            name=name, qualname=qualname, kind=class_kind, bases=bases,
            methods=tuple(methods), fields=tuple(fields), init_params=init_params,
            span=self._span(node), extension="implicit" in modifiers and class_kind == "class",
        )
        self._record_definition(node, body)
        return [cls, *nested_classes]

    def _has_companion_class(self, node: tree_sitter.Node, name: str) -> bool:
        """A class, case class, trait or enum of the same name in the same scope."""
        parent = node.parent
        while parent is not None and parent.type == "ERROR":
            parent = parent.parent
        if parent is None:
            return False
        stack = list(parent.named_children)
        while stack:
            sibling = stack.pop()
            if sibling.type == "ERROR":
                stack.extend(sibling.named_children)
            elif (sibling.type in ("class_definition", "trait_definition", "enum_definition")
                    and self._text(sibling.child_by_field_name("name")) == name):
                return True
        return False

    def _field_entries(self, item: tree_sitter.Node, value: m.Expr
                       ) -> list[tuple[str, m.Expr]]:
        """`val a = v` -> [(a, v)]; `val (a, b) = (x, y)` -> [(a, x), (b, y)]."""
        pattern = item.child_by_field_name("pattern")
        names = self._pattern_names(pattern)
        if len(names) == 1 and pattern is not None and pattern.type == "identifier":
            return [(names[0], value)]
        if (pattern is not None and pattern.type == "tuple_pattern"
                and isinstance(value, m.Seq) and value.kind == "tuple"
                and len(value.items) == len(names) == pattern.named_child_count):
            return list(zip(names, value.items))
        return [(name, m.Opaque(self._span(item), "pattern")) for name in names]

    def _field_value(self, item: tree_sitter.Node, hoisted: list[m.Stmt]) -> m.Expr:
        value_node = item.child_by_field_name("value")
        if value_node is None:
            return m.Opaque(self._span(item), "abstract member")
        return self._placeholders(self._expr(value_node, hoisted), value_node)

    def _modifiers(self, node: tree_sitter.Node) -> set[str]:
        found: set[str] = set()
        for child in node.children:
            if child.type == "modifiers":
                found.update(self._text(token) for token in child.children)
            elif child.type in ("case", "implicit"):
                found.add(child.type)
        return found

    def _annotations(self, node: tree_sitter.Node) -> tuple[str, ...]:
        names = []
        for child in node.children:
            if child.type == "annotation":
                name = child.child_by_field_name("name")
                if name is not None:
                    names.append(self._text(name))
        return tuple(names)

    def _bases(self, node: tree_sitter.Node) -> tuple[str, ...]:
        extend = node.child_by_field_name("extend")
        if extend is None:
            return ()
        bases = []
        for child in extend.named_children:
            kind = child.type
            if kind in ("type_identifier", "stable_type_identifier"):
                bases.append(self._text(child))
            elif kind == "generic_type":
                base = child.child_by_field_name("type")
                if base is not None:
                    bases.append(self._text(base))
            elif kind == "compound_type":
                bases.extend(self._text(part) for part in child.named_children
                             if part.type in ("type_identifier", "stable_type_identifier"))
        return tuple(bases)

    def _class_params(self, node: tree_sitter.Node) -> tuple[m.Param, ...]:
        params: list[m.Param] = []
        for child in node.children_by_field_name("class_parameters"):
            for param in child.named_children:
                if param.type == "class_parameter":
                    params.append(self._param(param, kind_of_list="positional"))
        return tuple(params)

    def _param(self, node: tree_sitter.Node, kind_of_list: str) -> m.Param:
        name = self._text(node.child_by_field_name("name"))
        type_node = node.child_by_field_name("type")
        annotation = None
        kind = kind_of_list
        if type_node is not None:
            if type_node.type == "repeated_parameter_type":
                kind = "varargs"
                inner = type_node.child_by_field_name("type")
                annotation = self._text(inner) if inner is not None else None
            else:
                annotation = self._text(type_node)
        default_node = node.child_by_field_name("default_value")
        default = None
        if default_node is not None:
            default = self._expr(default_node, [])
        return m.Param(name, default, kind, annotation)

    def _function(self, node: tree_sitter.Node, owner: str, is_method: bool,
                  in_object: bool = False, receiver: str | None = None,
                  lifted_name: str | None = None) -> list[m.Function]:
        """A `def`: parameter lists concatenated; the body's value is returned. Local
        `def`s inside it are lifted (named `lifted_name`) and returned after it."""
        name = lifted_name or self._text(node.child_by_field_name("name"))
        params: list[m.Param] = []
        for plist in node.children_by_field_name("parameters"):
            for param in plist.named_children:
                if param.type == "parameter":
                    params.append(self._param(param, kind_of_list="positional"))
        decorators = self._annotations(node)
        is_entry = lifted_name is None and (
            any(decorator in ("main", "scala.main") for decorator in decorators) or (
            in_object and name == "main" and len(params) == 1
            and (params[0].annotation or "").replace(" ", "") == "Array[String]"))
        body_node = node.child_by_field_name("body")
        qualname = f"{owner}.{name}" if owner else name
        scope = _Locals({p.name: None for p in params})
        if receiver is not None:
            scope.names[receiver] = None
        self.scopes.append(scope)
        self.function_names.append(name)
        lifted_start = len(self.lifted)
        body: list[m.Stmt] = []
        try:
            if body_node is not None:
                self._tail(body_node, _RETURN, body)
        finally:
            self.scopes.pop()
            self.function_names.pop()
        self._record_definition(node, body_node)
        function = m.Function(
            name=name, qualname=qualname, params=tuple(params), body=tuple(body),
            span=self._span(node), is_method=is_method,
            self_name="this" if is_method else None, extension_receiver=receiver,
            is_entry=is_entry, decorators=decorators)
        local_functions = self.lifted[lifted_start:]
        del self.lifted[lifted_start:]
        return [function, *local_functions]

    def _extension(self, node: tree_sitter.Node, owner: str, is_method: bool) -> list[m.Function]:
        """Scala 3 `extension (df: DataFrame) def f(...) = ...` (one or several defs)."""
        receiver: str | None = None
        for plist in node.children_by_field_name("parameters"):
            for param in plist.named_children:
                if param.type == "parameter" and receiver is None:
                    receiver = self._text(param.child_by_field_name("name"))
        if receiver is None:
            return []
        defs: list[tree_sitter.Node] = []
        for body in node.children_by_field_name("body"):
            if body.type == "function_definition":
                defs.append(body)
            else:
                defs.extend(child for child in body.named_children
                            if child.type == "function_definition")
        functions: list[m.Function] = []
        for definition in defs:
            functions.extend(self._function(definition, owner, is_method=is_method,
                                            receiver=receiver))
        return functions

    # ------------------------------------------------------------ statements

    def _statement(self, node: tree_sitter.Node, out: list[m.Stmt],
                   member_targets: bool = False) -> None:
        """Lower one statement into `out` (hoisted statements first)."""
        kind = node.type
        self._record_statement(node)
        if kind in ("val_definition", "var_definition"):
            self._val(node, out, member_targets)
        elif kind == "function_definition":
            self._local_def(node)
        elif kind == "import_declaration":
            self._import(node)
        elif kind in _SKIPPED or kind in _DEFINITIONS or kind == "extension_definition":
            return
        elif kind == "assignment_expression":
            self._assignment(node, out)
        elif kind == "call_expression" and self._foreach(node, out):
            return
        elif kind == "infix_expression" and self._compound_assignment(node, out):
            return
        elif kind == "for_expression":
            self._for(node, out, _DISCARD)
        elif kind == "ERROR":
            for child in node.named_children:
                self._statement(child, out)
        else:
            self._tail(node, _DISCARD, out)

    def _val(self, node: tree_sitter.Node, out: list[m.Stmt], member_targets: bool) -> None:
        pattern = node.child_by_field_name("pattern")
        value = node.child_by_field_name("value")
        names = self._pattern_names(pattern)
        prefix = "this." if member_targets else ""
        if not member_targets:
            self._bind(names)
        if value is None or not names:
            return
        targets = tuple(prefix + name for name in names)
        single = pattern is not None and pattern.type in ("identifier", "typed_pattern") \
            and len(names) == 1
        if single and value.type in ("call_expression", "field_expression"):
            # `val f: DataFrame => DataFrame = _.coalesce(2)` is a function value
            lowered = self._placeholders(self._expr(value, out), value)
            out.append(m.Assign(targets, lowered, self._span(node)))
        elif single:
            self._tail(value, _Sink("assign", targets), out)
        elif pattern is not None and pattern.type == "tuple_pattern" and all(
                item.type == "identifier" for item in pattern.named_children):
            out.append(m.Assign(targets, self._expr(value, out), self._span(node), unpack=True))
        else:
            self._expr(value, out)
            out.append(m.Assign(targets, m.Opaque(self._span(value), "pattern"),
                                self._span(node), unpack=len(targets) > 1))

    def _assignment(self, node: tree_sitter.Node, out: list[m.Stmt]) -> None:
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        target = self._target(left)
        if target is None and right is not None and left is not None and left.type == "call_expression":
            self._update(left, right, node, out)
            return
        if target is None or right is None:
            out.append(m.ExprStmt(m.Opaque(self._span(node), "assignment"), self._span(node)))
            return
        self._tail(right, _Sink("assign", (target,)), out)

    def _update(self, left: tree_sitter.Node, right: tree_sitter.Node, node: tree_sitter.Node,
                out: list[m.Stmt]) -> None:
        """`m(k) = v`, Scala's `m.update(k, v)` -> Call(Attr(m, SETITEM), (k, v))."""
        span = self._span(node)
        function = left.child_by_field_name("function")
        arguments = left.child_by_field_name("arguments")
        args, kwargs = self._arguments(arguments, out) if arguments is not None else ([], [])
        if function is None or len(args) != 1 or kwargs:
            out.append(m.ExprStmt(m.Opaque(span, "assignment"), span))
            return
        place = self._span(left)
        value = self._expr(right, out)
        out.append(m.ExprStmt(m.Call(m.Attr(self._expr(function, out), m.SETITEM, place), (args[0], value), (), span, place), span))

    def _compound_assignment(self, node: tree_sitter.Node, out: list[m.Stmt]) -> bool:
        """`x += 1` -> Assign(x, x + 1) (also `-=`, `++=`...)."""
        operator_node = node.child_by_field_name("operator")
        operator = self._text(operator_node)
        if (not operator.endswith("=") or operator in ("==", "!=", "<=", ">=", "===", "=!=")
                or len(operator) < 2):
            return False
        left = node.child_by_field_name("left")
        target = self._target(left)
        if target is None:
            return False
        span = self._span(node)
        value = m.BinOp(operator[:-1], self._expr(left, out),
                        self._expr(node.child_by_field_name("right"), out), span)
        out.append(m.Assign((target,), value, span))
        return True

    def _target(self, node: tree_sitter.Node | None) -> str | None:
        if node is None:
            return None
        if node.type == "identifier":
            expr = self._name(node)
            return _dotted(expr)
        if node.type == "field_expression":
            value = node.child_by_field_name("value")
            field_node = node.child_by_field_name("field")
            base = self._target(value)
            if base is not None and field_node is not None:
                return f"{base}.{self._text(field_node)}"
        return None

    def _local_def(self, node: tree_sitter.Node) -> None:
        """A `def` inside a block: lifted to the enclosing class (or the module) under the
        name `<outer>$<name>`; references to it in the block use that name."""
        name = self._text(node.child_by_field_name("name"))
        frame = self._class_frame()
        outer = self._current_function_name()
        mangled = f"{outer}${name}" if outer else name
        if frame is not None:
            alias: m.Expr = m.Attr(m.Name("this"), mangled)
            owner = frame.qualname
        else:
            alias = m.Name(mangled)
            owner = self.package
        self._bind([name], alias)
        self.lifted.extend(self._function(node, owner, is_method=frame is not None,
                                          lifted_name=mangled))

    def _foreach(self, node: tree_sitter.Node, out: list[m.Stmt]) -> bool:
        """`xs.foreach(x => body)` / `xs.foreach { x => ... }` as a statement -> For."""
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None or function.type != "field_expression":
            return False
        field_node = function.child_by_field_name("field")
        if field_node is None or self._text(field_node) != "foreach":
            return False
        lambda_node = _single_lambda(arguments)
        if lambda_node is None:
            return False
        params = self._lambda_params(lambda_node)
        body_node = _lambda_body(lambda_node)
        iterable = self._expr(function.child_by_field_name("value"), out)
        body: list[m.Stmt] = []
        self.scopes.append(_Locals({p: None for p in params}))
        try:
            if body_node is not None:
                self._tail(body_node, _DISCARD, body)
        finally:
            self.scopes.pop()
        out.append(m.For(tuple(params), iterable, tuple(body), self._span(node)))
        return True

    def _for(self, node: tree_sitter.Node, out: list[m.Stmt], sink: _Sink) -> None:
        """`for (x <- xs) body` -> For; other comprehensions -> the body as a Branch arm."""
        enumerators = [child for child in node.named_children if child.type == "enumerators"]
        body_node = node.child_by_field_name("body")
        items = enumerators[0].named_children if enumerators else []
        is_yield = any(child.type == "yield" for child in node.children)
        span = self._span(node)
        scope = _Locals()
        self.scopes.append(scope)
        try:
            if (len(items) == 1 and items[0].type == "enumerator" and not is_yield
                    and items[0].named_child_count == 2):
                enumerator = items[0]
                pattern, iterable_node = enumerator.named_children[0], enumerator.named_children[-1]
                targets = self._pattern_names(pattern)
                iterable = self._expr(iterable_node, out)
                self._bind(targets)
                body: list[m.Stmt] = []
                if body_node is not None:
                    self._tail(body_node, _DISCARD, body)
                out.append(m.For(tuple(targets), iterable, tuple(body), span))
                if sink.kind == "assign":  # a `for` without `yield` is Unit
                    out.append(sink.make(m.Const(None, span), span))
                return
            arm: list[m.Stmt] = []
            for enumerator in items:
                if enumerator.type != "enumerator":
                    continue
                names = self._pattern_names(enumerator.named_children[0])
                self._expr(enumerator.named_children[-1], arm)
                self._bind(names)
                arm.append(m.Assign(tuple(names), m.Opaque(span, "enumerator"), span,
                                    unpack=len(names) > 1))
            if body_node is not None:
                self._tail(body_node, _DISCARD, arm)
            out.append(m.Branch((tuple(arm), ()), span))
            if sink.kind != "discard":
                out.append(sink.make(m.Opaque(span, "for comprehension"), span))
        finally:
            self.scopes.pop()

    def _tail(self, node: tree_sitter.Node, sink: _Sink, out: list[m.Stmt]) -> None:
        """Lower `node` whose value goes to `sink` (discard, return or assign)."""
        kind = node.type
        span = self._span(node)
        if kind in _BLOCKS:
            items = [child for child in node.named_children
                     if child.type not in ("comment", "block_comment", "end_marker")]
            self.scopes.append(_Locals())
            try:
                if len(items) == 1 and items[0].type == "lambda_expression" and kind == "block":
                    out.append(sink.make(self._expr(items[0], out), span))
                    return
                for item in items[:-1]:
                    self._statement(item, out)
                if items:
                    last = items[-1]
                    if last.type in ("val_definition", "var_definition", "function_definition",
                                     "import_declaration", "assignment_expression",
                                     *_DEFINITIONS, *_SKIPPED):
                        self._statement(last, out)
                    else:
                        self._record_statement(last)
                        self._tail(last, sink, out)
            finally:
                self.scopes.pop()
        elif kind == "parenthesized_expression" and node.named_child_count == 1:
            self._tail(node.named_children[0], sink, out)
        elif kind in ("if_expression", "match_expression") and sink.kind == "assign" \
                and self._choice(node, sink, out):
            return
        elif kind == "if_expression":
            self._if_chain(node, sink, out)
        elif kind == "match_expression":
            value_node = node.child_by_field_name("value")
            subject = self._expr(value_node, out) if value_node is not None else None
            cases = node.child_by_field_name("body")
            clauses = [clause for clause in cases.named_children
                       if clause.type == "case_clause"] if cases is not None else []
            arms = [self._case_arm(clause, sink) for clause in clauses]
            out.append(m.Branch(tuple(arms), span, subject, exhaustive=True,
                                terminal=_terminal_arms(arms, clauses)))
        elif kind == "try_expression":
            body_node = node.child_by_field_name("body")
            arms: list[tuple[m.Stmt, ...]] = []
            arm_nodes: list[tree_sitter.Node | None] = [body_node]
            main_arm: list[m.Stmt] = []
            if body_node is not None:
                self._scoped_tail(body_node, sink, main_arm)
            arms.append(tuple(main_arm))
            finally_node = None
            for child in node.named_children:
                if child.type == "catch_clause":
                    if child.child_by_field_name("pattern") is not None:
                        arms.append(self._case_arm(child, sink))  # Scala 3 `catch case e =>`
                        arm_nodes.append(child)
                    for cases in child.named_children:
                        if cases.type in ("case_block", "indented_cases"):
                            clauses = [clause for clause in cases.named_children
                                       if clause.type == "case_clause"]
                            arms.extend(self._case_arm(clause, sink) for clause in clauses)
                            arm_nodes.extend(clauses)
                elif child.type == "finally_clause":
                    finally_node = child
            out.append(m.Branch(tuple(arms), span, exhaustive=True,
                                terminal=_terminal_arms(arms, arm_nodes)))
            if finally_node is not None:
                for child in finally_node.named_children:
                    self._scoped_tail(child, _DISCARD, out)
        elif kind == "for_expression":
            self._for(node, out, sink)
        elif kind == "call_expression" and sink.kind != "assign" and self._foreach(node, out):
            return  # `foreach` returns Unit
        elif kind == "infix_expression" and self._compound_assignment(node, out):
            if sink.kind != "discard":
                out.append(sink.make(m.Const(None, span), span))
        elif kind in ("while_expression", "do_while_expression"):
            condition = node.child_by_field_name("condition")
            test = self._expr(condition, out) if condition is not None else None
            body: list[m.Stmt] = []
            body_node = node.child_by_field_name("body")
            if body_node is not None:
                self._scoped_tail(body_node, _DISCARD, body)
            out.append(m.Branch((tuple(body), ()), span, test))
        elif kind == "return_expression":
            value_nodes = node.named_children
            value = self._expr(value_nodes[0], out) if value_nodes else None
            out.append(m.Return(value, span))
        elif kind == "throw_expression":
            for child in node.named_children:
                self._expr(child, out)
        elif kind == "assignment_expression":
            self._assignment(node, out)
            if sink.kind != "discard":
                out.append(sink.make(m.Const(None, span), span))
        elif kind in ("val_definition", "var_definition", "function_definition",
                      "import_declaration", "ERROR") or kind in _DEFINITIONS:
            self._statement(node, out)
        else:
            out.append(sink.make(self._expr(node, out), span))

    def _if_chain(self, node: tree_sitter.Node, sink: _Sink, out: list[m.Stmt]) -> None:
        """`if a .. else if b .. else ..` -> one Branch with an arm per branch (walked in a loop,
        as the Python front end does for elif chains). A later condition's hoisted statements
        start its arm."""
        test = self._expr(node.child_by_field_name("condition"), out)
        arms: list[tuple[m.Stmt, ...]] = []
        arm_nodes: list[tree_sitter.Node | None] = []
        current: tree_sitter.Node | None = node
        arm: list[m.Stmt] = []
        elif_tests: list[m.Expr] = []
        exhaustive = False
        while current is not None:
            then_node = current.child_by_field_name("consequence")
            if then_node is not None:
                self._scoped_tail(then_node, sink, arm)
            arms.append(tuple(arm))
            arm_nodes.append(then_node)
            arm = []
            else_node = current.child_by_field_name("alternative")
            current = None
            if else_node is not None and else_node.type == "if_expression":
                self._record_statement(else_node)
                elif_tests.append(self._expr(else_node.child_by_field_name("condition"), arm))
                current = else_node
            elif else_node is not None:
                self._scoped_tail(else_node, sink, arm)
                arms.append(tuple(arm))
                arm_nodes.append(else_node)
                exhaustive = True
            elif sink.kind != "discard":
                # the value of an `if` without `else` is Unit when no arm runs (as a statement,
                # a non-exhaustive Branch: the arms may all be skipped)
                span = self._span(node)
                arms.append((sink.make(m.Const(None, span), span),))
                arm_nodes.append(None)
                exhaustive = True
        out.append(m.Branch(tuple(arms), self._span(node), test, exhaustive,
                            _terminal_arms(arms, arm_nodes), True, tuple(elif_tests)))

    def _choice(self, node: tree_sitter.Node, sink: _Sink, out: list[m.Stmt]) -> bool:
        """An `if`/`else` or `match` whose value is assigned, each arm a plain expression:
        `target = Choice(options)`. False (nothing lowered) when the arms need a `Branch`."""
        choice = self._choice_value(node, out)
        if choice is None:
            return False
        out.append(sink.make(choice, choice.span))
        return True

    def _choice_value(self, node: tree_sitter.Node, out: list[m.Stmt]) -> m.Choice | None:
        """`Choice(options)` for an `if`/`else` or `match` used as a value whose arms are plain
        expressions (no statements to hoist, no pattern bindings, no `throw`); the condition's
        or subject's hoisted statements go to `out`. None, having changed nothing, when the
        arms need a `Branch`."""
        saved = (len(self.lifted), self.temp_counter, len(self.imports),
                 set(self.explicit_imports), len(self.statement_ranges))
        pre: list[m.Stmt] = []
        options = self._choice_options(node, pre)
        if options is None:
            lifted, self.temp_counter, imports, self.explicit_imports, ranges = saved
            del self.lifted[lifted:]
            del self.imports[imports:]
            del self.statement_ranges[ranges:]
            return None
        out.extend(pre)
        return m.Choice(tuple(options), self._span(node))

    def _choice_options(self, node: tree_sitter.Node, pre: list[m.Stmt]) -> list[m.Expr] | None:
        arm_nodes: list[tree_sitter.Node] = []
        if node.type == "if_expression":
            self._expr(node.child_by_field_name("condition"), pre)
            current: tree_sitter.Node | None = node
            while current is not None:
                then_node = current.child_by_field_name("consequence")
                else_node = current.child_by_field_name("alternative")
                if then_node is None or else_node is None:
                    return None
                arm_nodes.append(then_node)
                current = None
                if else_node.type == "if_expression":
                    scratch: list[m.Stmt] = []
                    self._expr(else_node.child_by_field_name("condition"), scratch)
                    if scratch:
                        return None
                    current = else_node
                else:
                    arm_nodes.append(else_node)
        else:
            value_node = node.child_by_field_name("value")
            self._expr(value_node, pre)
            cases = node.child_by_field_name("body")
            if cases is None:
                return None
            for clause in cases.named_children:
                if clause.type in ("comment", "block_comment"):
                    continue
                bodies = clause.children_by_field_name("body")
                if (clause.type != "case_clause" or len(bodies) != 1
                        or self._pattern_names(clause.child_by_field_name("pattern"))):
                    return None
                arm_nodes.append(bodies[0])
        options: list[m.Expr] = []
        for arm_node in arm_nodes:
            if _ends_in_throw(arm_node) or arm_node.type == "return_expression":
                return None
            scratch = []
            self.scopes.append(_Locals())
            try:
                self._record_statement(arm_node)
                value = self._placeholders(self._expr(arm_node, scratch), arm_node)
            finally:
                self.scopes.pop()
            if scratch:
                return None
            options.append(value)
        return options if options else None

    def _scoped_tail(self, node: tree_sitter.Node, sink: _Sink, out: list[m.Stmt]) -> None:
        self.scopes.append(_Locals())
        try:
            self._record_statement(node)
            self._tail(node, sink, out)
        finally:
            self.scopes.pop()

    def _case_arms(self, cases: tree_sitter.Node, sink: _Sink) -> list[tuple[m.Stmt, ...]]:
        """The arms of a partial function's cases."""
        return [self._case_arm(clause, sink) for clause in cases.named_children
                if clause.type == "case_clause"]

    def _case_arm(self, clause: tree_sitter.Node, sink: _Sink) -> tuple[m.Stmt, ...]:
        """One `case pattern => body`: the pattern's names are bound to unknown values."""
        arm: list[m.Stmt] = []
        self.scopes.append(_Locals())
        try:
            names = self._pattern_names(clause.child_by_field_name("pattern"))
            self._bind(names)
            span = self._span(clause)
            if names:
                arm.append(m.Assign(tuple(names), m.Opaque(span, "pattern"), span,
                                    unpack=len(names) > 1))
            bodies = clause.children_by_field_name("body")  # `case p =>` then statements
            for body in bodies[:-1]:
                self._statement(body, arm)
            if bodies:
                self._record_statement(bodies[-1])
                self._tail(bodies[-1], sink, arm)
        finally:
            self.scopes.pop()
        return tuple(arm)

    # ------------------------------------------------------------ expressions

    def _expr(self, node: tree_sitter.Node | None, pre: list[m.Stmt]) -> m.Expr:
        """Lower an expression; statements it needs first (blocks, branches) go to `pre`.
        Method chains, field chains and operator chains are walked iteratively."""
        if node is None:
            return m.Opaque()
        spine: list[tree_sitter.Node] = []
        while True:
            kind = node.type
            if kind in ("call_expression", "field_expression", "generic_function",
                        "postfix_expression", "infix_expression"):
                head = _spine_head(node)
                if head is None:
                    break
                spine.append(node)
                node = head
            elif kind in ("parenthesized_expression", "ascription_expression") \
                    and node.named_child_count >= 1 and spine:
                node = node.named_children[0]
            else:
                break
        value = self._atom(node, pre) if not spine or not _is_callee(spine[-1], node) \
            else None
        for link in reversed(spine):
            value = self._link(link, value, node, pre)
            node = link
        return value if value is not None else m.Opaque(self._span(node))

    def _link(self, link: tree_sitter.Node, inner: m.Expr | None,
              inner_node: tree_sitter.Node, pre: list[m.Stmt]) -> m.Expr:
        """One step of a chain whose inner part is already lowered (`inner`); `inner` is None
        when the inner node is a bare identifier in callee position (`f(x)`), resolved here."""
        kind = link.type
        span = self._span(link)
        if kind == "field_expression":
            field_node = link.child_by_field_name("field")
            assert inner is not None
            return m.Attr(inner, self._text(field_node) if field_node is not None else "?", span)
        if kind == "postfix_expression":
            assert inner is not None
            return m.Attr(inner, self._text(link.named_children[-1]), span)
        if kind == "generic_function":
            callee = inner if inner is not None else self._callee_name(inner_node)
            type_arguments = link.child_by_field_name("type_arguments")
            type_args = tuple(self._text(child) for child in type_arguments.named_children) if type_arguments else ()
            return m.Call(callee, (), (), span, self._name_span(inner_node), type_args)
        if kind == "infix_expression":
            assert inner is not None
            return self._infix(link, inner, pre)
        # call_expression
        arguments = link.child_by_field_name("arguments")
        args, kwargs = self._arguments(arguments, pre) if arguments is not None else ((), ())
        if inner is None:
            name = self._text(inner_node)
            collection = _COLLECTION_KINDS.get(name)
            if collection is not None and self._is_free(name) and not kwargs:
                if collection == "dict":
                    return m.Seq(tuple(args), "dict", span)
                return m.Seq(tuple(args), collection, span)
            callee = self._callee_name(inner_node)
            return m.Call(callee, tuple(args), tuple(kwargs), span, self._span(inner_node))
        if isinstance(inner, m.Call) and inner_node.type == "call_expression":
            # curried parameter lists: f(a)(b) -> f(a, b)
            return m.Call(inner.func, inner.args + tuple(args), inner.kwargs + tuple(kwargs),
                          span, inner.name_span)
        if isinstance(inner, m.Call) and inner_node.type == "generic_function" and not inner.args:
            if (isinstance(inner.func, m.Name) and inner.func.id in _COLLECTION_KINDS
                    and self._is_free(inner.func.id) and not kwargs):
                # `Seq[(String, Int)](...)`: a literal collection with type arguments
                return m.Seq(tuple(args), _COLLECTION_KINDS[inner.func.id], span)
            return m.Call(inner.func, tuple(args), tuple(kwargs), span, inner.name_span, inner.type_args)
        return m.Call(inner, tuple(args), tuple(kwargs), span, self._name_span(inner_node))

    def _infix(self, node: tree_sitter.Node, left: m.Expr, pre: list[m.Stmt]) -> m.Expr:
        operator_node = node.child_by_field_name("operator")
        right_node = node.child_by_field_name("right")
        operator = self._text(operator_node) if operator_node is not None else "?"
        span = self._span(node)
        if operator == "->" or operator == "→":
            return m.Seq((left, self._expr(right_node, pre)), "tuple", span)
        if operator_node is not None and operator_node.type == "identifier":
            # `df coalesce 2`, `df join (other, Seq("k"))`, `sum("v") as "s"`
            if right_node is not None and right_node.type == "tuple_expression":
                args = tuple(self._expr(item, pre) for item in right_node.named_children)
            else:
                args = (self._expr(right_node, pre),)
            return m.Call(m.Attr(left, operator, span), args, (), span,
                          self._span(operator_node))
        right = self._expr(right_node, pre)
        return m.BinOp(_OPERATOR_SPELLING.get(operator, operator), left, right, span)

    def _arguments(self, node: tree_sitter.Node, pre: list[m.Stmt]
                   ) -> tuple[list[m.Expr], list[tuple[str, m.Expr]]]:
        kind = node.type
        if kind == "block":  # `xs.map { _.name }` is `xs.map(_.name)`
            return [self._placeholders(self._expr(node, pre), node)], []
        if kind in ("colon_argument", "case_block"):
            return [self._expr(node, pre)], []
        args: list[m.Expr] = []
        kwargs: list[tuple[str, m.Expr]] = []
        for child in node.named_children:
            child_kind = child.type
            if child_kind in ("comment", "block_comment"):
                continue
            if child_kind == "assignment_expression":
                left = child.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    right = child.child_by_field_name("right")
                    kwargs.append((self._text(left), self._placeholders(self._expr(right, pre), right)))
                    continue
            args.append(self._placeholders(self._expr(child, pre), child))
        return args, kwargs

    def _atom(self, node: tree_sitter.Node, pre: list[m.Stmt]) -> m.Expr:
        kind = node.type
        span = self._span(node)
        if kind == "identifier":
            return self._name(node)
        if kind == "string":
            return m.Const(self._string_value(node), span, self._string_anchors(node))
        if kind == "integer_literal":
            return m.Const(_integer(self._text(node)), span)
        if kind == "floating_point_literal":
            return m.Const(_floating(self._text(node)), span)
        if kind == "boolean_literal":
            return m.Const(self._text(node) == "true", span)
        if kind == "null_literal" or kind == "unit":
            return m.Const(None, span)
        if kind == "character_literal":
            text = self._text(node)[1:-1]
            return m.Const(_unescape(text), span)
        if kind == "interpolated_string_expression":
            return self._interpolated(node, span)
        if kind == "quote_expression":
            names = node.named_children
            if len(names) == 1 and names[0].type == "identifier":
                return m.Call(m.Name("$col", span), (m.Const(self._text(names[0]), span),),
                              (), span, span)
            return m.Opaque(span, "quote")
        if kind == "tuple_expression":
            return m.Seq(tuple(self._expr(item, pre) for item in node.named_children
                               if item.type not in ("comment", "block_comment")), "tuple", span)
        if kind == "parenthesized_expression" or kind == "ascription_expression":
            inner = [child for child in node.named_children
                     if child.type not in ("comment", "block_comment")]
            return self._expr(inner[0], pre) if inner else m.Opaque(span)
        if kind == "prefix_expression":
            operator = node.children[0]
            operand = node.named_children[-1] if node.named_child_count else None
            value = self._expr(operand, pre)
            op_text = self._text(operator)
            if op_text == "-" and isinstance(value, m.Const) and isinstance(value.value,
                                                                           (int, float)):
                return m.Const(-value.value, span)
            return m.UnaryOp(_PREFIX_SPELLING.get(op_text, op_text), value, span)
        if kind == "instance_expression":
            return self._instance(node, pre, span)
        if kind == "lambda_expression":
            return self._lambda(node, pre)
        if kind in _BLOCKS:
            return self._block_value(node, pre)
        if kind == "case_block" or kind == "colon_argument":
            return self._case_function(node, pre) if kind == "case_block" \
                else self._colon_lambda(node, pre)
        if kind in ("if_expression", "match_expression"):
            choice = self._choice_value(node, pre)
            return choice if choice is not None else self._value_through_temp(node, pre)
        if kind in ("try_expression", "for_expression", "while_expression",
                    "do_while_expression"):
            return self._value_through_temp(node, pre)
        if kind == "wildcard":
            return m.Name("_", span)
        if kind == "method_value":  # `addKey _`: the method itself
            return self._expr(node.named_children[0], pre) if node.named_child_count else \
                m.Opaque(span)
        if kind == "assignment_expression":
            self._assignment(node, pre)
            return m.Const(None, span)
        return m.Opaque(span, kind)

    def _block_value(self, node: tree_sitter.Node, pre: list[m.Stmt]) -> m.Expr:
        """A block used as a value: its statements are hoisted into `pre`, the value is its
        last expression (a block ending in a definition is Unit)."""
        items = [child for child in node.named_children
                 if child.type not in ("comment", "block_comment", "end_marker")]
        if not items:
            return m.Const(None, self._span(node))
        if len(items) == 1 and items[0].type == "lambda_expression":
            return self._expr(items[0], pre)
        for item in items[:-1]:
            self._statement(item, pre)
        last = items[-1]
        if last.type in ("val_definition", "var_definition", "function_definition",
                         "import_declaration", "assignment_expression", *_DEFINITIONS,
                         *_SKIPPED):
            self._statement(last, pre)
            return m.Const(None, self._span(last))
        return self._expr(last, pre)  # an if / match / try ... value: see `_atom`

    def _value_through_temp(self, node: tree_sitter.Node, pre: list[m.Stmt]) -> m.Expr:
        self.temp_counter += 1
        temp = f"$t{self.temp_counter}"
        self._tail(node, _Sink("assign", (temp,)), pre)
        return m.Name(temp, self._span(node))

    def _interpolated(self, node: tree_sitter.Node, span: m.Span) -> m.Expr:
        interpolator = node.child_by_field_name("interpolator")
        body = node.named_children[-1]
        if interpolator is not None and self._text(interpolator) == "$" \
                and not any(child.type == "interpolation" for child in body.named_children):
            text = self._text(body)
            quote = 3 if text.startswith('"""') else 1
            return m.Call(m.Name("$col", span), (m.Const(text[quote:-quote], span),), (), span,
                          span)
        if interpolator is not None and self._text(interpolator) in ("s", "f", "raw"):
            return self._template(body, span, raw=self._text(interpolator) == "raw")
        return m.Opaque(span, "interpolated string")

    def _template(self, body: tree_sitter.Node, span: m.Span, raw: bool) -> m.Expr:
        """`s"... $x ... ${e} ..."` as `$format(text, x, text, <opaque>, ...)`: its text with the
        holes it fills (a hole that is a plain name may resolve to a constant)."""
        triple = self._text(body).startswith('"""')
        quote = 3 if triple else 1
        parts: list[m.Expr] = []
        position = (body.start_point[0], body.start_point[1] + quote)
        start_byte = body.start_byte + quote
        for child in [*body.named_children, None]:
            end_byte = child.start_byte if child is not None else body.end_byte - quote
            if end_byte > start_byte:
                text = self.source[start_byte:end_byte].decode("utf-8", "replace")
                verbatim = triple or raw or "\\" not in text
                value = text if verbatim else _unescape(text)
                line, col = self._point(*position)
                parts.append(m.Const(value, m.Span(line, col, line, col), (m.Anchor(0, line, col, verbatim),)))
            if child is None:
                break
            if child.type == "escape_sequence":
                line, col = self._point(*child.start_point)
                value = "$" if self._text(child) == "$$" else _unescape(self._text(child))
                parts.append(m.Const(value, m.Span(line, col, line, col), (m.Anchor(0, line, col, False),)))
            else:
                names = [c for c in child.named_children if c.type == "identifier"]
                parts.append(self._name(names[0]) if names and len(child.named_children) == 1
                             else m.Opaque(self._span(child), "interpolated value"))
            position, start_byte = child.end_point, child.end_byte
        return m.Call(m.Name("$format", span), tuple(parts), (), span, span)

    def _point(self, row: int, column: int) -> tuple[int, int]:
        """A tree-sitter point as the model's 1-based line and column."""
        return row + 1, (column + 1 if self.all_ascii else self._column(row, column))

    def _string_anchors(self, node: tree_sitter.Node) -> tuple[m.Anchor, ...]:
        text = self._text(node)
        triple = text.startswith('"""')
        line, col = self._point(*node.start_point)
        return (m.Anchor(0, line, col + (3 if triple else 1), triple or "\\" not in text),)

    def _instance(self, node: tree_sitter.Node, pre: list[m.Stmt], span: m.Span) -> m.Expr:
        """`new C(x)` -> Call(Name("C"), (x,)); `new a.b.C(x)` -> Call(Attr(Attr(a, b), C))."""
        type_node = None
        for child in node.named_children:
            if child.type in ("type_identifier", "stable_type_identifier", "generic_type"):
                type_node = child
                break
        if type_node is None:
            return m.Opaque(span, "anonymous class")
        if type_node.type == "generic_type":
            type_node = type_node.child_by_field_name("type") or type_node
        parts = self._text(type_node).split(".")
        callee: m.Expr = self._resolve_bare(parts[0], self._span(type_node))
        for part in parts[1:]:
            callee = m.Attr(callee, part, span)
        arguments = node.child_by_field_name("arguments")
        args, kwargs = self._arguments(arguments, pre) if arguments is not None else ([], [])
        return m.Call(callee, tuple(args), tuple(kwargs), span, self._span(type_node))

    def _lambda(self, node: tree_sitter.Node, pre: list[m.Stmt]) -> m.Expr:
        params = self._lambda_params(node)
        body_node = _lambda_body(node)
        return self._lambda_value(params, body_node, pre, self._span(node))

    def _colon_lambda(self, node: tree_sitter.Node, pre: list[m.Stmt]) -> m.Expr:
        """Scala 3 `xs.foreach: x => ...` (lambda_start fields then an indented block)."""
        params = [self._text(child) for child in node.children_by_field_name("lambda_start")
                  if child.type == "identifier"]
        body_node = node.named_children[-1] if node.named_child_count else None
        if not params:
            return self._expr(body_node, pre)
        return self._lambda_value(params, body_node, pre, self._span(node))

    def _lambda_value(self, params: list[str], body_node: tree_sitter.Node | None,
                      pre: list[m.Stmt], span: m.Span) -> m.Expr:
        """Statements inside a lambda body are hoisted as a Branch arm (they may run) with
        the parameters bound to unknown values, so writes inside a closure are still seen."""
        arm: list[m.Stmt] = []
        self.scopes.append(_Locals({p: None for p in params}))
        try:
            value = self._expr(body_node, arm) if body_node is not None else m.Opaque(span)
        finally:
            self.scopes.pop()
        if arm:
            bind = [m.Assign((p,), m.Opaque(span, "lambda parameter"), span) for p in params]
            pre.append(m.Branch((tuple(bind + arm), ()), span))
        return m.Lambda(tuple(params), value, span)

    def _case_function(self, node: tree_sitter.Node, pre: list[m.Stmt]) -> m.Expr:
        """`{ case (a, b) => ... }` used as a function: the cases become Branch arms."""
        span = self._span(node)
        arms = self._case_arms(node, _DISCARD)
        if any(arms):
            pre.append(m.Branch((*arms, ()), span))
        return m.Lambda(("_",), m.Opaque(span, "partial function"), span)

    def _lambda_params(self, node: tree_sitter.Node) -> list[str]:
        params = node.child_by_field_name("parameters")
        if params is None:
            return []
        if params.type == "identifier" or params.type == "wildcard":
            return [self._text(params)]
        names = []
        for binding in params.named_children:
            if binding.type == "binding":
                name = binding.child_by_field_name("name")
                if name is not None:
                    names.append(self._text(name))
            elif binding.type == "identifier":
                names.append(self._text(binding))
        return names

    # ------------------------------------------------------------ names and scopes

    def _name(self, node: tree_sitter.Node) -> m.Expr:
        return self._resolve_bare(self._text(node), self._span(node))

    def _resolve_bare(self, name: str, span: m.Span) -> m.Expr:
        """A bare identifier: a local, a member of the enclosing class (`this.x`), a member
        of an enclosing object (`Outer.x`), a nested definition, or a free name."""
        innermost_class = True
        for scope in reversed(self.scopes):
            if isinstance(scope, _Locals):
                if name in scope.names:
                    alias = scope.names[name]
                    return m.Name(name, span) if alias is None else _respan(alias, span)
                continue
            if name in scope.nested:
                return _path_expr(scope.nested[name], span)
            if name in scope.members:
                if innermost_class:
                    return m.Attr(m.Name("this", span), name, span)
                if scope.object_path:
                    return m.Attr(_path_expr(scope.object_path, span), name, span)
                return m.Name(name, span)
            innermost_class = False
        if name == "Nil":  # the empty list: `x :: Nil` is a list written in the code
            return m.Seq((), "seq", span)
        return m.Name(name, span)

    def _callee_name(self, node: tree_sitter.Node) -> m.Expr:
        """A bare name in callee position; inside a class with project bases an unknown
        lower-case name is an inherited method (`helper(df)` -> `this.helper(df)`)."""
        if node.type != "identifier":
            return self._expr(node, [])
        name = self._text(node)
        span = self._span(node)
        resolved = self._resolve_bare(name, span)
        if isinstance(resolved, m.Name) and resolved.id == name:
            frame = self._class_frame()
            if (frame is not None and frame.inherits_project_members and name[:1].islower()
                    and name not in _WELL_KNOWN_FUNCTIONS
                    and name not in self.explicit_imports
                    and not self._is_local(name)):
                return m.Attr(m.Name("this", span), name, span)
        return resolved

    def _is_local(self, name: str) -> bool:
        for scope in reversed(self.scopes):
            if isinstance(scope, _Locals) and name in scope.names:
                return True
        return False

    def _is_free(self, name: str) -> bool:
        resolved = self._resolve_bare(name, m.NO_SPAN)
        return isinstance(resolved, m.Name) and resolved.id == name and not self._is_local(name)

    def _class_frame(self) -> _ClassFrame | None:
        for scope in reversed(self.scopes):
            if isinstance(scope, _ClassFrame):
                return scope
        return None

    def _current_function_name(self) -> str:
        return self.function_names[-1] if self.function_names else ""

    def _bind(self, names: list[str], alias: m.Expr | None = None) -> None:
        for scope in reversed(self.scopes):
            if isinstance(scope, _Locals):
                for name in names:
                    scope.names[name] = alias
                return
        if not self.scopes:
            return  # module level: top-level statements of a script

    def _pattern_names(self, node: tree_sitter.Node | None) -> list[str]:
        """Names a pattern binds (explicit stack; `_` and constructor names are skipped)."""
        if node is None:
            return []
        if node.type == "identifier":  # `val X = ...` binds X, even upper-case
            return [self._text(node)]
        names: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind == "identifier":
                text = self._text(current)
                if text != "_" and not text[:1].isupper():
                    names.append(text)
            elif kind == "typed_pattern":
                pattern = current.child_by_field_name("pattern")
                if pattern is not None:
                    stack.append(pattern)
            elif kind == "capture_pattern":
                name = current.child_by_field_name("name")
                if name is not None:
                    names.append(self._text(name))
                pattern = current.child_by_field_name("pattern")
                if pattern is not None:
                    stack.append(pattern)
            elif kind in ("tuple_pattern", "case_class_pattern", "infix_pattern",
                          "identifiers", "named_pattern", "repeat_pattern"):
                stack.extend(reversed([child for child in current.named_children
                                       if child.type not in ("type_identifier",
                                                             "stable_type_identifier")]))
        return names

    # ------------------------------------------------------------ spans, text, comments

    def _text(self, node: tree_sitter.Node | None) -> str:
        if node is None:
            return ""
        return self.source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def _column(self, row: int, byte_column: int) -> int:
        if self.all_ascii:
            return byte_column + 1
        line = self.lines[row] if row < len(self.lines) else b""
        if line.isascii():
            return byte_column + 1
        return len(line[:byte_column].decode("utf-8", "replace")) + 1

    def _span(self, node: tree_sitter.Node) -> m.Span:
        start_row, start_col = node.start_point
        end_row, end_col = node.end_point
        if self.all_ascii:  # tuple.__new__: a third of the cost of the named tuple's own __new__
            return _new_tuple(m.Span, (start_row + 1, start_col + 1, end_row + 1, end_col + 1))
        return m.Span(start_row + 1, self._column(start_row, start_col),
                      end_row + 1, self._column(end_row, end_col))

    def _placeholders(self, value: m.Expr, node: tree_sitter.Node | None) -> m.Expr:
        """`_placeholder_lambda`, skipped where the source has no `_` at all (most arguments):
        the model walk it saves is repeated at every level of nested calls."""
        if node is not None and self.source.find(b"_", node.start_byte, node.end_byte) < 0:
            return value
        return _placeholder_lambda(value)

    def _name_span(self, node: tree_sitter.Node) -> m.Span:
        """The span of the method name of a callee (`coalesce` in `df.coalesce`)."""
        kind = node.type
        if kind == "field_expression":
            field_node = node.child_by_field_name("field")
            if field_node is not None:
                return self._span(field_node)
        if kind == "generic_function":
            function = node.child_by_field_name("function")
            if function is not None:
                return self._name_span(function)
        return self._span(node)

    def _string_value(self, node: tree_sitter.Node) -> str:
        text = self._text(node)
        if text.startswith('"""'):
            return text[3:-3]
        return _unescape(text[1:-1])

    def _record_statement(self, node: tree_sitter.Node) -> None:
        self.statement_ranges.append((node.start_point[0] + 1, node.end_point[0] + 1))

    def _record_definition(self, node: tree_sitter.Node, body: tree_sitter.Node | None) -> None:
        """A definition with a braced/indented body is covered by a noqa on its header
        only; statements inside have their own ranges."""
        start = node.start_point[0] + 1
        if body is not None and body.type in ("block", "indented_block", "template_body"):
            self.statement_ranges.append((start, max(start, body.start_point[0] + 1)))
        else:
            self.statement_ranges.append((start, node.end_point[0] + 1))

    def _suppressions(self) -> tuple[m.Suppression, ...]:
        root = self.tree.root_node
        found = []
        for match in _NOQA.finditer(self.source):
            start = match.start()
            comment = root.named_descendant_for_byte_range(start, start + 2)
            if comment is None or comment.type != "comment":
                continue
            row, byte_col = comment.start_point
            line = row + 1
            codes = tuple(code.upper() for code in _NOQA_CODE.findall(
                (match.group(1) or b"").decode("ascii", "replace")))
            first, last = self._covering_statement(line)
            found.append(m.Suppression(codes, line, self._column(row, byte_col), first, last))
        return tuple(found)

    def _covering_statement(self, line: int) -> tuple[int, int]:
        best: tuple[int, int] | None = None
        for first, last in self.statement_ranges:
            if first <= line <= last and (best is None or last - first < best[1] - best[0]):
                best = (first, last)
        return best if best is not None else (line, line)

    def _parse_errors(self, root: tree_sitter.Node) -> tuple[m.ParseError, ...]:
        if not root.has_error:
            return ()
        stack = [root]
        while stack:
            node = stack.pop()
            if node.is_missing:
                return (m.ParseError(f"syntax error: missing `{node.type}`", self._span(node)),)
            if node.is_error:
                snippet = self._text(node).strip().splitlines()
                shown = snippet[0][:40] if snippet else ""
                message = f"syntax error near `{shown}`" if shown else "syntax error"
                return (m.ParseError(message, self._span(node)),)
            stack.extend(reversed([child for child in node.children if child.has_error]))
        return (m.ParseError("syntax error", self._span(root)),)


# ---------------------------------------------------------------- helpers


_new_tuple = tuple.__new__


def _placeholder_lambda(value: m.Expr) -> m.Expr:
    """Scala placeholder syntax: an argument such as `_.coalesce(2)` or `step(_, 3)` is the
    function `_ => ...` (a bare `_` stays a name: the enclosing call is the function)."""
    if isinstance(value, m.Name) or not _has_placeholder(value):
        return value
    return m.Lambda(("_",), value, value.span)


def _has_placeholder(value: m.Expr) -> bool:
    stack: list[m.Expr] = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, m.Name) and current.id == "_":
            return True
        if not isinstance(current, m.Lambda):  # a nested function's placeholders are its own
            stack.extend(m.sub_expressions(current))
    return False


def _ends_in_throw(node: tree_sitter.Node | None) -> bool:
    """The arm's value is a `throw` (directly or as the last item of its blocks)."""
    while node is not None:
        kind = node.type
        if kind == "throw_expression":
            return True
        if kind in _BLOCKS or kind == "parenthesized_expression" or kind == "case_clause":
            items = [child for child in node.named_children
                     if child.type not in ("comment", "block_comment", "end_marker")]
            if kind == "case_clause":
                items = node.children_by_field_name("body")
            node = items[-1] if items else None
        else:
            return False
    return False


def _terminal_arms(arms: list[tuple[m.Stmt, ...]],
                   nodes: list[tree_sitter.Node | None]) -> tuple[int, ...]:
    """Indexes of arms that never fall through: they end in a `return` or a `throw`."""
    return tuple(index for index, arm in enumerate(arms)
                 if (arm and isinstance(arm[-1], m.Return))
                 or (index < len(nodes) and _ends_in_throw(nodes[index])))


def _spine_head(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The inner node a chain link applies to (receiver, callee or left operand)."""
    kind = node.type
    if kind == "call_expression":
        return node.child_by_field_name("function")
    if kind == "field_expression":
        return node.child_by_field_name("value")
    if kind == "generic_function":
        return node.child_by_field_name("function")
    if kind == "infix_expression":
        return node.child_by_field_name("left")
    if kind == "postfix_expression":
        return node.named_children[0] if node.named_child_count == 2 else None
    return None


def _is_callee(link: tree_sitter.Node, inner: tree_sitter.Node) -> bool:
    """A bare identifier called directly (`f(x)`, `f[T](x)`) is resolved by the link."""
    return inner.type == "identifier" and link.type in ("call_expression", "generic_function")


def _single_lambda(arguments: tree_sitter.Node) -> tree_sitter.Node | None:
    items = [child for child in arguments.named_children
             if child.type not in ("comment", "block_comment")]
    if len(items) == 1 and items[0].type == "lambda_expression":
        return items[0]
    return None


def _lambda_body(node: tree_sitter.Node) -> tree_sitter.Node | None:
    params = node.child_by_field_name("parameters")
    for child in reversed(node.named_children):
        if params is None or child.id != params.id:
            return child
    return None


def _parameter_names(node: tree_sitter.Node, source: bytes) -> list[str]:
    names = []
    for plist in node.children_by_field_name("class_parameters"):
        for param in plist.named_children:
            name = param.child_by_field_name("name") if param.type == "class_parameter" else None
            if name is not None:
                names.append(source[name.start_byte:name.end_byte].decode("utf-8", "replace"))
    return names


def _path_expr(path: str, span: m.Span) -> m.Expr:
    parts = path.split(".")
    expr: m.Expr = m.Name(parts[0], span)
    for part in parts[1:]:
        expr = m.Attr(expr, part, span)
    return expr


def _dotted(expr: m.Expr) -> str | None:
    if isinstance(expr, m.Name):
        return expr.id
    if isinstance(expr, m.Attr):
        base = _dotted(expr.value)
        return f"{base}.{expr.attr}" if base is not None else None
    return None


def _respan(expr: m.Expr, span: m.Span) -> m.Expr:
    if isinstance(expr, m.Name):
        return m.Name(expr.id, span)
    if isinstance(expr, m.Attr):
        return m.Attr(_respan(expr.value, span), expr.attr, span)
    return expr


def _integer(text: str) -> int | str:
    cleaned = text.replace("_", "").rstrip("lL")
    negative = cleaned.startswith("-")
    digits = cleaned.lstrip("-+")
    try:
        value = int(digits, 16) if digits[:2] in ("0x", "0X") else int(digits)
    except ValueError:
        return text
    return -value if negative else value


def _floating(text: str) -> float | str:
    cleaned = text.replace("_", "").rstrip("fFdD")
    try:
        return float(cleaned)
    except ValueError:
        return text


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            if following == "u" and index + 6 <= len(text):
                digits = text[index + 2:index + 6]
                try:
                    out.append(chr(int(digits, 16)))
                    index += 6
                    continue
                except ValueError:
                    pass
            out.append(_ESCAPES.get(following, following))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)
