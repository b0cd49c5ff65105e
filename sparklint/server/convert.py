"""Findings -> LSP values: diagnostics, hovers and `noqa` edits. Pure functions of a finding and
the document's text; nothing here re-derives a finding or reads configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from lsprotocol import types
from pygls import uris

from sparklint.findings import Finding, Location, Severity

SOURCE = "sparklint"
SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.NOTE: types.DiagnosticSeverity.Information,
}
# The lines of a file, by project-relative path: open documents' text, else what is on disk.
LineSource = Callable[[str], list[str] | None]


# ---------------------------------------------------------------- paths and URIs


def uri_to_path(uri: str) -> Path | None:
    """The absolute path of a `file:` URI (percent-decoded); None for any other scheme."""
    if not uri.startswith("file:"):
        return None
    path = uris.to_fs_path(uri)
    return Path(path) if path else None


def path_to_uri(path: Path) -> str:
    return uris.from_fs_path(str(path)) or path.as_uri()


# ---------------------------------------------------------------- positions


def utf16_column(line_text: str | None, column: int) -> int:
    """A 0-based code-point column as LSP's default UTF-16 column of the same line."""
    if not line_text or line_text.isascii():
        return column
    prefix = line_text[:column]
    return column + sum(1 for char in prefix if ord(char) > 0xFFFF)


def code_point_column(line_text: str | None, utf16: int) -> int:
    """The inverse of `utf16_column`."""
    if not line_text or line_text.isascii():
        return utf16
    units = 0
    for index, char in enumerate(line_text):
        if units >= utf16:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line_text)


def lsp_range(location: Location, lines: list[str] | None) -> types.Range:
    """A finding's 1-based span (end column exclusive) as an LSP range; a location without an
    end covers the rest of its line."""
    line = max(location.line - 1, 0)
    start_text = _line(lines, line)
    start = types.Position(line, utf16_column(start_text, max(location.col - 1, 0)))
    if location.end_line >= location.line and location.end_col > 0:
        end_line = location.end_line - 1
        end = types.Position(end_line, utf16_column(_line(lines, end_line), location.end_col - 1))
        if (end.line, end.character) > (start.line, start.character):
            return types.Range(start, end)
    width = len(start_text) if start_text is not None else start.character + 1
    return types.Range(start, types.Position(line, max(utf16_column(start_text, width), start.character + 1)))


def _line(lines: list[str] | None, index: int) -> str | None:
    if lines is None or not 0 <= index < len(lines):
        return None
    return lines[index]


def contains(span: types.Range, position: types.Position) -> bool:
    after_start = (position.line, position.character) >= (span.start.line, span.start.character)
    before_end = (position.line, position.character) <= (span.end.line, span.end.character)
    return after_start and before_end


# ---------------------------------------------------------------- diagnostics


def comment_marker(path: str) -> str:
    return "//" if path.endswith((".scala", ".sc", ".java")) else "#"


def diagnostic(finding: Finding, root: Path, lines_of: LineSource) -> types.Diagnostic:
    """One finding as a diagnostic: its span, severity, rule code, the message with its fix, and
    the related locations and every chain step (entry point first) as related information."""
    location = finding.location
    message = finding.message if not finding.fix else f"{finding.message}\nhelp: {finding.fix}"
    related = [
        types.DiagnosticRelatedInformation(
            types.Location(path_to_uri(root / step.location.path), lsp_range(step.location, lines_of(step.location.path))),
            f"{label}: {step.message}",
        )
        for label, step in (*(("note", step) for step in finding.chain), *(("related", item) for item in finding.related))
    ]
    return types.Diagnostic(
        range=lsp_range(location, lines_of(location.path)),
        message=message,
        severity=SEVERITIES[finding.severity],
        code=finding.rule,
        source=SOURCE,
        related_information=related or None,
        data=diagnostic_data(finding),
    )


def diagnostic_data(finding: Finding) -> dict[str, Any]:
    """What the `noqa` code action needs without the finding: the rule, its 0-based line, the
    comment marker of the language."""
    return {"rule": finding.rule, "line": max(finding.location.line - 1, 0), "path": finding.location.path,
            "comment": comment_marker(finding.location.path)}


# ---------------------------------------------------------------- hover


def hover_markdown(finding: Finding, summary: str | None, slug: str | None) -> str:
    """The rule's summary, the finding, the chain as a short list and any run-profile evidence."""
    title = f"**{finding.rule}**" + (f" `{slug}`" if slug else "") + f" [{finding.severity.label}]"
    parts = [title + (f": {summary}" if summary else ""), "", _escape(finding.message)]
    if finding.fix:
        parts += ["", f"*help:* {_escape(finding.fix)}"]
    if finding.chain:
        parts += ["", "**Chain**", ""]
        parts += [f"{number}. `{step.location.short}` {_escape(step.message)}"
                  for number, step in enumerate(finding.chain, start=1)]
    if finding.evidence:
        parts += ["", "**Run-profile evidence**", ""]
        parts += [f"- {_escape(line)}" for line in finding.evidence]
    return "\n".join(parts)


def _escape(text: str) -> str:
    return text.replace("\n", "  \n")


# ---------------------------------------------------------------- code actions


def noqa_edit(line_text: str, line: int, rule: str, marker: str) -> types.TextEdit | None:
    """The edit that suppresses `rule` on `line`: a new trailing `noqa` comment, or the code added
    to a `noqa` comment the line already has. None when the line already names the rule."""
    tag = f"{marker} noqa:"
    body = line_text.rstrip("\r\n")
    at = body.find(tag)
    if at >= 0:
        codes_start = at + len(tag)
        codes_end = codes_start
        while codes_end < len(body) and (body[codes_end].isalnum() or body[codes_end] in " ,"):
            codes_end += 1
        codes = [code.strip() for code in body[codes_start:codes_end].split(",") if code.strip()]
        if rule in codes:
            return None
        codes_end = len(body[:codes_end].rstrip())
        position = types.Position(line, utf16_column(body, codes_end))
        return types.TextEdit(types.Range(position, position), f", {rule}")
    trimmed = len(body.rstrip())
    start = types.Position(line, utf16_column(body, trimmed))
    end = types.Position(line, utf16_column(body, len(body)))
    return types.TextEdit(types.Range(start, end), f"  {marker} noqa: {rule}")
