"""`sparklint report --html FILE`: one self-contained HTML page of a check with run profiles.

The findings with their chains and evidence, and per finding measured over runs a small chart of
its stage time and input over the runs (inline SVG). No script, font or image is fetched: the
page renders the same offline.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from sparklint.findings import Finding
from sparklint.profile.summary import format_bytes, format_ms

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 360, 120, 28
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1000px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}.meta{color:#5b6475;margin-bottom:18px}
.finding{border:1px solid #d8dde6;border-radius:8px;padding:12px 16px;margin:14px 0}
.head{font-weight:600}.where{font-family:ui-monospace,Menlo,monospace;color:#3a4254}
.sev{display:inline-block;border-radius:4px;padding:0 6px;color:#fff;font-size:12px;margin-right:6px}
.error{background:#c62828}.warning{background:#ef6c00}.note{background:#1565c0}
ol.chain{margin:6px 0;padding-left:22px;color:#3a4254}ul.evidence{margin:6px 0;padding-left:18px}
.regression{color:#b71c1c;font-weight:600}svg{display:block;margin-top:8px}
.legend{font-size:12px;color:#5b6475}.time{color:#1565c0}.input{color:#2e7d32}
"""


def render_html(findings: Sequence[Finding], root: str, warnings: Sequence[str] = (), title: str = "sparklint report") -> str:
    measured = sum(1 for finding in findings if _runs(finding))
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<div class=meta>{len(findings)} findings in {_e(root)}; {measured} with run-profile evidence</div>",
    ]
    parts += [_finding_html(finding) for finding in findings]
    if warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{_e(item)}</li>" for item in warnings) + "</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _finding_html(finding: Finding) -> str:
    place = f"{finding.location.path}:{finding.location.line}"
    severity = finding.severity.label
    chain = "".join(f"<li><span class=where>{_e(step.location.path)}:{step.location.line}</span> {_e(step.message)}</li>"
                    for step in finding.chain)
    evidence = "".join(
        f"<li class=regression>{_e(line)}</li>" if line.startswith("regression since") else f"<li>{_e(line)}</li>"
        for line in finding.evidence)
    runs = _runs(finding)
    return (
        f"<section class=finding><div class=head><span class='sev {severity}'>{severity}</span>"
        f"{_e(finding.rule)} <span class=where>{_e(place)}</span></div>"
        f"<div>{_e(finding.message)}</div>"
        + (f"<ol class=chain>{chain}</ol>" if chain else "")
        + (f"<ul class=evidence>{evidence}</ul>" if evidence else "")
        + (chart_svg(runs) if runs else "")
        + "</section>"
    )


def _runs(finding: Finding) -> list[dict[str, Any]]:
    evidence = finding.properties.get("evidence")
    runs = evidence.get("runs") if isinstance(evidence, dict) else None
    timed = [facts for facts in runs or () if isinstance(facts, dict) and isinstance(facts.get("stage_wall_ms"), int)]
    return timed[::-1]  # oldest first, left to right


def chart_svg(runs: Sequence[dict[str, Any]]) -> str:
    """Stage time (bars) and input (line) per run, oldest on the left, each on its own scale."""
    count = len(runs)
    inner_width, inner_height = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    slot = inner_width / count
    top_time = max(facts["stage_wall_ms"] for facts in runs) or 1
    inputs = [facts.get("input_bytes") or 0 for facts in runs]
    top_input = max(inputs) or 1
    bars, points = [], []
    for index, facts in enumerate(runs):
        height = inner_height * facts["stage_wall_ms"] / top_time
        x = CHART_PAD + index * slot
        label = f"{facts.get('app_id', '')}: {format_ms(facts['stage_wall_ms'])}, input {format_bytes(inputs[index])}"
        bars.append(f"<rect x='{x + slot * 0.15:.1f}' y='{CHART_PAD + inner_height - height:.1f}' "
                    f"width='{slot * 0.7:.1f}' height='{max(height, 1):.1f}' fill='#1565c0'><title>{_e(label)}</title></rect>")
        points.append(f"{x + slot / 2:.1f},{CHART_PAD + inner_height - inner_height * inputs[index] / top_input:.1f}")
    line = (f"<polyline points='{' '.join(points)}' fill='none' stroke='#2e7d32' stroke-width='2'/>"
            if any(inputs) else "")
    axis = (f"<line x1='{CHART_PAD}' y1='{CHART_PAD + inner_height}' x2='{CHART_PAD + inner_width}' "
            f"y2='{CHART_PAD + inner_height}' stroke='#8a93a6'/>")
    labels = (f"<text x='{CHART_PAD}' y='16' font-size='11' fill='#1565c0'>stage time, up to {_e(format_ms(top_time))}</text>"
              f"<text x='{CHART_WIDTH - CHART_PAD}' y='16' font-size='11' fill='#2e7d32' text-anchor='end'>"
              f"{'input, up to ' + _e(format_bytes(top_input)) if any(inputs) else 'no input measured'}</text>"
              f"<text x='{CHART_PAD}' y='{CHART_HEIGHT - 8}' font-size='11' fill='#5b6475'>{count} runs, oldest first</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{CHART_WIDTH}' height='{CHART_HEIGHT}' "
            f"role='img' aria-label='stage time and input over {count} runs'>{axis}{''.join(bars)}{line}{labels}</svg>")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@click.command("report")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write the report to this HTML file.")
@click.option("--profile", "profiles", multiple=True, metavar="SOURCE",
              help="Spark event log, log directory, run index or History Server URL (repeatable).")
@click.option("--app-name", help="Use runs of the Spark application with this name.")
@click.option("--app-id", help="Use the run with this Spark application id.")
@click.option("--last", type=click.IntRange(min=1), help="Use the last N runs.")
@click.option("--since", metavar="DATE", help="Use runs that started on or after DATE (2026-03-01; UTC).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A pyproject.toml or sparklint.toml to read instead of discovering one.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the caches.")
def report_command(paths: tuple[Path, ...], html_file: Path, profiles: tuple[str, ...], app_name: str | None,
                   app_id: str | None, last: int | None, since: str | None, config_file: Path | None,
                   no_cache: bool) -> None:
    """Check PATHS (default: the current directory) with run profiles and write one self-contained
    HTML page: the findings, their chains, and a chart of stage time and input over the runs."""
    from sparklint.cli import apply_run_profiles, check_settings, run_engine, warn

    paths = paths or (Path("."),)
    settings = check_settings(paths, config_file=config_file, no_cache=no_cache, profiles=profiles,
                              app_name=app_name, app_id=app_id, last=last, since=since)
    result = run_engine(list(paths), settings, show_progress=False)
    if settings.profiles:
        result = apply_run_profiles(result, settings, quiet=False)
    for message in result.warnings:
        warn(message)
    html_file.write_text(render_html(result.findings, str(result.root), result.warnings), encoding="utf-8")
    click.echo(f"sparklint: wrote {html_file} ({len(result.findings)} findings)", err=True)
