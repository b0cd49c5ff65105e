"""Machine-readable findings: one JSON document, schema version 1 (documented in README.md).

    {"version": 1, "tool": {"name", "version"}, "root",
     "findings": [{"rule", "name", "severity", "message", "location", "related", "chain",
                   "fix", "evidence", "properties", "fingerprint"}],
     "summary": {"files_checked", "lines_checked", "findings", "by_severity", "by_rule", "seconds"},
     "warnings": [...]}

A location is {"path", "line", "column", "end_line", "end_column"}: the path is posix and
relative to "root", lines and columns are 1-based and count Unicode code points, 0 means unknown.
With `statistics=True` the document has "statistics": [{"rule", "name", "count"}] instead of
"findings".
"""

from __future__ import annotations

import json
from typing import Any

from sparklint import __version__
from sparklint.findings import CheckResult, Finding, Location
from sparklint.report import Tally, sorted_findings
from sparklint.report.fingerprint import fingerprints
from sparklint.rules import rule_by_code
from sparklint.settings import Settings

SCHEMA_VERSION = 1


def render(result: CheckResult, settings: Settings, *, statistics: bool = False) -> str:
    return json.dumps(document(result, statistics=statistics), indent=2, ensure_ascii=False, default=str) + "\n"


def document(result: CheckResult, *, statistics: bool = False) -> dict[str, Any]:
    names = {code: rule.slug for code, rule in rule_by_code().items()}
    tally = Tally.of(result)
    body: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "sparklint", "version": __version__},
        "root": result.root,
    }
    if statistics:
        body["statistics"] = [
            {"rule": code, "name": names.get(code), "count": count} for code, count in tally.by_rule.items()
        ]
    else:
        findings = sorted_findings(result)
        body["findings"] = [
            finding_json(finding, names.get(finding.rule), fingerprint)
            for finding, fingerprint in zip(findings, fingerprints(findings, result.root))
        ]
    body["summary"] = {
        "files_checked": result.files_checked,
        "lines_checked": result.lines_checked,
        "findings": tally.total,
        "by_severity": {severity.label: count for severity, count in tally.by_severity.items()},
        "by_rule": tally.by_rule,
        "seconds": round(result.seconds, 3),
    }
    body["warnings"] = list(result.warnings)
    return body


def finding_json(finding: Finding, name: str | None, fingerprint: str) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "name": name,
        "severity": finding.severity.label,
        "message": finding.message,
        "location": location_json(finding.location),
        "related": [{"location": location_json(r.location), "message": r.message} for r in finding.related],
        "chain": [{"location": location_json(s.location), "message": s.message} for s in finding.chain],
        "fix": finding.fix,
        "evidence": list(finding.evidence),
        "properties": finding.properties,
        "fingerprint": fingerprint,
    }


def location_json(location: Location) -> dict[str, Any]:
    return {
        "path": location.path,
        "line": location.line,
        "column": location.col,
        "end_line": location.end_line,
        "end_column": location.end_col,
    }
