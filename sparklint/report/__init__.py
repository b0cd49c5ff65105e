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


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def sorted_findings(result: CheckResult) -> list:
    return sorted(result.findings, key=lambda finding: finding.sort_key())
