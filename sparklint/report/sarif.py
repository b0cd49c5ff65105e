"""SARIF 2.1.0 for code-scanning services (GitHub, Azure DevOps, VS Code's SARIF viewer).

Built from `sarif_om` classes and serialised by walking their attrs metadata
(`schema_property_name`); values equal to a property's schema default are left out.
Artifact URIs are relative to `%SRCROOT%` (the project root, given in `originalUriBaseIds`);
columns count Unicode code points; each finding's chain becomes one thread flow; fingerprints
never contain line numbers (see report/fingerprint.py).

GitHub's upload limits are respected by cutting and warning: results per run, related locations
per result, thread-flow locations per result, and the gzip-compressed file size.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attr
import sarif_om as om

from sparklint import __version__
from sparklint.docs import rule_help_markdown, rule_help_text, rule_help_uri
from sparklint.findings import Applicability, ChainStep, CheckResult, Finding, Fix, Location, Severity, TextChange
from sparklint.report import printable
from sparklint.report.fingerprint import FINGERPRINT_KEY, fingerprints
from sparklint.rules import Rule
from sparklint.catalogue import all_rules
from sparklint.settings import Settings

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
# Properties written even when they equal the schema default, because readers look for them.
ALWAYS_WRITTEN = frozenset({"level"})

# https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#validating-your-sarif-file
MAX_RESULTS_PER_RUN = 25_000
MAX_RELATED_LOCATIONS = 1_000
MAX_THREAD_FLOW_LOCATIONS = 10_000
MAX_GZIPPED_BYTES = 10 * 1024 * 1024

Warn = Callable[[str], None]


def render(result: CheckResult, settings: Settings, *, warn: Warn = lambda message: None) -> str:
    findings = capped_findings(result.findings, warn)
    while True:
        text = json.dumps(schema_first(to_json(sarif_log(result, findings, warn))), indent=2, ensure_ascii=False) + "\n"
        if len(gzip.compress(text.encode("utf-8"))) <= MAX_GZIPPED_BYTES or not findings:
            return text
        keep = len(findings) // 2
        warn(f"SARIF: the file exceeds GitHub's {MAX_GZIPPED_BYTES >> 20} MiB (gzip) limit; "
             f"keeping the {keep} most severe of {len(findings)} results")
        findings = findings[:keep]


def capped_findings(findings: Sequence[Finding], warn: Warn) -> list[Finding]:
    ordered = sorted(findings, key=lambda finding: (-finding.severity, finding.sort_key()))
    if len(ordered) > MAX_RESULTS_PER_RUN:
        warn(f"SARIF: {len(ordered)} results exceed GitHub's limit of {MAX_RESULTS_PER_RUN} per run; "
             f"keeping the {MAX_RESULTS_PER_RUN} most severe")
        ordered = ordered[:MAX_RESULTS_PER_RUN]
    return sorted(ordered, key=lambda finding: finding.sort_key())


# ---------------------------------------------------------------- building the log


def sarif_log(result: CheckResult, findings: Sequence[Finding], warn: Warn) -> om.SarifLog:
    rules = list(all_rules())
    rule_index = {rule.code: index for index, rule in enumerate(rules)}
    prints = fingerprints(findings, result.root)
    run = om.Run(
        tool=om.Tool(driver=tool_component(rules)),
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=Path(result.root).as_uri().rstrip("/") + "/")},
        column_kind="unicodeCodePoints",
        results=[
            sarif_result(finding, rule_index, fingerprint, warn) for finding, fingerprint in zip(findings, prints)
        ],
        invocations=[invocation(result)],
    )
    return om.SarifLog(version=SARIF_VERSION, schema_uri=SARIF_SCHEMA, runs=[run])


def tool_component(rules: Sequence[Rule]) -> om.ToolComponent:
    return om.ToolComponent(
        name="sparklint",
        version=__version__,
        semantic_version=__version__,
        information_uri=information_uri(),
        rules=[reporting_descriptor(rule) for rule in rules],
    )


def information_uri() -> str | None:
    from sparklint.docs import documentation_url

    return documentation_url()


def reporting_descriptor(rule: Rule) -> om.ReportingDescriptor:
    full_description = rule.summary if rule.summary.endswith(".") else rule.summary + "."
    return om.ReportingDescriptor(
        id=rule.code,
        name=rule.slug,
        short_description=om.MultiformatMessageString(text=full_description),
        full_description=om.MultiformatMessageString(text=full_description),
        help=om.MultiformatMessageString(text=rule_help_text(rule), markdown=rule_help_markdown(rule)),
        help_uri=rule_help_uri(rule),
        default_configuration=om.ReportingConfiguration(level=LEVELS[rule.severity]),
        properties=property_bag({
            "precision": github_precision(rule.precision),
            "tags": ["spark", "performance", rule.slug],
            "problem.severity": "recommendation" if rule.severity == Severity.NOTE else LEVELS[rule.severity],
        }),
    )


def property_bag(values: dict[str, Any]) -> om.PropertyBag:
    """A SARIF property bag holds arbitrary keys (`problem.severity`); sarif_om declares only `tags`."""
    bag = om.PropertyBag()
    vars(bag).update(values)
    return bag


def github_precision(precision: str) -> str:
    return precision if precision in ("very-high", "high", "medium", "low") else "medium"


def sarif_result(finding: Finding, rule_index: dict[str, int], fingerprint: str, warn: Warn) -> om.Result:
    related = list(finding.related)
    if len(related) > MAX_RELATED_LOCATIONS:
        warn(f"SARIF: {finding.location}: keeping {MAX_RELATED_LOCATIONS} of {len(related)} related locations")
        related = related[:MAX_RELATED_LOCATIONS]
    steps = flow_steps(finding)
    if len(steps) > MAX_THREAD_FLOW_LOCATIONS:
        warn(f"SARIF: {finding.location}: keeping {MAX_THREAD_FLOW_LOCATIONS} of {len(steps)} chain steps")
        steps = steps[:MAX_THREAD_FLOW_LOCATIONS]
    properties = {}
    if finding.evidence:
        properties["evidenceText"] = list(finding.evidence)  # the report's evidence lines
    if finding.properties:
        # As in the JSON report: `evidence` holds the run-profile figures (runs, trend, confirmed).
        properties.update(finding.properties)
    if finding.fix:
        properties["fix"] = finding.fix
    if finding.autofix is not None:
        properties["autofix"] = {"title": finding.autofix.title, "applicability": finding.autofix.applicability.value}
    return om.Result(
        rule_id=finding.rule,
        rule_index=rule_index.get(finding.rule, -1),
        level=LEVELS[finding.severity],
        message=om.Message(text=sentence(finding.message)),
        locations=[om.Location(physical_location=physical_location(finding.location))],
        related_locations=[
            om.Location(id=index, physical_location=physical_location(item.location),
                        message=om.Message(text=sentence(item.message)))
            for index, item in enumerate(related)
        ] or None,
        code_flows=[code_flow(steps)] if steps else None,
        partial_fingerprints={FINGERPRINT_KEY: fingerprint},
        properties=property_bag(properties) if properties else None,
        fixes=[sarif_fix(finding.autofix)] if finding.autofix is not None and finding.autofix.changes else None,
    )


def sarif_fix(fix: Fix) -> om.Fix:
    """The fix as SARIF replacements per file; whether it is safe is in its property bag."""
    by_path: dict[str, list[TextChange]] = {}
    for change in fix.changes:
        by_path.setdefault(change.path, []).append(change)
    description = f"{fix.title}; unsafe: {fix.note}" if fix.applicability is Applicability.UNSAFE and fix.note else fix.title
    return om.Fix(
        description=om.Message(text=sentence(description)),
        artifact_changes=[
            om.ArtifactChange(
                artifact_location=om.ArtifactLocation(uri=uri_path(path), uri_base_id=SRCROOT),
                replacements=[om.Replacement(deleted_region=om.Region(start_line=change.line, start_column=change.col,
                                                                      end_line=change.end_line, end_column=change.end_col),
                                             inserted_content=om.ArtifactContent(text=change.text))
                              for change in changes],
            )
            for path, changes in by_path.items()
        ],
        properties=property_bag({"applicability": fix.applicability.value}),
    )


def flow_steps(finding: Finding) -> list[ChainStep]:
    """The chain, ending at the finding's own line when the chain does not already pass it."""
    if not finding.chain:
        return []
    here = (finding.location.path, finding.location.line)
    if any((step.location.path, step.location.line) == here for step in finding.chain):
        return list(finding.chain)
    return [*finding.chain, ChainStep(finding.location, finding.message)]


def code_flow(steps: Sequence[ChainStep]) -> om.CodeFlow:
    """The chain from the entry point, ending at the finding itself, as one thread flow."""
    return om.CodeFlow(
        thread_flows=[om.ThreadFlow(locations=[
            om.ThreadFlowLocation(
                location=om.Location(physical_location=physical_location(step.location),
                                     message=om.Message(text=sentence(step.message))),
                execution_order=order,
            )
            for order, step in enumerate(steps, start=1)
        ])],
    )


def physical_location(location: Location) -> om.PhysicalLocation:
    region = om.Region(start_line=max(location.line, 1), start_column=max(location.col, 1))
    if location.end_line >= location.line and location.end_line > 0:
        region.end_line = location.end_line
        if location.end_col > 0 and (location.end_line > location.line or location.end_col > location.col):
            region.end_column = location.end_col
    return om.PhysicalLocation(
        artifact_location=om.ArtifactLocation(uri=uri_path(location.path), uri_base_id=SRCROOT),
        region=region,
    )


def uri_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path.encode("utf-8", "surrogateescape"), safe="/")  # a file name's own bytes, even if not UTF-8


def sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def invocation(result: CheckResult) -> om.Invocation:
    notifications = [
        om.Notification(message=om.Message(text=sentence(warning)), level="warning") for warning in result.warnings
    ] + [om.Notification(message=om.Message(text=sentence(note)), level="note") for note in result.notes]
    return om.Invocation(
        execution_successful=True,
        tool_execution_notifications=notifications or None,
    )


# ---------------------------------------------------------------- serialisation


def to_json(value: Any) -> Any:
    """sarif_om objects -> plain JSON values, by their attrs metadata."""
    if isinstance(value, om.PropertyBag):
        return {key: to_json(item) for key, item in vars(value).items() if item is not None}
    if attr.has(type(value)):
        out = {}
        for field in attr.fields(type(value)):
            item = getattr(value, field.name)
            name = field.metadata.get("schema_property_name", field.name)
            if item is None or (name not in ALWAYS_WRITTEN and item == default_of(field)):
                continue
            out[name] = to_json(item)
        return out
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return printable(str(value))


def schema_first(log: dict[str, Any]) -> dict[str, Any]:
    """`$schema` and `version` at the top, where people and sniffers look for them."""
    return {"$schema": log.pop("$schema"), "version": log.pop("version"), **log}


def default_of(field: attr.Attribute) -> Any:
    default = field.default
    if isinstance(default, attr.Factory):  # type: ignore[arg-type]
        return default.factory()
    return default
