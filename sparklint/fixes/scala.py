"""Fixes in Scala files: byte-range edits on the source, at the spans tree-sitter gives the
nodes the edits name. The result is parsed again and refused when it has syntax errors the
original did not have."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from sparklint.findings import CallSite, Edit, Operand, RemoveNoqaCode, RenameCall, ReplaceArgument, WrapInFunction
from sparklint.fixes.errors import FixError, as_fix_error
from sparklint.fixes.noqa import without_code
from sparklint.fixes.text import LineIndex
from sparklint.frontends.scala import _neutralised, _scala_language

FUNCTIONS_PACKAGE = ("org", "apache", "spark", "sql")
FUNCTIONS_OBJECT = "functions"
FUNCTIONS_PATH = ".".join((*FUNCTIONS_PACKAGE, FUNCTIONS_OBJECT))
DEFINITIONS = frozenset({"val_definition", "var_definition", "function_definition", "parameter", "class_parameter"})
Range = tuple[int, int]
LINE_LIMIT = 100


@dataclass(frozen=True, slots=True)
class ByteEdit:
    start: int
    end: int
    text: str
    # Among insertions at one place: what closes a wrapped operand (0), line breaks between
    # arguments (1), what opens a wrapped operand (2).
    rank: int = 1


def parse(data: bytes) -> tree_sitter.Tree:
    return tree_sitter.Parser(_scala_language()).parse(_neutralised(data))


def syntax_errors(tree: tree_sitter.Tree) -> int:
    """ERROR and MISSING nodes in the tree."""
    count, stack = 0, [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error:
            stack.extend(node.children)
    return count


class ScalaFile:
    """One Scala file as parsed for fixing."""

    @as_fix_error
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.tree = parse(source)
        self.index = LineIndex(source)
        self.errors = syntax_errors(self.tree)

    def text(self, node: tree_sitter.Node) -> str:
        return self.source[node.start_byte:node.end_byte].decode("utf-8", errors="surrogateescape")

    # ------------------------------------------------------------ finding what edits name

    def name_at(self, site: CallSite) -> tree_sitter.Node:
        offset = self.index.location_offset(site.location)
        node = self.tree.root_node.named_descendant_for_byte_range(offset, offset + 1) if offset is not None else None
        if node is None or node.type != "identifier" or node.start_byte != offset or self.text(node) not in site.names:
            raise FixError(f"no call of `{site.names[0]}` at {site.location}")
        return node

    def call_parts(self, site: CallSite) -> tuple[tree_sitter.Node | None, list[tree_sitter.Node]]:
        """The call's receiver (None for a bare function call) and its arguments."""
        name = self.name_at(site)
        parent = name.parent
        if parent is not None and parent.type == "infix_expression" and parent.child_by_field_name("operator") == name:
            return parent.child_by_field_name("left"), [parent.child_by_field_name("right")]
        receiver = None
        if parent is not None and parent.type == "field_expression" and parent.child_by_field_name("field") == name:
            receiver, name, parent = parent.child_by_field_name("value"), parent, parent.parent
        if parent is None or parent.type != "call_expression" or parent.child_by_field_name("function") != name:
            raise FixError(f"`{site.names[0]}` at {site.location} is not called with arguments")
        arguments = parent.child_by_field_name("arguments")
        values = [child for child in arguments.named_children if child.type not in ("comment", "block_comment")] if arguments else []
        return receiver, values

    def argument(self, operand: Operand) -> tree_sitter.Node:
        _, values = self.call_parts(operand.call)
        positional = []
        for value in values:
            if value.type == "assignment_expression":
                left = value.child_by_field_name("left")
                if operand.keyword is not None and left is not None and self.text(left) == operand.keyword:
                    return value.child_by_field_name("right")
            else:
                positional.append(value)
        if operand.index is None or operand.index >= len(positional):
            raise FixError(f"no argument {operand.index} in the call at {operand.call.location}")
        return positional[operand.index]

    def operand(self, operand: Operand) -> tree_sitter.Node:
        if operand.index is None:
            receiver, _ = self.call_parts(operand.call)
            if receiver is None:
                raise FixError(f"the call at {operand.call.location} has no receiver")
            return receiver
        return self.argument(operand)

    def comment_at(self, edit: RemoveNoqaCode) -> tree_sitter.Node:
        offset = self.index.location_offset(edit.location)
        node = self.tree.root_node.descendant_for_byte_range(offset, offset + 2) if offset is not None else None
        while node is not None and node.type != "comment" and node.parent is not None and node.start_byte == offset:
            node = node.parent  # from the `//` token up to the comment
        if node is None or node.type != "comment":
            raise FixError(f"no comment at {edit.location}")
        return node

    def target(self, edit: Edit) -> tree_sitter.Node:
        if isinstance(edit, RenameCall):
            return self.name_at(edit.call)
        if isinstance(edit, ReplaceArgument):
            return self.argument(edit.argument)
        if isinstance(edit, WrapInFunction):
            return self.operand(edit.operand)
        return self.comment_at(edit)

    @as_fix_error
    def touched(self, edits: Sequence[Edit]) -> list[Range]:
        return [(node.start_byte, node.end_byte) for node in map(self.target, edits)]

    # ------------------------------------------------------------ rewriting

    @as_fix_error
    def apply(self, edits: Sequence[Edit]) -> bytes:
        functions = _FunctionsAccess(self)
        byte_edits: list[ByteEdit] = []
        for edit in edits:
            byte_edits.extend(self._byte_edits(edit, functions))
        for arguments in self._wrapped_argument_lists(edits):
            byte_edits.extend(self._layout(arguments, byte_edits))
        byte_edits.extend(functions.import_edits())
        data = _applied(self.source, byte_edits)
        if syntax_errors(parse(data)) > self.errors:
            raise FixError("the fixed file would not parse")
        return data

    def _byte_edits(self, edit: Edit, functions: "_FunctionsAccess") -> list[ByteEdit]:
        node = self.target(edit)
        if isinstance(edit, RenameCall):
            return [ByteEdit(node.start_byte, node.end_byte, edit.new_name)]
        if isinstance(edit, ReplaceArgument):
            return [ByteEdit(node.start_byte, node.end_byte, str(edit.value))]
        if isinstance(edit, WrapInFunction):
            function = functions.reference(edit.function, node)
            literals = "".join(f", {functions.reference('lit', node)}({_literal(value)})" for value in edit.literals)
            return [ByteEdit(node.start_byte, node.start_byte, f"{function}(", rank=2),
                    ByteEdit(node.end_byte, node.end_byte, f"{literals})", rank=0)]
        return self._noqa_edit(node, edit)

    def _wrapped_argument_lists(self, edits: Sequence[Edit]) -> list[tree_sitter.Node]:
        lists = {}
        for edit in edits:
            if isinstance(edit, WrapInFunction) and edit.operand.index is not None:
                parent = self.argument(edit.operand).parent
                if parent is not None and parent.type == "arguments":
                    lists[parent.start_byte] = parent
        return list(lists.values())

    def _layout(self, arguments: tree_sitter.Node, edits: list[ByteEdit]) -> list[ByteEdit]:
        """An argument list on one line that the wrapping pushes past LINE_LIMIT: one argument
        per line, the closing parenthesis under the line's start."""
        values = [child for child in arguments.named_children if child.type not in ("comment", "block_comment")]
        row = arguments.start_point[0]
        if not values or arguments.end_point[0] != row:
            return []
        text = self.index.line_text(row + 1)
        added = sum(len(edit.text) - (edit.end - edit.start) for edit in edits
                    if self.index.point(edit.start)[0] == row + 1)
        if len(text) + added <= LINE_LIMIT:
            return []
        indent = text[:len(text) - len(text.lstrip())]
        inner = indent + ("\t" if indent.startswith("\t") else "  ")
        bounds = [arguments.start_byte + 1, *(edge for value in values for edge in (value.start_byte, value.end_byte)),
                  arguments.end_byte - 1]
        gaps = list(zip(bounds[::2], bounds[1::2]))
        texts = [f"\n{inner}", *([f",\n{inner}"] * (len(values) - 1)), f"\n{indent}"]
        return [ByteEdit(start, end, gap) for (start, end), gap in zip(gaps, texts)]

    def _noqa_edit(self, comment: tree_sitter.Node, edit: RemoveNoqaCode) -> list[ByteEdit]:
        offset = self.index.location_offset(edit.location) or comment.start_byte
        at = len(self.source[comment.start_byte:offset].decode("utf-8", errors="surrogateescape"))
        try:
            kept = without_code(self.text(comment), at, edit.code)
        except ValueError as error:
            raise FixError(str(error)) from None
        if kept is not None:
            return [ByteEdit(comment.start_byte, comment.end_byte, kept)]
        start = comment.start_byte
        while start > 0 and self.source[start - 1:start] in (b" ", b"\t"):
            start -= 1  # the spaces before a trailing comment go with it
        return [ByteEdit(start, comment.end_byte, "")]


def _applied(source: bytes, edits: list[ByteEdit]) -> bytes:
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end, edit.rank))
    for previous, edit in zip(ordered, ordered[1:]):
        if edit.start < previous.end:
            raise FixError("two edits rewrite the same code")
    out, position = [], 0
    for edit in ordered:
        out += [source[position:edit.start], edit.text.encode("utf-8", errors="surrogateescape")]
        position = edit.end
    out.append(source[position:])
    return b"".join(out)


def _literal(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FixError(f"cannot write the literal {value!r}")
    return json.dumps(value) if isinstance(value, str) else str(value)


class _FunctionsAccess:
    """How the code at one place reaches `org.apache.spark.sql.functions`: a wildcard or named
    import in scope, the object itself (`functions.broadcast`, `F.broadcast`), or an import to add
    at the top of the file."""

    def __init__(self, file: ScalaFile) -> None:
        self.file = file
        self.imports = [node for node in _descendants(file.tree.root_node) if node.type == "import_declaration"]
        self.defined = {file.text(name) for node in _descendants(file.tree.root_node) if node.type in DEFINITIONS
                        for name in [node.child_by_field_name("name") or node.child_by_field_name("pattern")]
                        if name is not None}
        self.added: list[str] = []

    def reference(self, function: str, at: tree_sitter.Node) -> str:
        objects: list[str] = []
        for node in self.imports:
            if not _in_scope(node, at):
                continue
            direct, star, object_names = self._imported(node)
            if function in direct:
                return direct[function]
            if star:
                return function
            objects.extend(object_names)
        if objects:
            return f"{objects[0]}.{function}"
        if function in self.defined:
            raise FixError(f"`{function}` already names something else in this file")
        if function not in self.added:
            self.added.append(function)
        return function

    def _imported(self, node: tree_sitter.Node) -> tuple[dict[str, str], bool, list[str]]:
        """What one import brings of the functions object: functions by local name, all of them
        (a wildcard), or the object itself under some name."""
        path = tuple(self.file.text(child) for child in node.named_children if child.type == "identifier")
        selectors = next((child for child in node.named_children if child.type == "namespace_selectors"), None)
        wildcard = any(child.type == "namespace_wildcard" for child in node.named_children)
        direct: dict[str, str] = {}
        objects: list[str] = []
        if path == (*FUNCTIONS_PACKAGE, FUNCTIONS_OBJECT):
            if wildcard:
                return {}, True, []
            if selectors is None:
                return {}, False, [FUNCTIONS_OBJECT]
            for name, alias in self._selected(selectors):
                if name == "_" and alias is None:
                    return direct, True, []
                direct[name] = alias or name
            return direct, False, []
        if len(path) == len(FUNCTIONS_PACKAGE) + 2 and path[:-1] == (*FUNCTIONS_PACKAGE, FUNCTIONS_OBJECT):
            return {path[-1]: path[-1]}, False, []
        if path == FUNCTIONS_PACKAGE:
            if wildcard:
                objects.append(FUNCTIONS_OBJECT)
            elif selectors is not None:
                objects += [alias or name for name, alias in self._selected(selectors) if name == FUNCTIONS_OBJECT]
        return direct, False, [name for name in objects if name != "_"]

    def _selected(self, selectors: tree_sitter.Node) -> list[tuple[str, str | None]]:
        out = []
        for child in selectors.named_children:
            if child.type == "identifier":
                out.append((self.file.text(child), None))
            elif child.type == "namespace_wildcard":
                out.append(("_", None))
            elif child.type in ("arrow_renamed_identifier", "as_renamed_identifier"):
                names = [self.file.text(part) for part in child.named_children]
                if len(names) == 2:
                    out.append((names[0], names[1]))
        return out

    def import_edits(self) -> list[ByteEdit]:
        if not self.added:
            return []
        names = sorted(self.added)
        line = f"import {FUNCTIONS_PATH}.{names[0]}" if len(names) == 1 else f"import {FUNCTIONS_PATH}.{{{', '.join(names)}}}"
        root = self.file.tree.root_node
        top_imports = [child for child in root.named_children if child.type == "import_declaration"]
        for node in top_imports:  # `import org.apache.spark.sql.functions.{col, lit}`: add to it
            path = tuple(self.file.text(child) for child in node.named_children if child.type == "identifier")
            selectors = next((child for child in node.named_children if child.type == "namespace_selectors"), None)
            if path == (*FUNCTIONS_PACKAGE, FUNCTIONS_OBJECT) and selectors is not None:
                return [ByteEdit(selectors.end_byte - 1, selectors.end_byte - 1, "".join(f", {name}" for name in names))]
        if top_imports:
            return [ByteEdit(top_imports[-1].end_byte, top_imports[-1].end_byte, f"\n{line}")]
        packages = [child for child in root.named_children if child.type == "package_clause"]
        if packages and packages[-1].child_by_field_name("body") is None:
            return [ByteEdit(packages[-1].end_byte, packages[-1].end_byte, f"\n\n{line}")]
        return [ByteEdit(0, 0, f"{line}\n\n")]


def _in_scope(declaration: tree_sitter.Node, at: tree_sitter.Node) -> bool:
    """An import reaches the code after it in the block, body or file that holds it."""
    scope = declaration.parent
    return scope is not None and declaration.end_byte <= at.start_byte and at.end_byte <= scope.end_byte


def _descendants(root: tree_sitter.Node):
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.named_children)
