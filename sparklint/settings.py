"""One `Settings` value: what `[tool.sparklint]` and the command line decided together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklint.findings import Severity

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
    "build", "dist", "target", ".bsp", ".metals", ".bloop", ".idea", ".sparklint_cache",
    "site-packages",
)

# Where test code lives: job-cost rules (the cost of a run on real data) do not report there.
# A pattern ending in `/` names a directory anywhere in the path, else a file name glob, or a
# path fragment when it holds a `/`.
DEFAULT_TEST_PATHS = ("tests/", "test_*.py", "*_test.py", "src/test/", "*Spec.scala", "*Suite.scala")


@dataclass(frozen=True, slots=True)
class Settings:
    root: Path | None = None  # project root; found from the paths when None
    select: frozenset[str] | None = None  # None: every rule
    ignore: frozenset[str] = frozenset()
    fail_on: Severity = Severity.WARNING
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    # Per-rule options keyed by rule code, e.g. {"SPK001": {"max-partitions": 16}}; a missing
    # option takes the default the rule declares.
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    use_cache: bool = True
    cache_dir: Path | None = None  # default: <root>/.sparklint_cache
    jobs: int | None = None  # worker processes for parsing; None: all cores
    profiles: tuple[str, ...] = ()  # event logs, log directories, History Server URLs
    profile_options: dict[str, Any] = field(default_factory=dict)
    profile_required: bool = False
    # Spark properties the jobs run with, as `spark-defaults.conf` would set them: what the rules
    # cannot see in the code (a cluster's defaults, `spark-submit --conf`).
    spark_conf: dict[str, str] = field(default_factory=dict)
    debug: bool = False
    # Rules whose fixes `--fix` applies (None: every rule), and rules whose fixes it never applies.
    fixable: frozenset[str] | None = None
    unfixable: frozenset[str] = frozenset()
    baseline: Path | None = None  # findings recorded here are not reported
    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS  # `[]` lets job-cost rules report in tests too

    def rule_enabled(self, code: str) -> bool:
        if code in self.ignore:
            return False
        return self.select is None or code in self.select

    def fix_allowed(self, code: str) -> bool:
        """Whether `--fix` may apply this rule's fixes (`fixable` / `unfixable`)."""
        return code not in self.unfixable and (self.fixable is None or code in self.fixable)

    def option(self, code: str, name: str, default: Any) -> Any:
        return self.rule_options.get(code, {}).get(name, default)
