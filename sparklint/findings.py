"""What rules report: findings with a primary location, related locations and a call chain."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


class Severity(enum.IntEnum):
    NOTE = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        return cls[text.strip().upper()]

    def raised(self) -> "Severity":
        return Severity(min(self.value + 1, Severity.ERROR.value))


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file. `path` is posix and relative to the project root."""

    path: str
    line: int
    col: int = 1
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    @property
    def short(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Related:
    location: Location
    message: str


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One hop of the path from the job's entry point to the finding, e.g.
    `jobs/in_sites.py:21  run() calls steps.publish(...)`."""

    location: Location
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # "SPK001"
    severity: Severity
    message: str
    location: Location
    related: tuple[Related, ...] = ()
    chain: tuple[ChainStep, ...] = ()
    fix: str | None = None  # a short imperative help line
    # Stable, line-free identity parts (rule-specific), used for fingerprints and dedup.
    key: tuple[str, ...] = ()
    # Runtime evidence attached by a run profile: human-readable lines and raw figures.
    evidence: tuple[str, ...] = ()
    properties: dict = field(default_factory=dict, compare=False, hash=False)

    def with_severity(self, severity: Severity) -> "Finding":
        return replace(self, severity=severity)

    def sort_key(self) -> tuple:
        return (self.location.path, self.location.line, self.location.col, self.rule)


@dataclass(frozen=True, slots=True)
class NoqaSpan:
    """A `# noqa: SPKnnn` comment and the statement lines it covers, for findings added after
    the static run (run-profile findings)."""

    path: str
    first_line: int
    last_line: int
    codes: tuple[str, ...]

    def covers(self, finding: "Finding") -> bool:
        return (
            finding.location.path == self.path
            and finding.rule in self.codes
            and self.first_line <= finding.location.line <= self.last_line
        )


@dataclass(frozen=True, slots=True)
class FileTiming:
    path: str
    lines: int
    lower_seconds: float  # parsing and lowering into the model; 0 when read from the cache
    analyse_seconds: float  # the analysis roots defined in this file (with what they called first)


@dataclass(frozen=True, slots=True)
class RootTiming:
    """One analysis root (an entry point, a function, a module's code) and how long it took."""

    path: str
    label: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Timings:
    phases: tuple[tuple[str, float], ...]
    files: tuple[FileTiming, ...]
    slowest_roots: tuple[RootTiming, ...]
    lowered_files: int = 0  # files lowered in this run; the others came from the cache
    analysis_reused: bool = False  # the last run's analysis, since no file and no setting changed


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything one `sparklint check` run produced, handed to the reporters."""

    findings: tuple[Finding, ...]
    files_checked: int
    lines_checked: int
    root: str  # absolute path of the project root
    warnings: tuple[str, ...] = ()  # non-fatal problems (unreadable files, bad profiles)
    seconds: float = 0.0
    # Every Spark operation the static analysis saw (writes, joins, groupings), as plain dicts in
    # the schema documented in sparklint/graph/facts.py; run profiles match runtime plans to them.
    operations: tuple[dict, ...] = ()
    files: tuple[str, ...] = ()  # every source file of the project, relative to `root`
    noqa: tuple[NoqaSpan, ...] = ()  # every noqa comment of the project
    # Where the analysis reached a brake (a function called in too many contexts, a root that
    # calls too much): findings through that code may be missing. Said once in the summary.
    notes: tuple[str, ...] = ()
    timings: Timings | None = None
