"""Reporters: each turns one CheckResult into text for people or machines, never recomputing it.

`text`, `json`, `sarif` and `github` each expose `render(result, settings, ...) -> str`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sparklint.findings import CheckResult, Severity

OUTPUT_FORMATS = ("text", "json", "sarif", "github")


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts a summary line or a statistics table needs."""

    total: int
    by_severity: dict[Severity, int]
    by_rule: dict[str, int]

    @classmethod
    def of(cls, result: CheckResult) -> "Tally":
        by_severity = Counter(finding.severity for finding in result.findings)
        by_rule = Counter(finding.rule for finding in result.findings)
        return cls(
            total=len(result.findings),
            by_severity={severity: by_severity[severity] for severity in sorted(Severity, reverse=True)},
            by_rule=dict(sorted(by_rule.items())),
        )


def printable(text: str) -> str:
    """`text` as any UTF-8 writer accepts it. A file name that is not valid UTF-8 reaches
    Python with each bad byte as a lone surrogate; it is shown as `\\xNN` (other lone
    surrogates, say from an event log, as `\\uNNNN`) instead of failing the whole report."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(_escaped_surrogate(char) if "\ud800" <= char <= "\udfff" else char for char in text)


def _escaped_surrogate(char: str) -> str:
    code = ord(char)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable_values(value):
    """Every string inside JSON-like `value` (dicts, lists, tuples) made `printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_values(key): printable_values(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_values(item) for item in value]
    return value


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def sorted_findings(result: CheckResult) -> list:
    return sorted(result.findings, key=lambda finding: finding.sort_key())
