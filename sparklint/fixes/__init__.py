"""Fixes: the rules describe a fix in the model's terms (a call by where its name stands, an
operand, an argument, a `noqa` comment; see `sparklint.findings.Fix`); this package turns the
descriptions into text. Python through libcst (`python.py`), Scala as byte-range edits on
tree-sitter spans (`scala.py`); `plan.py` chooses and combines the fixes of one round, `loop.py`
checks and fixes until nothing is left to fix, and writes or diffs the result.
"""

from __future__ import annotations

from sparklint.fixes.errors import FixError
from sparklint.fixes.loop import FixRun, diff, fix_project, read_project, write_fixes
from sparklint.fixes.plan import described, fix_enabled, fixer_for, with_changes

__all__ = ["FixError", "FixRun", "described", "diff", "fix_enabled", "fix_project", "fixer_for",
           "read_project", "with_changes", "write_fixes"]
