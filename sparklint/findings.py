"""What rules report: findings with a primary location, related locations and a call chain."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Union

from sparklint.pickling import by_fields


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
class SqlLocation(Location):
    """A place inside Spark SQL held in a string literal: reported like any other, but no fix
    edits it (sparklint rewrites code, never the SQL text)."""


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


class Applicability(enum.Enum):
    """How far a fix can be trusted, in ruff's terms. A safe fix writes the same data; an unsafe
    one writes correct data with a different layout or different values (and is applied only
    with `--unsafe-fixes`)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True)
class CallSite:
    """A call in the source, named by where its callee's name stands (the `coalesce` of
    `df.coalesce(2)`) and the names it may be spelled with there."""

    location: Location
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Operand:
    """One operand of a call: its receiver (`index is None`: `events` in `events.join(...)`) or
    an argument, by position or, when passed by name, by `keyword`."""

    call: CallSite
    index: int | None
    keyword: str | None = None


@dataclass(frozen=True, slots=True)
class RenameCall:
    """Call another method: `df.coalesce(2)` -> `df.repartition(2)`."""

    call: CallSite
    new_name: str


@dataclass(frozen=True, slots=True)
class ReplaceArgument:
    """Pass `value` instead of what the argument holds now."""

    argument: Operand
    value: int


@dataclass(frozen=True, slots=True)
class WrapInFunction:
    """Wrap the operand in a call of the Spark SQL function `function`, with `literals` as its
    further arguments, each as a Spark literal: `nullif(x, lit(""))`. The import it needs is the
    fixer's business (`F.nullif` where the module imports `functions as F`)."""

    operand: Operand
    function: str
    literals: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class RemoveNoqaCode:
    """Drop `code` from the `noqa` comment at `location`, and the comment when it was the only code."""

    location: Location
    code: str


Edit = Union[RenameCall, ReplaceArgument, WrapInFunction, RemoveNoqaCode]


def edit_path(edit: Edit) -> str:
    if isinstance(edit, RemoveNoqaCode):
        return edit.location.path
    if isinstance(edit, RenameCall):
        return edit.call.location.path
    operand = edit.argument if isinstance(edit, ReplaceArgument) else edit.operand
    return operand.call.location.path


@dataclass(frozen=True, slots=True)
class TextChange:
    """Replace the text from (line, col) up to (end_line, end_col) (1-based, code points, end
    exclusive; equal ends insert) with `text`: a fix's edits as written into one file."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A rule's description of its fix, in the model's terms. `sparklint.fixes` turns the edits
    into text (and fills `changes` with it); every edit of a fix is applied, or none."""

    title: str  # imperative, short: "Wrap `countries` in `broadcast(...)`"
    applicability: Applicability
    edits: tuple[Edit, ...]
    note: str | None = None  # what an unsafe fix changes: "the write makes 200 files per partition instead of 2"
    changes: tuple[TextChange, ...] = ()

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(edit_path(edit) for edit in self.edits))


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
    autofix: Fix | None = field(default=None, compare=False, hash=False)  # what `--fix` can do

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
    groups: int = 0  # groups of roots (one per file with code to analyse)
    groups_analysed: int = 0  # of them, analysed in this run; the others' results were reused


@dataclass(frozen=True, slots=True)
class BaselineSummary:
    """What a baseline did to a run: the findings it hid, and its entries that matched nothing
    (code fixed or changed since: the file can be refreshed)."""

    path: str
    hidden: int
    stale: int


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
    fixed: tuple[Finding, ...] = ()  # findings whose fixes `--fix` applied (as they were before)
    baseline: BaselineSummary | None = None  # set when `--baseline` hid findings


# A stored result holds thousands of these.
by_fields(Location, SqlLocation, Related, ChainStep, CallSite, Operand, RenameCall, ReplaceArgument, WrapInFunction,
          RemoveNoqaCode, TextChange, Fix, Finding)
