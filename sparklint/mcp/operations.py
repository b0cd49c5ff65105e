"""What the MCP tools do, free of the protocol: each builds the document the matching command prints,
from the same functions the command line uses. A problem the caller can fix is a `UserError` of one
line; nothing here writes to stdout."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Sequence

from sparklint.cli import UserError, check_settings, full_check, load_baseline, with_fix_changes

# One analysis at a time: tools run in the SDK's worker threads, and the engine forks its parsing
# workers and writes its cache; a second check waits rather than racing the first.
ENGINE_LOCK = threading.Lock()


def check_document(paths: Sequence[str], base: Path, *, select: list[str] | None = None,
                   ignore: list[str] | None = None, profile: list[str] | None = None,
                   app_name: str | None = None, last: int | None = None) -> tuple[str, dict[str, Any]]:
    """`sparklint check --output-format json PATHS...` run from `base`: the report's text and its value.

    Run profiles named here must be readable (as with `--profile-required`): the caller asked for them.
    Profiles from the configuration file stay best effort, their problems in the report's warnings."""
    from sparklint.report import json as json_report

    checked = [existing_path(path, base) for path in paths or ["."]]
    sources = [profile_source(source, base) for source in profile or ()]
    # An empty list means no choice, as leaving out `--select` does, not "no rule at all".
    settings = check_settings(checked, select=select or None, ignore=ignore or None, profiles=sources,
                              profile_required=bool(sources), app_name=app_name, last=last)
    with ENGINE_LOCK:
        result = with_fix_changes(full_check(checked, settings, load_baseline(settings), quiet=True), settings)
    text = json_report.render(result, settings)
    return text, json.loads(text)


def profile_document(sources: Sequence[str], base: Path, *, app_name: str | None = None,
                     app_id: str | None = None, last: int | None = None) -> tuple[str, dict[str, Any]]:
    """`sparklint profile --output-format json SOURCE...` run from `base`; reading no run is a UserError."""
    from sparklint.profile.api import RunFilter, cache_for, load_runs
    from sparklint.profile.sources import ReadOptions
    from sparklint.profile.summary import render_json
    from sparklint.settings import Settings

    if not sources:
        raise UserError("name at least one run profile source: an event log, a log directory or a History Server URL")
    loaded = load_runs([profile_source(source, base) for source in sources],
                       RunFilter(app_name=app_name, app_id=app_id, last=last), ReadOptions(),
                       cache_for(Settings(), base))
    if not loaded.runs:
        raise UserError(f"no run could be read: {loaded.warnings[0]}" if loaded.warnings
                        else f"no run could be read from {', '.join(sources)}")
    text = render_json(list(loaded.runs), list(loaded.warnings))
    return text, json.loads(text)


def rule_catalogue() -> tuple[str, dict[str, Any]]:
    """Every rule, as `sparklint rules` lists them, with the URI of its document: as text and value."""
    from sparklint.catalogue import all_rules

    catalogue = {"rules": [{"code": rule.code, "name": rule.slug, "severity": rule.severity.label,
                            "summary": rule.summary, "document": rule_uri(rule.code)} for rule in all_rules()]}
    return json.dumps(catalogue, indent=2, ensure_ascii=False) + "\n", catalogue


def rule_uri(code: str) -> str:
    return f"sparklint://rules/{code}"


def existing_path(path: str, base: Path) -> Path:
    resolved = base / Path(path).expanduser()
    if not os.path.lexists(resolved):
        raise UserError(f"path '{path}' does not exist (relative paths resolve against {base})")
    return resolved


def profile_source(source: str, base: Path) -> str:
    """A History Server URL as given; a file or directory resolved against `base`."""
    from sparklint.config import resolve_profile_source

    return resolve_profile_source(os.path.expanduser(source), base)
