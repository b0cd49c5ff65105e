"""The rules. Each module declares its `RULE` as data and a `check(event, context)` generator
that turns the interpreter's events into findings."""

from __future__ import annotations

from sparklint.checks import coalesce_before_write, empty_string_grouping_key, missing_broadcast_hint

CHECKS = (coalesce_before_write, missing_broadcast_hint, empty_string_grouping_key)
