"""The rule catalogue: one `Rule` per code, declared as data by each check module.

Codes are a public contract: append-only, never reused. Everything else that describes a
rule (the `sparklint rules` listing, `sparklint explain`, SARIF rule metadata) is derived from
these declarations and from the rule's document in `rules/SPKnnn-<slug>.md`. The rules
themselves are assembled in `catalogue.py`, which imports the modules that declare them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sparklint.findings import Severity


@dataclass(frozen=True, slots=True)
class RuleOption:
    name: str  # kebab-case, as written in [tool.sparklint.<slug>]
    default: Any
    type: type
    doc: str


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    slug: str
    summary: str  # one line, used by `sparklint rules` and SARIF shortDescription
    severity: Severity  # default severity
    precision: str  # "high" / "medium": how often it is right on real code
    options: tuple[RuleOption, ...] = ()
    fix_title: str | None = None

    def option_default(self, name: str) -> Any:
        for option in self.options:
            if option.name == name:
                return option.default
        raise KeyError(name)


# The append-only table of codes. A retired rule keeps its line, marked retired.
CODES: dict[str, str] = {
    "SPK000": "parse-error",
    "SPK001": "coalesce-before-write",
    "SPK002": "missing-broadcast-hint",
    "SPK003": "empty-string-grouping-key",
    "SPK004": "collect-to-driver",
    "SPK005": "withcolumn-in-loop",
    "SPK006": "recomputed-without-cache",
    "SPK007": "cartesian-join",
    "SPK008": "count-for-emptiness",
    "SPK009": "schema-inference-on-read",
    "SPK010": "partitioned-write-scatter",
    "SPK100": "unused-noqa",
    "SPK201": "skewed-shuffle",
    "SPK202": "under-parallel-write",
    "SPK203": "small-files",
    "SPK204": "idle-cores",
}

PARSE_ERROR = Rule(
    code="SPK000",
    slug="parse-error",
    summary="A file could not be parsed; what could be recovered was still checked",
    severity=Severity.ERROR,
    precision="high",
)

UNUSED_NOQA = Rule(
    code="SPK100",
    slug="unused-noqa",
    summary="A `noqa` comment names a rule that reports nothing on its line",
    severity=Severity.WARNING,
    precision="high",
    fix_title="Remove the unused `noqa` code",
)
