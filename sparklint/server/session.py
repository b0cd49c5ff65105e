"""One editor session: the project root and settings found as `sparklint check` finds them, the
run profiles read once, and one analysis of the project with the open documents overlaid."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

from sparklint.findings import CheckResult, Finding
from sparklint.incremental import Memory
from sparklint.project import find_root, resolved
from sparklint.settings import Settings

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one run found, grouped by project-relative path."""

    result: CheckResult
    by_path: dict[str, tuple[Finding, ...]]


class Session:
    def __init__(self, root_hint: Path, log: Log) -> None:
        from sparklint.config import ConfigError, load_settings

        self.log = log
        try:
            settings = load_settings(None, root_hint, {})
        except ConfigError as error:
            log(f"sparklint: configuration error: {error}; checking with the default settings")
            settings = Settings()
        self.settings = settings
        self.root = find_root([root_hint], settings.root)
        self._runs = None  # the run profiles, read on first use and kept
        # The last run's result and lowered modules: a re-check after an edit starts from them
        # instead of reading the cache from disk (the analysis thread runs one check at a time).
        self._memory = Memory()
        self._runs_lock = threading.Lock()

    def relative(self, path: Path) -> str | None:
        """`path` relative to the root (posix), or None when it is outside the project."""
        try:
            return resolved(path).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def analyse(self, overlays: Mapping[str, str]) -> Analysis:
        """The project checked with `overlays` (relative path -> unsaved text) instead of disk."""
        from sparklint import engine

        result = engine.run_check([self.root], self.settings, overlays={self.root / rel: text for rel, text in overlays.items()},
                                  memory=self._memory)
        if self.settings.profiles:
            result = self._with_evidence(result)
        by_path: dict[str, list[Finding]] = {}
        for finding in result.findings:
            by_path.setdefault(finding.location.path, []).append(finding)
        return Analysis(result, {path: tuple(items) for path, items in by_path.items()})

    def prepare(self, overlays: Mapping[str, str]) -> None:
        """While no edit waits: load what the next re-check reads (`engine.prepare`)."""
        from sparklint import engine

        engine.prepare([self.root], self.settings, self._memory,
                       overlays={self.root / rel: text for rel, text in overlays.items()})

    def _with_evidence(self, result: CheckResult) -> CheckResult:
        """Run-profile evidence, from profiles read once per session (never on each keystroke)."""
        from sparklint.profile.matching import attach_evidence

        runs = self._profile_runs(result.root)
        if not runs:
            return result
        return replace(attach_evidence(result, runs, self.settings), warnings=result.warnings)

    def _profile_runs(self, root: str) -> tuple:
        with self._runs_lock:
            if self._runs is None:
                from sparklint.profile.api import cache_for, load_runs, options_from

                try:
                    run_filter, read_options = options_from(self.settings.profile_options)
                    loaded = load_runs(self.settings.profiles, run_filter, read_options,
                                       cache_for(self.settings, root), self.settings.debug)
                except (TypeError, ValueError) as error:
                    self.log(f"sparklint: bad profile option: {error}")
                    self._runs = ()
                else:
                    for warning in loaded.warnings:
                        self.log(f"sparklint: {warning}")
                    self._runs = tuple(loaded.runs)
                    self.log(f"sparklint: read {len(self._runs)} run profile(s)")
            return self._runs
