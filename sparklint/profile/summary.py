"""Render what `sparklint profile` read: runs, their hottest stages with evidence, SQL plans."""

from __future__ import annotations

from typing import Any

import orjson

from sparklint.profile.model import PlanNode, RunProfile, SqlExecutionProfile, StageProfile, to_dict

HOTTEST_STAGES = 5
PLAN_DEPTH = 12
_WRAPPER_NODES = ("WholeStageCodegen", "InputAdapter", "AdaptiveSparkPlan", "ResultQueryStage")


def format_bytes(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def format_ms(milliseconds: int) -> str:
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds / 1000
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def hottest_stages(run: RunProfile, limit: int = HOTTEST_STAGES) -> list[StageProfile]:
    return sorted(run.stages, key=lambda stage: (-stage.task_time_ms.total, stage.stage_id))[:limit]


def stage_evidence(stage: StageProfile, cores: int) -> list[str]:
    """Measured facts about one stage, one short phrase each."""
    facts = [f"{stage.task_time_ms.count} tasks", f"task time {format_ms(stage.task_time_ms.total)}"]
    if stage.task_time_ms.count > 1:
        facts.append(f"max/median task {format_ms(stage.task_time_ms.max)}/{format_ms(stage.task_time_ms.median)}")
    for label, figure in (
        ("input", stage.input_bytes),
        ("output", stage.output_bytes),
        ("shuffle read", stage.shuffle_read_bytes),
        ("shuffle write", stage.shuffle_write_bytes),
    ):
        if figure.total:
            facts.append(f"{label} {format_bytes(figure.total)} (max {format_bytes(figure.max)}/task)")
    if stage.spill_bytes:
        facts.append(
            f"spill {format_bytes(stage.memory_spill_bytes.total)} memory, {format_bytes(stage.disk_spill_bytes.total)} disk"
        )
    if stage.peak_execution_memory_max:
        facts.append(f"peak execution memory {format_bytes(stage.peak_execution_memory_max)}/task")
    if stage.gc_time_ms:
        facts.append(f"GC {format_ms(stage.gc_time_ms)}")
    if cores:
        facts.append(f"core utilisation {stage.core_utilisation(cores):.0%} of {cores} cores")
    if stage.failed_tasks:
        facts.append(f"{stage.failed_tasks} failed tasks")
    return facts


def plan_outline(node: PlanNode | None) -> str:
    """The plan's operators root to leaves along the first child, wrappers dropped."""
    names = []
    while node is not None and len(names) < PLAN_DEPTH:
        if not node.name.startswith(_WRAPPER_NODES):
            names.append(node.description if len(node.description) <= 40 else node.name)
        node = node.children[0] if node.children else None
    return " <- ".join(names)


def execution_lines(execution: SqlExecutionProfile) -> list[str]:
    lines = [f"SQL {execution.execution_id} \"{execution.description}\" {format_ms(execution.duration_ms)}"]
    for write in execution.writes:
        counts = ", ".join(
            text
            for text in (
                f"{write.files_written} files" if write.files_written is not None else "",
                format_bytes(write.bytes_written) if write.bytes_written is not None else "",
                f"{write.rows_written} rows" if write.rows_written is not None else "",
            )
            if text
        )
        lines.append(f"  writes {write.format or '?'} {write.target} ({write.mode or '?'}; {counts})")
    for join in execution.joins:
        lines.append(
            f"  {join.strategy}: left {format_bytes(join.left.bytes)} / {join.left.rows if join.left.rows is not None else '?'} rows,"
            f" right {format_bytes(join.right.bytes)} / {join.right.rows if join.right.rows is not None else '?'} rows"
        )
    if execution.plan is not None:
        lines.append(f"  plan: {plan_outline(execution.plan)}")
    if execution.error:
        lines.append(f"  failed: {execution.error}")
    return lines


def render_text(runs: list[RunProfile], warnings: list[str]) -> str:
    out: list[str] = []
    for run in runs:
        state = "complete" if run.complete else "incomplete"
        out.append(
            f"run {run.app_id} \"{run.app_name}\" (Spark {run.spark_version or '?'}) {state}: "
            f"{run.executors} executors, {run.max_cores} cores, wall {format_ms(run.wall_ms)}, "
            f"core utilisation {run.core_utilisation():.0%}, {len(run.stages)} stages, "
            f"{len(run.sql_executions)} SQL executions"
        )
        out.append(f"  source: {run.source}")
        for stage in hottest_stages(run):
            sql = f" (SQL {stage.sql_execution_id})" if stage.sql_execution_id is not None else ""
            out.append(f"  stage {stage.stage_id}.{stage.attempt} \"{stage.name}\"{sql}: " + ", ".join(stage_evidence(stage, run.max_cores)))
        for execution in run.sql_executions:
            if execution.writes or execution.joins or execution.stage_ids:
                out.extend("  " + line for line in execution_lines(execution))
        for problem in run.problems:
            out.append(f"  note: {problem}")
        out.append("")
    for warning in warnings:
        out.append(f"warning: {warning}")
    if not runs and not warnings:
        out.append("no runs found")
    return "\n".join(out).rstrip("\n") + "\n"


def run_json(run: RunProfile) -> dict[str, Any]:
    data = to_dict(run)
    data["wall_ms"] = run.wall_ms
    data["core_utilisation"] = round(run.core_utilisation(), 4)
    data["hottest_stages"] = [
        {"stage_id": stage.stage_id, "attempt": stage.attempt, "evidence": stage_evidence(stage, run.max_cores)}
        for stage in hottest_stages(run)
    ]
    return data


def render_json(runs: list[RunProfile], warnings: list[str]) -> str:
    payload = {"runs": [run_json(run) for run in runs], "warnings": list(warnings)}
    return orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n"
