"""Human-readable findings, compiler style:

    lake/compact.py:7:12: SPK001 [error] `coalesce(2)` before a sorted write: ...
      note: jobs/in_sites.py:21 run() calls steps.publish(enriched, ...)
      related: lake/compact.py:5 the table is sorted here
      help: use `repartition(N)` ...
      evidence: stage 14: 2 tasks, 11.2 GiB spilled

    Found 1 finding (1 error) in 12 files.
"""

from __future__ import annotations

from dataclasses import replace

import click

from sparklint.findings import Applicability, CheckResult, Finding, Fix, Severity
from sparklint.report import Tally, plural, printable, sorted_findings
from sparklint.catalogue import rule_by_code
from sparklint.settings import Settings

SEVERITY_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}


def render(result: CheckResult, settings: Settings, *, color: bool = False, quiet: bool = False,
           statistics: bool = False, show_fixes: bool = False) -> str:
    style = Styler(color)
    result = with_allowed_fixes(result, settings)
    if statistics:
        lines = statistics_lines(result, style)
    else:
        lines = [line for finding in sorted_findings(result) for line in finding_lines(finding, style)]
    if show_fixes:
        lines += fix_list_lines(result)
    if not quiet:
        if lines:
            lines.append("")
        lines += [*fix_summary_lines(result), *baseline_lines(result), summary_line(result, style)]
    return printable("\n".join(lines) + "\n") if lines else ""


def finding_lines(finding: Finding, style: "Styler") -> list[str]:
    severity = style.severity(finding.severity)
    head = f"{style.bold(str(finding.location))}: {style.rule(finding.rule, finding.severity)} [{severity}] {indent_continuation(finding.message)}"
    lines = [head]
    lines += [f"  {style.dim('note:')} {step.location.short} {step.message}" for step in finding.chain]
    lines += [f"  {style.dim('related:')} {related.location.short} {related.message}" for related in finding.related]
    if finding.fix:
        lines.append(f"  {style.help('help:')} {finding.fix}")
    if finding.autofix is not None:
        lines.append(f"  {style.help('fix:')} {fix_text(finding.autofix)}")
    lines += [f"  {style.dim('evidence:')} {evidence}" for evidence in finding.evidence]
    return lines


def with_allowed_fixes(result: CheckResult, settings: Settings) -> CheckResult:
    """The fixes `fixable` / `unfixable` rule out are not offered."""
    if settings.fixable is None and not settings.unfixable:
        return result
    findings = tuple(finding if finding.autofix is None or settings.fix_allowed(finding.rule)
                     else replace(finding, autofix=None) for finding in result.findings)
    return replace(result, findings=findings)


def fix_text(fix: Fix) -> str:
    flags = "`--fix`" if fix.applicability is Applicability.SAFE else "`--fix --unsafe-fixes`"
    note = f": {fix.note}" if fix.note else ""
    return f"{fix.title} ({fix.applicability.value}, {flags}){note}"


def fix_list_lines(result: CheckResult) -> list[str]:
    """`--show-fixes`: the fixes made, or (without `--fix`) the fixes there are."""
    listed = result.fixed or tuple(finding for finding in result.findings if finding.autofix is not None)
    if not listed:
        return []
    head = f"Fixed {plural(len(listed), 'finding')}:" if result.fixed else f"{len(listed)} fix{'es' if len(listed) != 1 else ''} available:"
    return ["", head] + [f"  {finding.location}: {finding.rule} {fix_text(finding.autofix)}"
                         for finding in sorted(listed, key=Finding.sort_key) if finding.autofix is not None]


def fix_summary_lines(result: CheckResult) -> list[str]:
    lines = [f"Fixed {plural(len(result.fixed), 'finding')}."] if result.fixed else []
    safe = sum(1 for f in result.findings if f.autofix is not None and f.autofix.applicability is Applicability.SAFE)
    unsafe = sum(1 for f in result.findings if f.autofix is not None and f.autofix.applicability is Applicability.UNSAFE)
    if safe:
        more = f", {unsafe} more with `--fix --unsafe-fixes`" if unsafe else ""
        lines.append(f"[*] {safe} fixable with `--fix`{more}.")
    elif unsafe:
        lines.append(f"[*] {unsafe} fixable with `--fix --unsafe-fixes`.")
    return lines


def baseline_lines(result: CheckResult) -> list[str]:
    baseline = result.baseline
    if baseline is None:
        return []
    line = f"The baseline {baseline.path} hid {plural(baseline.hidden, 'finding')}"
    if baseline.stale:
        entries = "1 entry no longer matches" if baseline.stale == 1 else f"{baseline.stale} entries no longer match"
        line += f"; {entries} anything: refresh it with `sparklint baseline`"
    return [line + "."]


def indent_continuation(message: str) -> str:
    """A message's later lines stay under it, so every report line still starts with a path or spaces."""
    return "\n    ".join(message.splitlines()) if "\n" in message else message


def summary_line(result: CheckResult, style: "Styler") -> str:
    tally = Tally.of(result)
    files = plural(result.files_checked, "file")
    if tally.total == 0:
        return style.ok(f"All checks passed on {files}.")
    parts = [plural(count, severity.label) for severity, count in tally.by_severity.items() if count]
    # Findings can sit outside the files asked for (down the chain of a checked entry point).
    where = plural(len({finding.location.path for finding in result.findings}), "file")
    return f"Found {plural(tally.total, 'finding')} ({', '.join(parts)}) in {where}; {files} checked."


def statistics_lines(result: CheckResult, style: "Styler") -> list[str]:
    tally = Tally.of(result)
    rules = rule_by_code()
    width = max((len(str(count)) for count in tally.by_rule.values()), default=1)
    lines = []
    for code, count in sorted(tally.by_rule.items(), key=lambda item: (-item[1], item[0])):
        rule = rules.get(code)
        severities = sorted({f.severity for f in result.findings if f.rule == code}, reverse=True)
        labels = "/".join(style.severity(severity) for severity in severities)
        name = rule.slug if rule else ""
        lines.append(f"{count:>{width}}\t{style.rule(code, severities[0])}\t[{labels}] {name}")
    return lines


class Styler:
    """ANSI colour when asked for, plain text otherwise."""

    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _style(self, text: str, **options: object) -> str:
        return click.style(text, **options) if self.enabled else text

    def bold(self, text: str) -> str:
        return self._style(text, bold=True)

    def dim(self, text: str) -> str:
        return self._style(text, fg="blue", bold=True)

    def help(self, text: str) -> str:
        return self._style(text, fg="green", bold=True)

    def ok(self, text: str) -> str:
        return self._style(text, fg="green")

    def rule(self, code: str, severity: Severity) -> str:
        return self._style(code, fg=SEVERITY_COLORS[severity], bold=True)

    def severity(self, severity: Severity) -> str:
        return self._style(severity.label, fg=SEVERITY_COLORS[severity])
