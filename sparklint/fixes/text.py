"""Positions and differences in source text: the model's (line, code-point column) as byte
offsets, a fixed file as SARIF-style replacements, and unified diffs `git apply` takes."""

from __future__ import annotations

import bisect
import difflib
from typing import Iterator

from sparklint.findings import Location, TextChange


class LineIndex:
    """Byte offsets of one file's lines, for turning the model's 1-based (line, code-point column)
    into byte offsets and back."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = [0]
        position = data.find(b"\n")
        while position != -1:
            self.starts.append(position + 1)
            position = data.find(b"\n", position + 1)

    def offset(self, line: int, col: int) -> int | None:
        """The byte offset of (line, col), or None when the file has no such place."""
        if not 1 <= line <= len(self.starts) or col < 1:
            return None
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.data)
        text = self.data[start:end].decode("utf-8", errors="surrogateescape")
        if col - 1 > len(text):
            return None
        return start + len(text[: col - 1].encode("utf-8", errors="surrogateescape"))

    def line_text(self, line: int) -> str:
        """The text of a line, without its line break."""
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.data)
        return self.data[start:end].decode("utf-8", errors="surrogateescape").rstrip("\r\n")

    def location_offset(self, location: Location) -> int | None:
        return self.offset(location.line, location.col)

    def point(self, offset: int) -> tuple[int, int]:
        """(line, code-point column) of a byte offset, both 1-based."""
        index = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[index]
        return index + 1, len(self.data[start:offset].decode("utf-8", errors="surrogateescape")) + 1


def text_changes(path: str, old: bytes, new: bytes) -> tuple[TextChange, ...]:
    """The smallest replacements, region by region, that turn `old` into `new`."""
    index = LineIndex(old)
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    changes = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, first, last, new_first, new_last in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = index.starts[first] if first < len(index.starts) else len(old)
        end = start + sum(len(line) for line in old_lines[first:last])
        removed, added = old[start:end], b"".join(new_lines[new_first:new_last])
        prefix = _common_prefix(removed, added)
        suffix = _common_suffix(removed[prefix:], added[prefix:])
        begin, finish = start + prefix, end - suffix
        line, col = index.point(begin)
        end_line, end_col = index.point(finish)
        inserted = added[prefix:len(added) - suffix].decode("utf-8", errors="surrogateescape")
        changes.append(TextChange(path, line, col, end_line, end_col, inserted))
    return tuple(changes)


def _common_prefix(left: bytes, right: bytes) -> int:
    size = 0
    for a, b in zip(left, right):
        if a != b:
            break
        size += 1
    while size and _continuation(left, size):  # never split a UTF-8 character
        size -= 1
    return size


def _common_suffix(left: bytes, right: bytes) -> int:
    size = 0
    for a, b in zip(reversed(left), reversed(right)):
        if a != b:
            break
        size += 1
    while size and size < len(left) and _continuation(left, len(left) - size):
        size -= 1
    return size


def _continuation(data: bytes, index: int) -> bool:
    return index < len(data) and 0x80 <= data[index] < 0xC0


NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(label: str, old: bytes, new: bytes) -> str:
    """A `git apply`-able diff of one file: `a/` and `b/` prefixes, three lines of context."""
    before = old.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
    after = new.decode("utf-8", errors="surrogateescape").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"a/{label}", f"b/{label}", lineterm="\n")
    return "".join(_terminated(lines))


def _terminated(lines) -> Iterator[str]:
    for line in lines:
        if line.endswith("\n"):
            yield line
        else:  # the file's last line has no line break
            yield line + "\n" + NO_NEWLINE
