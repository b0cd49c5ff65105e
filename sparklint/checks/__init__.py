"""The rules. Each module declares its `RULE` as data and a `check(event, context)` generator
that turns the interpreter's events into findings."""

from __future__ import annotations

from sparklint.checks import (
    cartesian_join, coalesce_before_write, collect_to_driver, count_for_emptiness, empty_string_grouping_key,
    missing_broadcast_hint, partitioned_write_scatter, recomputed_without_cache, schema_inference_on_read,
    withcolumn_in_loop,
)

CHECKS = (
    coalesce_before_write, missing_broadcast_hint, empty_string_grouping_key, collect_to_driver,
    count_for_emptiness, schema_inference_on_read, partitioned_write_scatter, cartesian_join, withcolumn_in_loop,
    recomputed_without_cache,
)
