"""Machine-readable findings: one JSON document, schema version 1 (documented in README.md).

    {"version": 1, "tool": {"name", "version"}, "root",
     "findings": [{"rule", "name", "severity", "message", "location", "related", "chain",
                   "fix", "autofix", "evidence", "properties", "fingerprint"}],
     "summary": {"files_checked", "lines_checked", "findings", "by_severity", "by_rule", "seconds",
                 "fixed"?, "baseline"?: {"path", "hidden", "stale"}},
     "fixed"?: [{"rule", "location", "title", "applicability"}],
     "warnings": [...], "notes": [...]}

"autofix" is what `--fix` can do: {"title", "applicability": "safe" | "unsafe", "note", "edits":
[{"location", "content"}]} (the text that replaces each location's range; empty when the text
was not computed), or null. "fixed" lists the fixes `--fix` made.

"notes" says where the analysis reached one of its brakes (a function called in too many
contexts, a root that calls too much), so findings through that code may be missing.

A location is {"path", "line", "column", "end_line", "end_column"}: the path is posix and
relative to "root", lines and columns are 1-based and count Unicode code points, 0 means unknown.
With `statistics=True` the document has "statistics": [{"rule", "name", "count"}] instead of
"findings".
"""

from __future__ import annotations

import json
from typing import Any

from sparklint import __version__
from sparklint.findings import CheckResult, Finding, Fix, Location
from sparklint.report import Tally, printable_values, sorted_findings
from sparklint.report.fingerprint import fingerprints
from sparklint.catalogue import rule_by_code
from sparklint.settings import Settings

SCHEMA_VERSION = 1

_LOCATION = {
    "type": "object",
    "required": ["path", "line", "column", "end_line", "end_column"],
    "additionalProperties": False,
    "properties": {
        "path": {"type": "string"},
        "line": {"type": "integer", "minimum": 0},
        "column": {"type": "integer", "minimum": 0},
        "end_line": {"type": "integer", "minimum": 0},
        "end_column": {"type": "integer", "minimum": 0},
    },
}
_NOTE = {
    "type": "object",
    "required": ["location", "message"],
    "additionalProperties": False,
    "properties": {"location": _LOCATION, "message": {"type": "string"}},
}
_SEVERITY = {"enum": ["note", "warning", "error"]}
_AUTOFIX = {
    "type": ["object", "null"],
    "required": ["title", "applicability", "note", "edits"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string"},
        "applicability": {"enum": ["safe", "unsafe"]},
        "note": {"type": ["string", "null"]},
        "edits": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["location", "content"],
                "additionalProperties": False,
                "properties": {"location": _LOCATION, "content": {"type": "string"}},
            },
        },
    },
}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
# The output's contract as a JSON Schema (draft 2020-12); tests validate every report against it.
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sparklint check --output-format json, schema version 1",
    "type": "object",
    "required": ["version", "tool", "root", "summary", "warnings"],
    "oneOf": [{"required": ["findings"]}, {"required": ["statistics"]}],
    "additionalProperties": False,
    "properties": {
        "version": {"const": SCHEMA_VERSION},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "sparklint"}, "version": {"type": "string"}},
        },
        "root": {"type": "string"},
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "name", "severity", "message", "location", "related", "chain", "fix",
                             "autofix", "evidence", "properties", "fingerprint"],
                "additionalProperties": False,
                "properties": {
                    "rule": {"type": "string", "pattern": "^SPK[0-9]{3}$"},
                    "name": {"type": ["string", "null"]},
                    "severity": _SEVERITY,
                    "message": {"type": "string"},
                    "location": _LOCATION,
                    "related": {"type": "array", "items": _NOTE},
                    "chain": {"type": "array", "items": _NOTE},
                    "fix": {"type": ["string", "null"]},
                    "autofix": _AUTOFIX,
                    "evidence": {"type": "array", "items": {"type": "string"}},
                    "properties": {"type": "object"},
                    "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}:[0-9]+$"},
                },
            },
        },
        "statistics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "name", "count"],
                "additionalProperties": False,
                "properties": {"rule": {"type": "string"}, "name": {"type": ["string", "null"]},
                               "count": {"type": "integer", "minimum": 1}},
            },
        },
        "summary": {
            "type": "object",
            "required": ["files_checked", "lines_checked", "findings", "by_severity", "by_rule", "seconds"],
            "additionalProperties": False,
            "properties": {
                "files_checked": {"type": "integer", "minimum": 0},
                "lines_checked": {"type": "integer", "minimum": 0},
                "findings": {"type": "integer", "minimum": 0},
                "by_severity": {**_COUNTS, "propertyNames": _SEVERITY},
                "by_rule": _COUNTS,
                "seconds": {"type": "number", "minimum": 0},
                "fixed": {"type": "integer", "minimum": 0},
                "baseline": {
                    "type": "object",
                    "required": ["path", "hidden", "stale"],
                    "additionalProperties": False,
                    "properties": {"path": {"type": "string"}, "hidden": {"type": "integer", "minimum": 0},
                                   "stale": {"type": "integer", "minimum": 0}},
                },
            },
        },
        "fixed": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rule", "location", "title", "applicability"],
                "additionalProperties": False,
                "properties": {"rule": {"type": "string"}, "location": _LOCATION, "title": {"type": "string"},
                               "applicability": {"enum": ["safe", "unsafe"]}},
            },
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}


def render(result: CheckResult, settings: Settings, *, statistics: bool = False) -> str:
    return json.dumps(printable_values(document(result, statistics=statistics)), indent=2, ensure_ascii=False, default=str) + "\n"


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
    if result.fixed:
        body["summary"]["fixed"] = len(result.fixed)
        body["fixed"] = [fixed_json(finding) for finding in result.fixed if finding.autofix is not None]
    if result.baseline is not None:
        baseline = result.baseline
        body["summary"]["baseline"] = {"path": baseline.path, "hidden": baseline.hidden, "stale": baseline.stale}
    body["warnings"] = list(result.warnings)
    body["notes"] = list(result.notes)
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
        "autofix": autofix_json(finding.autofix),
        "evidence": list(finding.evidence),
        "properties": finding.properties,
        "fingerprint": fingerprint,
    }


def autofix_json(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "title": fix.title,
        "applicability": fix.applicability.value,
        "note": fix.note,
        "edits": [{"location": location_json(Location(change.path, change.line, change.col, change.end_line, change.end_col)),
                   "content": change.text} for change in fix.changes],
    }


def fixed_json(finding: Finding) -> dict[str, Any]:
    assert finding.autofix is not None
    return {"rule": finding.rule, "location": location_json(finding.location), "title": finding.autofix.title,
            "applicability": finding.autofix.applicability.value}


def location_json(location: Location) -> dict[str, Any]:
    return {
        "path": location.path,
        "line": location.line,
        "column": location.col,
        "end_line": location.end_line,
        "end_column": location.end_col,
    }
