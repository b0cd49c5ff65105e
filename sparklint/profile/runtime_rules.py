"""Rules that only a run profile can raise: what the event log measured, pointed at the code
that ran it (the static operation it matches, or a PySpark call site `file.py:line`).

Each threshold is an option of its rule, set in the rule's table (`[tool.sparklint.skewed-shuffle]
skew-ratio = 8`) or, for every rule at once, in `[tool.sparklint] profile-options`; the rule's
table wins. Thresholds that raise static findings (`EVIDENCE_OPTIONS`) live in `profile-options`.
"""

from __future__ import annotations

from sparklint.findings import Severity
from sparklint.rules import Rule, RuleOption
from sparklint.settings import Settings

MIB = 1024 * 1024

SKEWED_SHUFFLE = Rule(
    code="SPK201",
    slug="skewed-shuffle",
    summary="One task of a shuffle stage read far more than the median task (measured skew)",
    severity=Severity.WARNING,
    precision="high",
    options=(
        RuleOption("skew-ratio", 4.0, float, "Report when the largest task reads this many times the median."),
        RuleOption("skew-min-bytes", 256 * MIB, int, "...and the largest task reads at least this many bytes."),
    ),
    fix_title="Normalise the key (\"\" and nulls), salt it, or let AQE split skewed partitions",
)

UNDER_PARALLEL_WRITE = Rule(
    code="SPK202",
    slug="under-parallel-write",
    summary="A write ran as fewer tasks than the cores it had, each writing a lot (measured)",
    severity=Severity.WARNING,
    precision="high",
    options=(
        RuleOption("write-min-bytes-per-task", 1024 * MIB, int,
                   "Report when the write's largest task wrote at least this many bytes..."),
        RuleOption("write-max-core-share", 0.5, float, "...and tasks / cores is at most this."),
    ),
    fix_title="Write with `repartition(N)`, N about the total executor cores",
)

SMALL_FILES = Rule(
    code="SPK203",
    slug="small-files",
    summary="A write produced many files far smaller than a useful file size (measured)",
    severity=Severity.WARNING,
    precision="high",
    options=(
        RuleOption("small-file-bytes", 16 * MIB, int, "Report when the average file is below this size..."),
        RuleOption("small-files-min-count", 200, int, "...and the write produced at least this many files."),
    ),
    fix_title="Repartition by the table's partition columns before the write, or compact the table",
)

IDLE_CORES = Rule(
    code="SPK204",
    slug="idle-cores",
    summary="A long stage kept most of the run's cores idle (measured core utilisation)",
    severity=Severity.NOTE,
    precision="medium",
    options=(
        RuleOption("idle-max-utilisation", 0.25, float, "Report when task time / (cores x stage wall) is below this..."),
        RuleOption("idle-min-stage-ms", 10 * 60 * 1000, int, "...for a stage that ran at least this long."),
    ),
    fix_title="Give the stage at least as many tasks as cores (repartition) or shrink the cluster",
)

# Thresholds raising severity of static findings that a profile confirms, and the size under
# which a measured sort-merge join side is small (SPK002 from evidence).
EVIDENCE_OPTIONS = (
    RuleOption("raise-on-spill", True, bool, "A static finding whose operation spilled is raised."),
    RuleOption("broadcast-max-bytes", 10 * MIB, int,
               "A sort-merge join side measured at or below this is small (Spark's default broadcast threshold)."),
    RuleOption("collect-max-result-share", 0.25, float,
               "SPK004 is raised when its tasks sent the driver at least this share of the run's "
               "`spark.driver.maxResultSize`..."),
    RuleOption("collect-max-result-bytes", 256 * MIB, int,
               "...or, when the log records no limit (or 0, none), at least this many bytes "
               "(a quarter of Spark's default 1g)."),
    RuleOption("rescan-min-bytes", 64 * MIB, int,
               "SPK006 is raised when the executions after the first read at least this many bytes of the shared input again."),
)

RUNTIME_RULES = (SKEWED_SHUFFLE, UNDER_PARALLEL_WRITE, SMALL_FILES, IDLE_CORES)
THRESHOLD_OPTIONS: dict[str, RuleOption] = {
    option.name: option for rule in RUNTIME_RULES for option in rule.options
} | {option.name: option for option in EVIDENCE_OPTIONS}
# The rule that declares each threshold (its table in the configuration may set it).
OPTION_RULE: dict[str, str] = {option.name: rule.code for rule in RUNTIME_RULES for option in rule.options} | {
    "broadcast-max-bytes": "SPK002",
}


def threshold(settings: Settings, name: str):
    """A threshold: the rule's table (`Settings.rule_options`), else `profile-options`, else the
    documented default; converted to the option's type."""
    option = THRESHOLD_OPTIONS[name]
    value = settings.profile_options.get(name, option.default)
    code = OPTION_RULE.get(name)
    if code is not None:
        value = settings.option(code, name, value)
    if option.type is bool:
        return bool(value)
    return option.type(value)
