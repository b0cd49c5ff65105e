"""GitHub Actions workflow commands: one annotation per finding.

    ::error file=lake/compact.py,line=7,col=12,endLine=7,endColumn=23,title=SPK001 coalesce-before-write::message

The chain, related locations, help and evidence follow the message on their own lines (`%0A`).
Paths are made relative to `$GITHUB_WORKSPACE` when the project root lies inside it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sparklint.findings import CheckResult, Finding, Severity
from sparklint.report import printable, sorted_findings
from sparklint.catalogue import rule_by_code
from sparklint.settings import Settings

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def render(result: CheckResult, settings: Settings, *, workspace: str | None = None) -> str:
    workspace = workspace if workspace is not None else os.environ.get("GITHUB_WORKSPACE")
    prefix = path_prefix(result.root, workspace)
    slugs = {code: rule.slug for code, rule in rule_by_code().items()}
    lines = [annotation(finding, prefix, slugs.get(finding.rule, "")) for finding in sorted_findings(result)]
    return printable("".join(line + "\n" for line in lines))


def annotation(finding: Finding, prefix: str, slug: str) -> str:
    location = finding.location
    properties = {"file": prefix + location.path, "line": str(location.line), "col": str(location.col)}
    if location.end_line >= location.line:
        properties["endLine"] = str(location.end_line)
        if location.end_col > 0:
            properties["endColumn"] = str(location.end_col)
    properties["title"] = f"{finding.rule} {slug}".strip()
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{COMMANDS[finding.severity]} {rendered}::{escape_data(message_body(finding, prefix))}"


def message_body(finding: Finding, prefix: str) -> str:
    lines = [finding.message]
    lines += [f"note: {prefix}{step.location.short} {step.message}" for step in finding.chain]
    lines += [f"related: {prefix}{item.location.short} {item.message}" for item in finding.related]
    if finding.fix:
        lines.append(f"help: {finding.fix}")
    lines += [f"evidence: {line}" for line in finding.evidence]
    return "\n".join(lines)


def path_prefix(root: str, workspace: str | None) -> str:
    if not workspace:
        return ""
    try:
        relative = Path(root).resolve().relative_to(Path(workspace).resolve())
    except ValueError:
        return ""
    return "" if relative == Path(".") else relative.as_posix() + "/"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
