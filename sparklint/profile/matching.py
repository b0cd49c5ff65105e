"""Match what a run measured to the operations the static analysis found, attach the
measurements to findings as evidence, raise severities the measurements confirm, and report
runtime-only problems (SPK201-SPK204) at the code that ran them.

Precision first: a runtime write/join/grouping is matched to a static operation only when
nothing contradicts it (target, format, mode, coalesce count, join keys) and something
identifies it: the same target, the same call site (`collect at jobs/x.py:21`), or a shape
(operators, format, mode) that exactly one static operation and exactly one runtime operation
share. Anything ambiguous gets no evidence. Joins map the other way round: every runtime join
goes to the one static join it comes from (call site and stack first, then the only join of
its keys), so a join that ran in several executions or runs is one finding with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from sparklint.findings import ChainStep, CheckResult, Finding, Location, NoqaSpan, Severity
from sparklint.profile.model import (
    BROADCAST_PROPERTIES,
    JoinProfile,
    JoinSide,
    PlanNode,
    RunProfile,
    ScanProfile,
    SqlExecutionProfile,
    StageProfile,
    WriteProfile,
)
from sparklint.profile.runtime_rules import (
    IDLE_CORES,
    SKEWED_SHUFFLE,
    SMALL_FILES,
    UNDER_PARALLEL_WRITE,
    threshold,
)
from sparklint.profile.summary import format_bytes, format_ms
from sparklint.profile.trend import stage_facts, trend_lines, trend_of
from sparklint.settings import Settings

UNUSED_NOQA_CODE = "SPK100"
MISSING_BROADCAST_CODE = "SPK002"  # the static rule; a profile can also prove a join side small
RECOMPUTED_CODE = "SPK006"  # recomputed-without-cache: confirmed by executions scanning the same input
_CALL_SITE = re.compile(r"^\S+ at (?P<file>.+?):(?P<line>\d+)$")
_FRAME = re.compile(r"\((?P<file>[^():\s]+\.(?:scala|java|kt|py)):(?P<line>\d+)\)")
_COALESCE_OP = re.compile(r"^coalesce\((\d+)\)$")
_COLUMN = re.compile(r"([A-Za-z_][\w]*)#\d+L?")
_FORMATS = {"parquet", "orc", "csv", "json", "text", "avro", "delta", "iceberg", "jdbc"}
_SORT_OPS = ("sortWithinPartitions", "sort(", "orderBy")
_KNOWN_LEAVES = frozenset({"table", "path", "range", "literal"})
# What a hash-partitioned shuffle served, from the operator reading it; and the same for each
# kind of static grouping.
_SHUFFLE_CONSUMERS = {"HashAggregate": "aggregate", "ObjectHashAggregate": "aggregate", "SortAggregate": "aggregate",
                      "Window": "window", "WindowGroupLimit": "window", "SortMergeJoin": "join", "ShuffledHashJoin": "join"}
_STATIC_SHUFFLE_KINDS = {"groupBy": "aggregate", "dropDuplicates": "aggregate", "window": "window",
                         "repartition": "repartition", "join": "join"}
# Operators between a shuffle and the operator that reads it.
_SHUFFLE_WRAPPERS = ("ShuffleQueryStage", "AQEShuffleRead", "CustomShuffleReader", "InputAdapter", "Sort",
                     "ColumnarToRow")
_STAGE_BOUNDARIES = ("Exchange", "BroadcastExchange", "BroadcastQueryStage")
# Types whose values cannot be "": a coalesce over them cannot collapse rows on an empty string.
_NON_STRING_TYPES = frozenset({"bigint", "int", "integer", "long", "smallint", "tinyint", "short", "byte", "double",
                               "float", "real", "decimal", "numeric", "date", "timestamp", "timestamp_ntz",
                               "timestamp_ltz", "boolean"})


@dataclass(frozen=True, slots=True)
class RuntimeWrite:
    run: RunProfile
    execution: SqlExecutionProfile
    write: WriteProfile
    coalesce: int | None  # N of a `Coalesce N` under the write, None when there is none
    sorted: bool
    stage: StageProfile | None


@dataclass(frozen=True, slots=True)
class RuntimeJoin:
    run: RunProfile
    execution: SqlExecutionProfile
    join: JoinProfile
    keys: tuple[str, ...]
    stage: StageProfile | None


@dataclass(frozen=True, slots=True)
class RuntimeShuffle:
    """A hash-partitioned shuffle of a plan: by which keys, for what, and the stage that read it."""

    run: RunProfile
    execution: SqlExecutionProfile
    exchange: str  # "Exchange hashpartitioning(visitor_key#8, site_id#6L, 8), ENSURE_REQUIREMENTS, ..."
    kind: str  # "aggregate", "window", "join", "repartition"; "" when nothing says
    keys: tuple[str, ...]
    stage: StageProfile | None


# ---------------------------------------------------------------- runtime side


def runtime_writes(run: RunProfile) -> list[RuntimeWrite]:
    found = []
    for execution in run.sql_executions:
        if execution.plan is None:
            continue
        for write in execution.writes:
            node = _write_node(execution.plan, write)
            below = list(node.walk()) if node else []
            coalesce = next(
                (_int_suffix(item.description) for item in below if item.name == "Coalesce"), None
            )
            is_sorted = any(item.name == "Sort" for item in below)
            found.append(RuntimeWrite(run, execution, write, coalesce, is_sorted, _write_stage(run, execution)))
    return found


def runtime_joins(run: RunProfile) -> list[RuntimeJoin]:
    found = []
    for execution in run.sql_executions:
        if execution.plan is None:
            continue
        for join in execution.joins:
            keys = _join_keys(join.description)
            found.append(RuntimeJoin(run, execution, join, keys, _stage_running(run, execution, join.description)))
    return found


def runtime_shuffles(run: RunProfile) -> list[RuntimeShuffle]:
    found = []
    for execution in run.sql_executions:
        if execution.plan is None:
            continue
        for exchange, consumer, codegen in _hash_exchanges(execution.plan):
            kind = "repartition" if "REPARTITION_BY_COL" in exchange.description else _SHUFFLE_CONSUMERS.get(consumer, "")
            stage = _reading_stage(run, execution, codegen or consumer)
            found.append(RuntimeShuffle(run, execution, exchange.description, kind,
                                        _partition_keys(exchange.description), stage))
    return found


def _hash_exchanges(plan: PlanNode) -> Iterable[tuple[PlanNode, str, str | None]]:
    """Each hash-partitioned Exchange, the operator that reads it and the nearest codegen block
    above it (both run in the stage that reads the shuffle)."""
    stack: list[tuple[PlanNode, str, str | None]] = [(plan, "", None)]
    while stack:
        node, consumer, codegen = stack.pop()
        if node.name in _STAGE_BOUNDARIES:
            if node.name == "Exchange" and "hashpartitioning(" in node.description:
                yield node, consumer, codegen
            consumer, codegen = "", None
        elif node.name.startswith("WholeStageCodegen"):
            codegen = node.name
        elif not node.name.startswith(_SHUFFLE_WRAPPERS):
            consumer = node.name
        stack.extend((child, consumer, codegen) for child in reversed(node.children))


def _partition_keys(description: str) -> tuple[str, ...]:
    """`Exchange hashpartitioning(visitor_key#8, site_id#6L, 8), ...` -> ("visitor_key", "site_id")."""
    start = description.find("hashpartitioning(")
    if start < 0:
        return ()
    inner, depth = [], 1
    for char in description[start + len("hashpartitioning("):]:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            break
        inner.append(char)
    return tuple(dict.fromkeys(_COLUMN.findall("".join(inner))))


def _reading_stage(run: RunProfile, execution: SqlExecutionProfile, scope: str) -> StageProfile | None:
    """The stage of the execution that read a shuffle and ran the RDD scope of its reader."""
    if not scope:
        return None
    candidates = [stage for stage in run.stages_of(execution)
                  if scope in stage.rdd_scopes and (stage.shuffle_read_bytes.total or stage.shuffle_read_records)]
    return max(candidates, key=lambda stage: (stage.attempt, stage.stage_id)) if candidates else None


def _write_node(plan: PlanNode, write: WriteProfile) -> PlanNode | None:
    for node in plan.walk():
        if node.name.removeprefix("Execute ").strip() == write.command:
            return node
    return None


def _int_suffix(text: str) -> int | None:
    match = re.search(r"(\d+)\s*$", text)
    return int(match.group(1)) if match else None


def _write_stage(run: RunProfile, execution: SqlExecutionProfile) -> StageProfile | None:
    stages = [stage for stage in run.stages_of(execution) if stage.status != "failed"]
    writing = [stage for stage in stages if "WriteFiles" in stage.rdd_scopes or stage.output_records]
    chosen = writing or stages
    return max(chosen, key=lambda stage: (stage.output_bytes.total, stage.stage_id)) if chosen else None


def _stage_running(run: RunProfile, execution: SqlExecutionProfile, description: str) -> StageProfile | None:
    """The stage that ran the plan node described: the one whose RDD scopes hold the
    whole-stage-codegen block the node sits in."""
    if execution.plan is None:
        return None
    codegen = _enclosing_codegen(execution.plan, description)
    if codegen is None:
        return None
    candidates = [stage for stage in run.stages_of(execution) if codegen in stage.rdd_scopes]
    return max(candidates, key=lambda stage: (stage.attempt, stage.stage_id)) if candidates else None


def _enclosing_codegen(plan: PlanNode, description: str) -> str | None:
    """The `WholeStageCodegen (k)` block a node runs in (an InputAdapter ends a block)."""
    stack: list[tuple[PlanNode, str | None]] = [(plan, None)]
    while stack:
        node, codegen = stack.pop()
        if node.name.startswith("WholeStageCodegen"):
            codegen = node.name
        if node.description == description:
            return codegen
        below = None if node.name == "InputAdapter" else codegen
        stack.extend((child, below) for child in node.children)
    return None


def _join_keys(description: str) -> tuple[str, ...]:
    """Left keys of `SortMergeJoin [cast(site#2 as bigint)], [site#4L], Inner` -> ("site",)."""
    bracket = re.search(r"\[([^\]]*)\]", description)
    if not bracket:
        return ()
    return tuple(dict.fromkeys(_COLUMN.findall(bracket.group(1))))


def call_site(text: str) -> tuple[str, int] | None:
    """`collect at /abs/jobs/x.py:21` -> ("/abs/jobs/x.py", 21); JVM frames are no call site."""
    match = _CALL_SITE.match(text.strip())
    if not match:
        return None
    file, line = match.group("file"), int(match.group("line"))
    if line <= 0 or file.endswith(".java"):
        return None
    return file, line


def _call_site_matches(site: tuple[str, int] | None, path: str, line: int) -> bool:
    if site is None:
        return False
    file, site_line = site
    if site_line != line:
        return False
    posix = PurePosixPath(file.replace("\\", "/"))
    static = PurePosixPath(path)
    if len(posix.parts) == 1:  # Scala/Java call sites name the file only
        return posix.name == static.name
    return posix.parts[-len(static.parts):] == static.parts


def _resolve_call_site(site: tuple[str, int] | None, root: Path, known_paths: set[str]) -> Location | None:
    """A project location for a call site, when exactly one checked file fits it."""
    if site is None:
        return None
    file, line = site
    parts = PurePosixPath(file.replace("\\", "/")).parts
    fits = [path for path in known_paths if parts[-len(PurePosixPath(path).parts):] == PurePosixPath(path).parts]
    if len(fits) != 1:
        return None
    return Location(fits[0], line)


# ---------------------------------------------------------------- static side


def _static_shape(static: dict) -> dict[str, Any]:
    operators = [str(op) for op in static.get("operators") or ()]
    coalesce = None
    for op in operators:
        match = _COALESCE_OP.match(op.strip())
        if match:
            coalesce = int(match.group(1))
    write = static.get("write") or {}
    data_format = (write.get("format") or "").lower() or None
    method = (write.get("method") or "").lower()
    if data_format is None and method in _FORMATS:
        data_format = method
    mode = (write.get("mode") or "").lower() or None
    return {
        "coalesce": static.get("coalesce", coalesce),
        "sorted": any(op.startswith(_SORT_OPS) for op in operators) or bool(static.get("sorted")),
        "format": data_format,
        "mode": mode,
        "target": write.get("target"),
        "table_write": method in ("saveastable", "insertinto") or write.get("api") == "writeTo",
        # Nothing can sort this write's rows: no sort in its code, no partitioned or table write
        # (which Spark plans with a sort) and no input the code does not show.
        "never_sorted": not write.get("partition_by") and write.get("api") not in ("writeTo", "sql")
        and method not in ("saveastable", "insertinto")
        and all(leaf.get("kind") in _KNOWN_LEAVES for leaf in static.get("leaves") or [{}]),
    }


def _target_matches(static_target: str, runtime: WriteProfile) -> bool:
    wanted = _normalise_target(static_target)
    for candidate in (runtime.table, runtime.path):
        if not candidate:
            continue
        have = _normalise_target(candidate)
        if have == wanted or have.endswith("/" + wanted) or have.endswith("." + wanted):
            return True
    return False


def _normalise_target(target: str) -> str:
    text = target.strip().replace("`", "").rstrip("/")
    text = re.sub(r"^s3[an]://", "s3://", text)
    text = re.sub(r"^file:(//)?", "", text)
    text = text.removeprefix("spark_catalog.")
    return text.lower()


def _write_contradicts(shape: dict[str, Any], runtime: RuntimeWrite) -> bool:
    if shape["coalesce"] != runtime.coalesce:
        return True
    if shape["sorted"] and not runtime.sorted:  # (a planned write may add a Sort the code has not)
        return True
    if runtime.sorted and not shape["sorted"] and shape["never_sorted"]:
        return True
    if shape["format"] and runtime.write.format and shape["format"] != runtime.write.format.lower():
        return True
    if shape["mode"] and runtime.write.mode and shape["mode"] != runtime.write.mode.lower():
        return True
    if shape["target"] and (runtime.write.table or runtime.write.path) and not _target_matches(shape["target"], runtime.write):
        return True
    return False


def _write_identifies(shape: dict[str, Any], static: dict, runtime: RuntimeWrite) -> bool:
    if shape["target"] and _target_matches(shape["target"], runtime.write):
        return True
    return _site_identifies(runtime.execution, static)


def stack_frames(details: str) -> list[tuple[str, int]]:
    """`(Writer.scala:12)` frames of a recorded JVM stack -> [("Writer.scala", 12), ...]."""
    return [(match.group("file"), int(match.group("line"))) for match in _FRAME.finditer(details)]


def _site_identifies(execution: SqlExecutionProfile, static: dict) -> bool:
    """The execution's call site is the static operation's line (or a line of its call chain),
    and the recorded stack does not contradict the chain.

    A JVM job records its whole user stack: when that stack passes through project files, one
    of the chain's calls (`main` calling `Writer.persist` at `Job.scala:19`) must be in it, so a
    same-named file in another package cannot be taken for this one."""
    location = static.get("location") or {}
    chain = [step for step in static.get("chain") or () if step]
    site = call_site(execution.description)
    if not any(_call_site_matches(site, step.get("path", ""), int(step.get("line", 0))) for step in (location, *chain)):
        return False
    if not chain:
        return True
    names = {PurePosixPath(str(step.get("path", ""))).name for step in (location, *chain)}
    frames = [frame for frame in stack_frames(execution.details) if frame[0] in names]
    if not frames:
        return True  # PySpark: only JVM frames; the call site alone identifies
    return any(_call_site_matches(frame, step.get("path", ""), int(step.get("line", 0)))
               for frame in frames for step in chain)


def matched_by(execution: SqlExecutionProfile, static: dict, target_matched: bool) -> str:
    """How a runtime operation was tied to the code, for the evidence: target, call site (and
    stack) or plan shape."""
    if target_matched:
        return "target"
    if _site_identifies(execution, static):
        chain = [step for step in static.get("chain") or () if step]
        frames = [f"{name}:{line}" for name, line in stack_frames(execution.details)
                  if any(_call_site_matches((name, line), step.get("path", ""), int(step.get("line", 0)))
                         for step in chain)]
        stack = f" and its stack ({', '.join(dict.fromkeys(frames))})" if frames else ""
        return f"call site `{execution.description}`{stack}"
    return "plan shape"


def match_write(static: dict, operations: Iterable[dict], run: RunProfile) -> RuntimeWrite | None:
    shape = _static_shape(static)
    candidates = [runtime for runtime in runtime_writes(run) if not _write_contradicts(shape, runtime)]
    identified = [runtime for runtime in candidates if _write_identifies(shape, static, runtime)]
    if len(identified) == 1:
        return identified[0]
    if identified or len(candidates) != 1:
        return None
    (only,) = candidates
    rivals = [
        other for other in operations
        if other.get("kind") == "write" and not _write_contradicts(_static_shape(other), only)
    ]
    # The one operation in the code that fits must be this one (a finding's facts can know less of
    # its input than the operation reached from the entry point does).
    return only if len(rivals) == 1 and rivals[0].get("location") == static.get("location") else None


def match_join(static: dict, operations: Iterable[dict], run: RunProfile) -> RuntimeJoin | None:
    keys = _static_keys(static)
    if not keys:
        return None
    candidates = [runtime for runtime in runtime_joins(run) if set(runtime.keys) == set(keys)]
    identified = [runtime for runtime in candidates if _site_identifies(runtime.execution, static)]
    if len(identified) == 1:
        return identified[0]
    if identified or len(candidates) != 1:
        return None
    rivals = [
        other for other in operations
        if other.get("kind") in ("join", "grouping")
        and set((other.get("join") or other.get("grouping") or {}).get("keys") or ()) == set(keys)
        and (other.get("kind") == "join" or (other.get("grouping") or {}).get("kind") == "join")
    ]
    return candidates[0] if len(rivals) <= 1 else None


def join_origin(runtime: RuntimeJoin, operations: Iterable[dict]) -> dict | None:
    """The one static join a runtime join comes from: among the joins (and join-key groupings)
    of the code with its keys, the one its call site and stack identify, else the only one.

    Several executions may come from one static join (a joined DataFrame written twice, a
    helper called from two jobs); the join the code has once is still that join. Operations at
    one location (one join reached through several call chains) are one static join; which of
    their chains ran is the one the stack identifies, else the first."""
    if not runtime.keys:
        return None
    same_keys = [op for op in operations if op.get("location") and _is_join_key(op)
                 and set(_static_keys(op)) == set(runtime.keys)]
    by_site = [op for op in same_keys if _site_identifies(runtime.execution, op)]
    pool = by_site or same_keys
    if len({_place(op) for op in pool}) != 1:
        return None
    place = _place(pool[0])
    joins = [op for op in pool if op.get("kind") == "join"]
    joins = joins or [op for op in same_keys if op.get("kind") == "join" and _place(op) == place]
    return joins[0] if joins else None


def match_joins(static: dict, operations: Iterable[dict], run: RunProfile) -> list[RuntimeJoin]:
    """Every join of the run that comes from this static join (`join_origin`), in execution order."""
    keys = set(_static_keys(static))
    if not keys or not static.get("location"):
        return []
    pool = list(operations)
    if not any(_place(op) == _place(static) and op.get("kind") == "join" for op in pool):
        pool.append(static)
    found = []
    for runtime in runtime_joins(run):
        origin = join_origin(runtime, pool) if set(runtime.keys) == keys else None
        if origin is not None and _place(origin) == _place(static):
            found.append(runtime)
    return sorted(found, key=lambda runtime: runtime.execution.execution_id)


def _place(op: dict) -> tuple[str, int]:
    location = op.get("location") or {}
    return str(location.get("path", "")), int(location.get("line", 0))


def match_grouping(static: dict, operations: Iterable[dict], run: RunProfile) -> RuntimeShuffle | None:
    """The shuffle a groupBy, window, dropDuplicates or repartition by these keys ran as: the one
    its call site identifies, else the only one of that kind and keys when the code has no rival."""
    kind = _shuffle_kind(static)
    keys = _grouping_keys(static, operations)
    if kind is None or not keys:
        return None
    candidates = [shuffle for shuffle in runtime_shuffles(run) if shuffle.kind == kind and set(shuffle.keys) == set(keys)]
    identified = [shuffle for shuffle in candidates if _site_identifies(shuffle.execution, static)]
    if len(identified) == 1:
        return identified[0]
    if identified or len(candidates) != 1:
        return None
    rivals = [other for other in operations
              if other.get("kind") == "grouping" and _shuffle_kind(other) == kind
              and set((other.get("grouping") or {}).get("keys") or ()) == set(keys)]
    return candidates[0] if len(rivals) <= 1 else None


def _shuffle_kind(static: dict) -> str | None:
    return _STATIC_SHUFFLE_KINDS.get((static.get("grouping") or {}).get("kind", ""))


def _grouping_keys(static: dict, operations: Iterable[dict]) -> tuple[str, ...]:
    """All keys of the grouping: a finding names its risky key, its operation every key."""
    grouping = static.get("grouping") or {}
    same = {tuple((op.get("grouping") or {}).get("keys") or ()) for op in operations
            if op.get("kind") == "grouping" and op.get("location") == static.get("location")
            and (op.get("grouping") or {}).get("kind") == grouping.get("kind")}
    own = tuple(grouping.get("keys") or ())
    if len(same) == 1:
        (keys,) = same
        if set(own) <= set(keys):
            return keys
    return own


# ---------------------------------------------------------------- evidence


def _run_label(run: RunProfile) -> str:
    return f"run {run.app_id} `{run.app_name}`"


def write_evidence(runtime: RuntimeWrite) -> tuple[list[str], dict[str, Any]]:
    run, stage, write = runtime.run, runtime.stage, runtime.write
    cores = run.max_cores
    facts: dict[str, Any] = {
        "app_id": run.app_id,
        "app_name": run.app_name,
        "sql_execution": runtime.execution.execution_id,
        "cores": cores,
        "files_written": write.files_written,
        "bytes_written": write.bytes_written,
        "rows_written": write.rows_written,
        "target": write.target,
    }
    lines = []
    if stage is not None:
        utilisation = stage.core_utilisation(cores)
        facts.update(
            stage_id=stage.stage_id,
            tasks=stage.task_time_ms.count,
            stage_wall_ms=stage.wall_ms,
            run_wall_ms=run.wall_ms,
            task_time_ms=stage.task_time_ms.total,
            bytes_per_task_max=stage.output_bytes.max,
            bytes_per_task_median=stage.output_bytes.median,
            spill_memory_bytes=stage.memory_spill_bytes.total,
            spill_disk_bytes=stage.disk_spill_bytes.total,
            core_utilisation=round(utilisation, 4),
        )
        _add_stage_facts(facts, stage)
        lines.append(
            f"{_run_label(run)}: the write ran as {_tasks(stage.task_time_ms.count)} on {cores} cores "
            f"(stage {stage.stage_id}, {format_ms(stage.wall_ms)}, core utilisation {utilisation:.0%})"
        )
        rows = f"{write.rows_written} rows, " if write.rows_written is not None else ""
        lines.append(
            f"wrote {rows}{format_bytes(stage.output_bytes.total)}: up to {format_bytes(stage.output_bytes.max)} "
            f"per task (median {format_bytes(stage.output_bytes.median)})"
        )
        if stage.spill_bytes:
            lines.append(
                f"spilled {format_bytes(stage.memory_spill_bytes.total)} from memory, "
                f"{format_bytes(stage.disk_spill_bytes.total)} to disk"
            )
    return lines, facts


def join_evidence(runtime: RuntimeJoin, name_execution: bool = False) -> tuple[list[str], dict[str, Any]]:
    join = runtime.join
    facts: dict[str, Any] = {
        "app_id": runtime.run.app_id,
        "app_name": runtime.run.app_name,
        "sql_execution": runtime.execution.execution_id,
        "strategy": join.strategy,
        "left_bytes": join.left.bytes,
        "right_bytes": join.right.bytes,
        "left_rows": join.left.rows,
        "right_rows": join.right.rows,
        "small_side_bytes": min((side for side in (join.left.bytes, join.right.bytes) if side is not None), default=None),
    }
    _add_stage_facts(facts, runtime.stage)
    execution = f", SQL execution {runtime.execution.execution_id}" if name_execution else ""
    lines = [
        f"{_run_label(runtime.run)}{execution}: Spark ran a {join.strategy}; left side {format_bytes(join.left.bytes)}"
        f" ({_rows(join.left.rows)}), right side {format_bytes(join.right.bytes)} ({_rows(join.right.rows)})"
    ]
    return lines, facts


def join_run_evidence(runtimes: list[RuntimeJoin], static: dict, settings: Settings) -> RunEvidence:
    """What one run measured of one static join, over every execution that ran it: a line per
    execution, the broadcast thresholds the run set, and the first execution's figures (with
    every execution's under `executions` when there are several)."""
    several = len(runtimes) > 1
    lines: list[str] = []
    per_execution = []
    for runtime in runtimes:
        execution_lines, facts = join_evidence(runtime, name_execution=several)
        facts["matched_by"] = matched_by(runtime.execution, static, False)
        lines += execution_lines
        per_execution.append(facts)
    run = runtimes[0].run
    thresholds = broadcast_thresholds(run, [runtime.execution for runtime in runtimes])
    if thresholds:
        lines.append("the run set " + " and ".join(f"{name}={value}" for name, value in thresholds.items()))
    facts = dict(per_execution[0])
    if several:
        facts["sql_executions"] = [item["sql_execution"] for item in per_execution]
        facts["executions"] = per_execution
    facts["broadcast_thresholds"] = thresholds
    return RunEvidence(run, tuple(lines), facts, any(_small_side(runtime, settings) for runtime in runtimes))


def broadcast_thresholds(run: RunProfile, executions: Iterable[SqlExecutionProfile]) -> dict[str, str]:
    """The broadcast thresholds the run (or a session of it, for these executions) set, as recorded."""
    found: dict[str, str] = {}
    for execution in (*executions, None):
        for name in BROADCAST_PROPERTIES:
            value = run.spark_property(name, execution)
            if value is not None:
                found.setdefault(name, value)
    return {name: found[name] for name in BROADCAST_PROPERTIES if name in found}


def _small_side(runtime: RuntimeJoin, settings: Settings) -> tuple[str, JoinSide] | None:
    """The side of a sort-merge (or shuffled hash) join Spark could have broadcast and the run
    measured at or below `broadcast-max-bytes`: ("right", side); None for a broadcast join."""
    if runtime.join.strategy.startswith("Broadcast"):
        return None
    buildable = _broadcastable_sides(runtime.join.description)
    sides = [(name, side) for name, side in (("left", runtime.join.left), ("right", runtime.join.right))
             if side.bytes is not None and name in buildable]
    if not sides:
        return None
    name, side = min(sides, key=lambda item: item[1].bytes or 0)
    return (name, side) if (side.bytes or 0) <= threshold(settings, "broadcast-max-bytes") else None


def skew_evidence(runtime: RuntimeJoin, settings: Settings) -> tuple[list[str], dict[str, Any]]:
    lines, facts = join_evidence(runtime)
    stage = runtime.stage
    if stage is not None and stage.shuffle_read_bytes.count:
        figures, line = _shuffle_skew(stage, settings)
        facts.update(figures)
        lines.append(line)
    return lines, facts


def grouping_evidence(shuffle: RuntimeShuffle, static: dict, settings: Settings) -> tuple[list[str], dict[str, Any]]:
    run, stage, grouping = shuffle.run, shuffle.stage, static.get("grouping") or {}
    facts: dict[str, Any] = {
        "app_id": run.app_id,
        "app_name": run.app_name,
        "sql_execution": shuffle.execution.execution_id,
        "shuffle_keys": list(shuffle.keys),
    }
    keys = ", ".join(f"`{key}`" for key in grouping.get("keys") or ())
    what = f"the {_GROUPING_VERBS.get(grouping.get('kind', ''), 'grouping')} by {keys}"
    if stage is None or not stage.shuffle_read_bytes.count:
        line = (f"{_run_label(run)}: {what} ran in SQL execution {shuffle.execution.execution_id}; "
                f"no stage of it measured the shuffle read")
        return [line], facts
    figures, line = _shuffle_skew(stage, settings)
    facts.update(figures)
    _add_stage_facts(facts, stage)
    return [f"{_run_label(run)}: {what}: {line}"], facts


def _add_stage_facts(facts: dict[str, Any], stage: StageProfile | None) -> None:
    """The figures a trend follows (stage time, input...), without replacing the rule's own."""
    for name, value in stage_facts(stage).items():
        facts.setdefault(name, value)


_GROUPING_VERBS = {"groupBy": "grouping", "window": "window partition", "repartition": "repartition",
                   "dropDuplicates": "deduplication"}


def _shuffle_skew(stage: StageProfile, settings: Settings) -> tuple[dict[str, Any], str]:
    """SPK201's measure on the stage that read a shuffle: its largest task's read against the
    median task's, and whether that reaches `skew-ratio`."""
    figure, ratio = stage.shuffle_read_bytes, threshold(settings, "skew-ratio")
    skewed = figure.skew >= ratio
    facts = {"stage_id": stage.stage_id, "tasks": figure.count, "shuffle_read_max": figure.max,
             "shuffle_read_median": figure.median, "skew": round(figure.skew, 2), "skewed": skewed}
    verdict, against = ("ran skewed", "at or over") if skewed else ("was not skewed", "under")
    line = (f"stage {stage.stage_id} ({_tasks(figure.count)}) {verdict}: it read up to {format_bytes(figure.max)} "
            f"in one task against a median of {format_bytes(figure.median)} "
            f"({figure.skew:.1f}x, {against} skew-ratio {ratio:g})")
    return facts, line


def key_column_types(static: dict, run: RunProfile, execution: SqlExecutionProfile) -> tuple[list[str], list[dict]]:
    """What the execution's scans say of the key columns the code leaves untyped: one fact per
    (column, scan) that read it, and a line per scan that read some of them as strings."""
    untyped = list(dict.fromkeys(column["name"] for column in _static_columns(static) if column.get("type") == "unknown"))
    facts, lines = [], []
    for scan in execution.scans:
        strings = []
        for name in untyped:
            kind = scan.column_type(name)
            if kind is not None:
                facts.append({"name": name, "type": kind, "scan": scan.target})
                strings += [name] if kind == "string" else []
        if strings:
            quoted = [f"`{name}`" for name in strings]
            names = " and ".join(filter(None, (", ".join(quoted[:-1]), quoted[-1])))
            verb = "is a string" if len(strings) == 1 else "are strings"
            lines.append(f"{names} {verb} in the scan of {_scan_label(scan)} ({_run_label(run)})")
    return lines, facts


def _static_columns(static: dict) -> list[dict]:
    columns = (static.get("grouping") or {}).get("columns") or ()
    return [column for column in columns if isinstance(column, dict) and isinstance(column.get("name"), str)]


def _scan_label(scan: ScanProfile) -> str:
    return f"`{scan.table}`" if scan.table else scan.target


def _read_as_non_string(static: dict, collected: list[RunEvidence]) -> bool:
    """The key's coalesce rests only on columns the runs read as numbers, dates or booleans:
    it cannot produce `""`, so the finding is a false positive."""
    columns = _static_columns(static)
    if not columns or any(column.get("type") == "string" for column in columns):
        return False
    untyped = {column["name"] for column in columns if column.get("type") == "unknown"}
    read = [fact for item in collected for fact in item.facts.get("key_columns") or ()]
    if not untyped or {fact["name"] for fact in read} != untyped:
        return False
    return all(_is_non_string(fact["type"]) for fact in read)


def _is_non_string(kind: str) -> bool:
    return kind.split("(", 1)[0].strip().lower() in _NON_STRING_TYPES


def _rows(rows: int | None) -> str:
    return "? rows" if rows is None else f"{rows} rows"


# ---------------------------------------------------------------- findings


def attach_evidence(result: CheckResult, runs: tuple[RunProfile, ...], settings: Settings) -> CheckResult:
    if not runs:
        return result
    runs = tuple(sorted(runs, key=lambda run: run.started_ms, reverse=True))  # newest first
    operations = list(result.operations)
    findings: list[Finding] = []
    explained: set[tuple[str, int]] = set()
    for finding in result.findings:
        updated, stages = _with_evidence(finding, operations, runs, settings)
        if updated is not None:
            findings.append(updated)
        explained.update(stages)
    runtime = _runtime_findings(result, runs, operations, settings, explained)
    used_spans = []
    for finding in runtime:
        covering = [span for span in result.noqa if span.covers(finding)]
        if covering:
            used_spans.extend((span, finding.rule) for span in covering)
        else:
            findings.append(finding)
    findings = [finding for finding in findings if not _noqa_now_used(finding, used_spans)]
    notes = (*result.notes, *_unmatched_note(findings, result.findings))
    return replace(result, findings=tuple(sorted(findings, key=Finding.sort_key)), notes=notes)


def _unmatched_note(findings: list[Finding], before: tuple[Finding, ...]) -> list[str]:
    """One summary note for the findings the runs could have measured but did not tie to one
    operation (several places in the code fit the same measured write or join), so a missing
    evidence line is explained instead of silent."""
    # (a collect is tied by its call site alone, which every run records, and SPK006 by its
    # actions' executions: nothing to explain)
    static = {(finding.rule, finding.location) for finding in before
              if isinstance(finding.properties.get("static"), dict) and finding.rule != RECOMPUTED_CODE
              and finding.properties["static"].get("kind") != "action"}
    places = [str(finding.location) for finding in findings
              if (finding.rule, finding.location) in static and "evidence" not in finding.properties]
    if not places:
        return []
    shown = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
    return [f"run profiles: no evidence for {shown}: the profiled runs have operations of their shape, but none "
            "is tied to them alone (a table or path written, or a JVM call site, would tell)"]


def _noqa_now_used(finding: Finding, used_spans: list[tuple[NoqaSpan, str]]) -> bool:
    """An SPK100 "unused noqa" for a code (SPK002) whose comment now waives a finding the profile
    made: the comment is used after all."""
    if finding.rule != UNUSED_NOQA_CODE or len(finding.key) < 2:
        return False
    return any(
        finding.key[1] == code and finding.location.path == span.path
        and span.first_line <= finding.location.line <= span.last_line
        for span, code in used_spans
    )


@dataclass(frozen=True, slots=True)
class RunEvidence:
    """What one run measured about one finding's operation."""

    run: RunProfile
    lines: tuple[str, ...]
    facts: dict[str, Any]
    harm: bool


def _with_evidence(finding: Finding, operations: list[dict], runs: tuple[RunProfile, ...],
                   settings: Settings) -> tuple[Finding | None, set[tuple[str, int]]]:
    """The finding with what the runs measured of its operation, and the stages that explains;
    None when the runs prove it false (SPK003 on columns every run read as numbers)."""
    if finding.rule == RECOMPUTED_CODE:
        from sparklint.profile.action_evidence import rescan_evidence

        return rescan_evidence(finding, operations, runs, settings), set()
    static = finding.properties.get("static")
    if not isinstance(static, dict):
        return finding, set()
    kind = static.get("kind")
    if (finding.rule, kind) not in _MEASURED:
        return finding, set()
    static = _with_chain(static, operations)
    collected: list[RunEvidence] = []
    stages: set[tuple[str, int]] = set()
    for run in runs:
        measured = _measure(finding.rule, static, operations, run, settings)
        if measured is None:
            continue
        evidence, stage_id = measured
        collected.append(evidence)
        if stage_id is not None:
            stages.add((run.app_id, stage_id))
    if not collected:
        return _not_run(finding, static, operations, runs), stages
    if finding.rule == "SPK003" and _read_as_non_string(static, collected):
        return None, set()  # a coalesce over numbers: no "" to fear, and the stage's skew is not explained
    lines = _evidence_lines(collected, kind)
    confirmed = any(item.harm for item in collected)
    severity = finding.severity.raised() if confirmed else finding.severity
    evidence: dict[str, Any] = {
        "runs": [item.facts for item in collected],
        "confirmed": confirmed,
        "static_severity": finding.severity.label,
    }
    if len(collected) > 1:
        evidence["trend"] = _trend(collected, kind)
    properties = {**finding.properties, "evidence": evidence}
    return replace(finding, evidence=tuple(lines), severity=severity, properties=properties), stages


def _with_chain(static: dict, operations: list[dict]) -> dict:
    """The static facts with the call chain of their operation (a finding's facts may omit it)."""
    if static.get("chain"):
        return static
    same = [op for op in operations
            if op.get("kind") == static.get("kind") and op.get("location") == static.get("location")]
    chains = {repr(op.get("chain") or []) for op in same}
    return {**static, "chain": same[0].get("chain") or []} if len(chains) == 1 else static


# The static rules a run can measure, with the kind of operation their facts describe.
_MEASURED = frozenset({("SPK001", "write"), ("SPK002", "join"), ("SPK003", "grouping"), ("SPK004", "action"),
                       ("SPK010", "write")})


def _measure(rule: str, static: dict, operations: list[dict], run: RunProfile,
             settings: Settings) -> tuple[RunEvidence, int | None] | None:
    if rule in ("SPK004", "SPK010"):
        from sparklint.profile.action_evidence import measure_collect, measure_scatter

        if rule == "SPK004":
            return measure_collect(static, run, settings)
        return measure_scatter(static, operations, run, settings)
    if rule == "SPK001":
        runtime = match_write(static, operations, run)
        if runtime is None:
            return None
        lines, facts = write_evidence(runtime)
        facts["matched_by"] = matched_by(runtime.execution, static, _target_identifies(static, runtime))
        stage_id = runtime.stage.stage_id if runtime.stage is not None else None
        return RunEvidence(run, tuple(lines), facts, _write_harm(facts, settings)), stage_id
    if rule == "SPK003":
        return _measure_key(static, operations, run, settings)
    matched = match_joins(static, operations, run)
    if not matched:
        return None
    return join_run_evidence(matched, static, settings), None


def _measure_key(static: dict, operations: list[dict], run: RunProfile,
                 settings: Settings) -> tuple[RunEvidence, int | None] | None:
    """SPK003: the skew of the shuffle its join or grouping key ran, and what the scans of that
    execution say of the key's columns."""
    if _is_join_key(static):
        runtime = match_join(static, operations, run)
        if runtime is None:
            return None
        lines, facts = skew_evidence(runtime, settings)
    else:
        runtime = match_grouping(static, operations, run)
        if runtime is None:
            return None
        lines, facts = grouping_evidence(runtime, static, settings)
    facts["matched_by"] = matched_by(runtime.execution, static, False)
    type_lines: list[str] = []
    if _static_columns(static):
        type_lines, facts["key_columns"] = key_column_types(static, run, runtime.execution)
    stage_id = runtime.stage.stage_id if runtime.stage is not None else None
    return RunEvidence(run, tuple(lines + type_lines), facts, bool(facts.get("skewed"))), stage_id


def _target_identifies(static: dict, runtime: RuntimeWrite) -> bool:
    target = _static_shape(static)["target"]
    return bool(target) and _target_matches(target, runtime.write)


def _evidence_lines(collected: list[RunEvidence], kind: str) -> list[str]:
    """The newest run in full; with several runs, the trend line (and a regression line)."""
    newest, *older = collected
    lines = list(newest.lines)
    if older:
        app_names = {item.run.app_id: item.run.app_name for item in collected}
        lines.extend(trend_lines(_trend(collected, kind), kind, app_names))
    return lines


def _trend(collected: list[RunEvidence], kind: str) -> dict[str, Any]:
    """Worst, median and latest of each followed figure over the runs, and the regression."""
    return trend_of([(item.run, item.facts) for item in collected], kind)


def _not_run(finding: Finding, static: dict, operations: list[dict], runs: tuple[RunProfile, ...]) -> Finding:
    """A finding whose operation has no possible counterpart in any profiled run: say so, keep
    the severity. (An operation that could have run but was not matched exactly says nothing.)"""
    if any(_could_have_run(static, run) for run in runs):
        return finding
    names = ", ".join(f"`{name}`" for name in dict.fromkeys(run.app_name for run in runs))
    count = len(runs)
    line = f"did not run in the {count} profiled {'run' if count == 1 else 'runs'} of {names}"
    evidence = {"runs": [], "ran": False, "profiled_runs": count, "static_severity": finding.severity.label}
    return replace(finding, evidence=(*finding.evidence, line), properties={**finding.properties, "evidence": evidence})


def _could_have_run(static: dict, run: RunProfile) -> bool:
    kind = static.get("kind")
    if kind == "write":
        shape = _static_shape(static)
        return any(not _write_contradicts(shape, runtime) for runtime in runtime_writes(run))
    keys = set(_static_keys(static))
    if not keys or (kind == "grouping" and not _is_join_key(static)):
        return True  # nothing to compare against: never claim it did not run
    return any(set(runtime.keys) == keys for runtime in runtime_joins(run))


def _is_join_key(static: dict) -> bool:
    return static.get("kind") == "join" or (static.get("grouping") or {}).get("kind") == "join"


def _static_keys(static: dict) -> tuple[str, ...]:
    return tuple((static.get("join") or {}).get("keys") or (static.get("grouping") or {}).get("keys") or ())


def _write_harm(facts: dict[str, Any], settings: Settings) -> bool:
    """Measured harm of a coalesced write: it spilled, left most cores idle, or wrote a lot per task."""
    if facts.get("tasks") is None:
        return False
    if threshold(settings, "raise-on-spill") and (facts.get("spill_memory_bytes") or facts.get("spill_disk_bytes")):
        return True
    if facts["cores"] and facts["tasks"] / facts["cores"] <= threshold(settings, "write-max-core-share"):
        return True
    return (facts.get("bytes_per_task_max") or 0) >= threshold(settings, "write-min-bytes-per-task")


def _runtime_findings(result: CheckResult, runs: tuple[RunProfile, ...], operations: list[dict],
                      settings: Settings, explained: set[tuple[str, int]]) -> list[Finding]:
    known_paths = {str(op.get("location", {}).get("path")) for op in operations if op.get("location")}
    known_paths |= {finding.location.path for finding in result.findings}
    known_paths |= {str(step.get("path")) for op in operations for step in op.get("chain") or () if step.get("path")}
    root = Path(result.root)
    static_places = {(finding.rule, finding.location.path, finding.location.line) for finding in result.findings}
    out: dict[tuple, Finding] = {}
    for run in runs:
        if settings.rule_enabled(SKEWED_SHUFFLE.code):
            for finding in _skewed_shuffles(run, settings, root, known_paths, explained):
                out.setdefault((finding.rule, finding.location.path, finding.location.line), finding)
        if settings.rule_enabled(UNDER_PARALLEL_WRITE.code) or settings.rule_enabled(SMALL_FILES.code):
            for finding in _write_findings(run, operations, settings, explained):
                out.setdefault((finding.rule, finding.location.path, finding.location.line), finding)
        if settings.rule_enabled(IDLE_CORES.code):
            for finding in _idle_stages(run, settings, root, known_paths, explained):
                out.setdefault((finding.rule, finding.location.path, finding.location.line), finding)
    if settings.rule_enabled(MISSING_BROADCAST_CODE):
        for finding in _small_side_joins(runs, operations, settings, static_places):
            out.setdefault((finding.rule, finding.location.path, finding.location.line), finding)
    return list(out.values())


def _skewed_shuffles(run: RunProfile, settings: Settings, root: Path, known_paths: set[str],
                     explained: set[tuple[str, int]]) -> Iterable[Finding]:
    ratio, min_bytes = threshold(settings, "skew-ratio"), threshold(settings, "skew-min-bytes")
    for stage in run.stages:
        figure = stage.shuffle_read_bytes
        if (run.app_id, stage.stage_id) in explained or figure.max < min_bytes or figure.skew < ratio:
            continue
        location = _resolve_call_site(call_site(stage.name), root, known_paths)
        if location is None:
            continue
        yield Finding(
            rule=SKEWED_SHUFFLE.code,
            severity=SKEWED_SHUFFLE.severity,
            message=(f"skewed shuffle: one task of stage {stage.stage_id} read {format_bytes(figure.max)}, "
                     f"{figure.skew:.1f}x the median task"),
            location=location,
            fix=_help(SKEWED_SHUFFLE),
            key=(SKEWED_SHUFFLE.code, location.path, stage.name),
            evidence=(f"{_run_label(run)}: stage {stage.stage_id} `{stage.name}`: {stage.task_time_ms.count} tasks, "
                      f"shuffle read max {format_bytes(figure.max)}, median {format_bytes(figure.median)}",),
            properties={"evidence": {"runs": [{"app_id": run.app_id, "stage_id": stage.stage_id,
                                               "shuffle_read_max": figure.max,
                                               "shuffle_read_median": figure.median}]}},
        )


def _write_findings(run: RunProfile, operations: list[dict], settings: Settings,
                    explained: set[tuple[str, int]]) -> Iterable[Finding]:
    write_ops = [op for op in operations if op.get("kind") == "write"]
    for runtime in runtime_writes(run):
        stage = runtime.stage
        if stage is None or (run.app_id, stage.stage_id) in explained:
            continue
        matches = [op for op in write_ops if match_write(op, write_ops, run) == runtime]
        if len(matches) != 1:
            continue
        op = matches[0]
        location = Location(str(op["location"]["path"]), int(op["location"]["line"]))
        chain = tuple(
            ChainStep(Location(str(step["path"]), int(step["line"])), str(step.get("message", "")))
            for step in op.get("chain") or ()
        )
        lines, facts = write_evidence(runtime)
        cores = run.max_cores
        tasks = stage.task_time_ms.count
        if (settings.rule_enabled(UNDER_PARALLEL_WRITE.code) and cores and tasks / cores <= threshold(settings, "write-max-core-share")
                and stage.output_bytes.max >= threshold(settings, "write-min-bytes-per-task")):
            yield Finding(
                rule=UNDER_PARALLEL_WRITE.code,
                severity=UNDER_PARALLEL_WRITE.severity,
                message=(f"under-parallel write: {_tasks(tasks)} on {cores} cores wrote up to "
                         f"{format_bytes(stage.output_bytes.max)} each"),
                location=location, chain=chain, fix=_help(UNDER_PARALLEL_WRITE),
                key=(UNDER_PARALLEL_WRITE.code, location.path, runtime.write.target),
                evidence=tuple(lines), properties={"evidence": {"runs": [facts]}},
            )
        files = runtime.write.files_written or 0
        written = runtime.write.bytes_written or 0
        if (settings.rule_enabled(SMALL_FILES.code) and files >= threshold(settings, "small-files-min-count")
                and written / files < threshold(settings, "small-file-bytes")):
            yield Finding(
                rule=SMALL_FILES.code,
                severity=SMALL_FILES.severity,
                message=(f"small files: the write produced {files} {'file' if files == 1 else 'files'} of "
                         f"{format_bytes(written // files)} on average"),
                location=location, chain=chain, fix=_help(SMALL_FILES),
                key=(SMALL_FILES.code, location.path, runtime.write.target),
                evidence=tuple(lines), properties={"evidence": {"runs": [facts]}},
            )


def _small_side_joins(runs: tuple[RunProfile, ...], operations: list[dict], settings: Settings,
                      static_places: set[tuple[str, str, int]]) -> Iterable[Finding]:
    """SPK002 from evidence alone: sort-merge (or shuffled hash) joins one side of which was
    measured small, each mapped to the static join it comes from (`join_origin`), merged per
    static join over every execution and run, and reported once at that join unless the static
    rule already reported it."""
    merged: dict[tuple[str, int], tuple[dict, dict[str, list[RuntimeJoin]]]] = {}
    for run in runs:  # newest first
        for runtime in runtime_joins(run):
            if _small_side(runtime, settings) is None:
                continue
            op = join_origin(runtime, operations)
            if op is None or op.get("kind") != "join":
                continue
            _, by_run = merged.setdefault(_place(op), (op, {}))
            by_run.setdefault(run.app_id, []).append(runtime)
    for (path, line), (op, by_run) in merged.items():
        if (MISSING_BROADCAST_CODE, path, line) in static_places:
            continue
        static = _with_chain(op, operations)
        collected = [join_run_evidence(sorted(runtimes, key=lambda item: item.execution.execution_id), static, settings)
                     for runtimes in by_run.values()]
        newest = min(by_run[collected[0].run.app_id], key=lambda item: item.execution.execution_id)
        small_name, small = _small_side(newest, settings) or ("", newest.join.right)
        rows = f", {_rows(small.rows)}" if small.rows is not None else ""
        location = Location(path, line)
        evidence: dict[str, Any] = {"runs": [item.facts for item in collected], "confirmed": True, "runtime_only": True}
        if len(collected) > 1:
            evidence["trend"] = _trend(collected, "join")
        yield Finding(
            rule=MISSING_BROADCAST_CODE,
            severity=Severity.WARNING,
            message=(f"join without a broadcast hint, and its {small_name} side was measured small "
                     f"({format_bytes(small.bytes)}{rows}): Spark ran a {newest.join.strategy} that shuffles "
                     f"and sorts both sides"),
            location=location,
            chain=_chain(static),
            fix=f"wrap the {small_name} side in `broadcast(...)` (pyspark.sql.functions / org.apache.spark.sql.functions)",
            key=(MISSING_BROADCAST_CODE, location.path, "runtime", "join", *sorted(_static_keys(op))),
            evidence=tuple(_evidence_lines(collected, "join")),
            properties={"evidence": evidence},
        )


def _broadcastable_sides(description: str) -> tuple[str, ...]:
    """The sides Spark can broadcast for the join type in `SortMergeJoin [k#1], [k#2], LeftOuter`:
    the side whose unmatched rows are kept cannot be the broadcast one."""
    match = re.search(r"\],\s*(\w+)", description)
    join_type = match.group(1) if match else ""
    if join_type in ("Inner", "Cross"):
        return ("left", "right")
    if join_type in ("LeftOuter", "LeftSemi", "LeftAnti"):
        return ("right",)
    if join_type == "RightOuter":
        return ("left",)
    return ()  # FullOuter, an existence join or an unknown type: say nothing


def _chain(op: dict) -> tuple[ChainStep, ...]:
    return tuple(
        ChainStep(Location(str(step["path"]), int(step["line"])), str(step.get("message", "")))
        for step in op.get("chain") or ()
    )


def _idle_stages(run: RunProfile, settings: Settings, root: Path, known_paths: set[str],
                 explained: set[tuple[str, int]]) -> Iterable[Finding]:
    ceiling, min_ms = threshold(settings, "idle-max-utilisation"), threshold(settings, "idle-min-stage-ms")
    for stage in run.stages:
        if (run.app_id, stage.stage_id) in explained or stage.wall_ms < min_ms:
            continue
        utilisation = stage.core_utilisation(run.max_cores)
        if utilisation >= ceiling:
            continue
        location = _resolve_call_site(call_site(stage.name), root, known_paths)
        if location is None:
            continue
        yield Finding(
            rule=IDLE_CORES.code,
            severity=IDLE_CORES.severity,
            message=(f"idle cores: stage {stage.stage_id} ran {format_ms(stage.wall_ms)} with "
                     f"{_tasks(stage.task_time_ms.count)} on {run.max_cores} cores ({utilisation:.0%} busy)"),
            location=location,
            fix=_help(IDLE_CORES),
            key=(IDLE_CORES.code, location.path, stage.name),
            evidence=(f"{_run_label(run)}: stage {stage.stage_id} `{stage.name}`",),
            properties={"evidence": {"runs": [{"app_id": run.app_id, "stage_id": stage.stage_id,
                                               "core_utilisation": round(utilisation, 4)}]}},
        )


def _tasks(count: int) -> str:
    return "1 task" if count == 1 else f"{count} tasks"


def _help(rule) -> str:
    """The rule's fix title as a help line (lower-case first word, like the static rules')."""
    title = rule.fix_title or ""
    return title[:1].lower() + title[1:]
