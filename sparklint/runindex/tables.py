"""The tables of a run index and how one run becomes their rows.

Every table starts with the run's key columns (`app_id`, `attempt_id`) and its partition columns
(`app_name`, `date`: the UTC day the run started), kept inside the files too so a reader never
depends on decoding directory names. `runs.profile` holds the whole profile model of the run as
JSON (`sparklint.profile.model.to_dict`): evidence read from an index is evidence read from the
log. The other columns are the figures sparklint's rules use, for SQL over many runs.

Sizes in bytes, times in milliseconds, timestamps in epoch milliseconds.
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson

from sparklint.profile.model import Distribution, RunProfile, StageProfile, to_dict

INDEX_FORMAT = 1
MARKER = "sparklint-index.json"
PARTITION_COLUMNS = ("app_name", "date")
KEY_COLUMNS = (("app_id", "string"), ("attempt_id", "string"), ("app_name", "string"), ("date", "string"))

# Column types: "string", "int64", "double", "bool", "binary", "list<int64>".
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "runs": KEY_COLUMNS + (
        ("spark_version", "string"), ("started_ms", "int64"), ("ended_ms", "int64"), ("wall_ms", "int64"),
        ("complete", "bool"), ("executors", "int64"), ("max_cores", "int64"), ("task_time_ms", "int64"),
        ("core_utilisation", "double"), ("stages", "int64"), ("sql_executions", "int64"),
        ("input_bytes", "int64"), ("output_bytes", "int64"), ("shuffle_read_bytes", "int64"),
        ("spill_bytes", "int64"), ("events_read", "int64"), ("decoded_bytes", "int64"), ("problems", "int64"),
        # where the log was and what identified it when indexed (incremental builds compare these)
        ("log_path", "string"), ("log_kind", "string"), ("log_size", "int64"), ("log_mtime_ns", "int64"),
        ("log_hash", "string"), ("build_id", "string"), ("profile", "binary"),
    ),
    "stages": KEY_COLUMNS + (
        ("run_started_ms", "int64"), ("stage_id", "int64"), ("attempt", "int64"), ("name", "string"),
        ("status", "string"), ("sql_execution_id", "int64"), ("num_tasks", "int64"), ("tasks", "int64"),
        ("submitted_ms", "int64"), ("completed_ms", "int64"), ("wall_ms", "int64"),
        ("task_time_ms", "int64"), ("task_time_ms_max", "int64"), ("task_time_ms_median", "int64"),
        ("cpu_time_ms", "int64"), ("gc_time_ms", "int64"), ("core_utilisation", "double"),
        ("input_bytes", "int64"), ("input_bytes_max", "int64"), ("input_records", "int64"),
        ("output_bytes", "int64"), ("output_bytes_max", "int64"), ("output_bytes_median", "int64"),
        ("output_records", "int64"),
        ("shuffle_read_bytes", "int64"), ("shuffle_read_bytes_max", "int64"), ("shuffle_read_bytes_median", "int64"),
        ("shuffle_read_skew", "double"), ("shuffle_write_bytes", "int64"),
        ("memory_spill_bytes", "int64"), ("disk_spill_bytes", "int64"), ("peak_execution_memory_max", "int64"),
        ("failed_tasks", "int64"), ("killed_tasks", "int64"),
    ),
    "sql_executions": KEY_COLUMNS + (
        ("run_started_ms", "int64"), ("execution_id", "int64"), ("root_execution_id", "int64"),
        ("description", "string"), ("started_ms", "int64"), ("ended_ms", "int64"), ("duration_ms", "int64"),
        ("error", "string"), ("job_ids", "list<int64>"), ("stage_ids", "list<int64>"),
        ("writes", "int64"), ("joins", "int64"), ("scans", "int64"),
    ),
    "joins": KEY_COLUMNS + (
        ("run_started_ms", "int64"), ("execution_id", "int64"), ("position", "int64"), ("strategy", "string"),
        ("description", "string"), ("left_bytes", "int64"), ("left_rows", "int64"), ("left_operator", "string"),
        ("right_bytes", "int64"), ("right_rows", "int64"), ("right_operator", "string"),
    ),
    "writes": KEY_COLUMNS + (
        ("run_started_ms", "int64"), ("execution_id", "int64"), ("position", "int64"), ("command", "string"),
        ("target", "string"), ("path", "string"), ("table_name", "string"), ("format", "string"),
        ("mode", "string"), ("files_written", "int64"), ("bytes_written", "int64"), ("rows_written", "int64"),
    ),
}


def run_date(started_ms: int) -> str:
    return datetime.datetime.fromtimestamp(started_ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")


def rows_of(run: RunProfile, log: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table for one run; `log` names the log (path, kind, size, mtime_ns, hash, build_id)."""
    key = {"app_id": run.app_id, "attempt_id": run.attempt_id, "app_name": run.app_name,
           "date": run_date(run.started_ms)}
    per_run = {**key, "run_started_ms": run.started_ms}
    stages = [_stage_row(per_run, stage, run.max_cores) for stage in run.stages]
    return {
        "runs": [_run_row(key, run, log)],
        "stages": stages,
        "sql_executions": [_execution_row(per_run, execution) for execution in run.sql_executions],
        "joins": [_join_row(per_run, execution.execution_id, position, join)
                  for execution in run.sql_executions for position, join in enumerate(execution.joins)],
        "writes": [_write_row(per_run, execution.execution_id, position, write)
                   for execution in run.sql_executions for position, write in enumerate(execution.writes)],
    }


def _run_row(key: dict[str, Any], run: RunProfile, log: dict[str, Any]) -> dict[str, Any]:
    def total(figure: str) -> int:
        return sum(getattr(stage, figure).total for stage in run.stages)

    return {
        **key,
        "spark_version": run.spark_version, "started_ms": run.started_ms, "ended_ms": run.ended_ms,
        "wall_ms": run.wall_ms, "complete": run.complete, "executors": run.executors, "max_cores": run.max_cores,
        "task_time_ms": run.task_time_ms, "core_utilisation": round(run.core_utilisation(), 4),
        "stages": len(run.stages), "sql_executions": len(run.sql_executions),
        "input_bytes": total("input_bytes"), "output_bytes": total("output_bytes"),
        "shuffle_read_bytes": total("shuffle_read_bytes"),
        "spill_bytes": sum(stage.spill_bytes for stage in run.stages),
        "events_read": run.events_read, "decoded_bytes": run.decoded_bytes, "problems": len(run.problems),
        "log_path": log["path"], "log_kind": log["kind"], "log_size": log["size"], "log_mtime_ns": log["mtime_ns"],
        "log_hash": log["hash"], "build_id": log["build_id"], "profile": orjson.dumps(to_dict(run)),
    }


def _stage_row(per_run: dict[str, Any], stage: StageProfile, cores: int) -> dict[str, Any]:
    return {
        **per_run,
        "stage_id": stage.stage_id, "attempt": stage.attempt, "name": stage.name, "status": stage.status,
        "sql_execution_id": stage.sql_execution_id, "num_tasks": stage.num_tasks, "tasks": stage.task_time_ms.count,
        "submitted_ms": stage.submitted_ms, "completed_ms": stage.completed_ms, "wall_ms": stage.wall_ms,
        "task_time_ms": stage.task_time_ms.total, "task_time_ms_max": stage.task_time_ms.max,
        "task_time_ms_median": stage.task_time_ms.median, "cpu_time_ms": stage.cpu_time_ms,
        "gc_time_ms": stage.gc_time_ms, "core_utilisation": round(stage.core_utilisation(cores), 4),
        **_figure("input_bytes", stage.input_bytes, median=False), "input_records": stage.input_records,
        **_figure("output_bytes", stage.output_bytes), "output_records": stage.output_records,
        **_figure("shuffle_read_bytes", stage.shuffle_read_bytes),
        "shuffle_read_skew": round(stage.shuffle_read_bytes.skew, 4),
        "shuffle_write_bytes": stage.shuffle_write_bytes.total,
        "memory_spill_bytes": stage.memory_spill_bytes.total, "disk_spill_bytes": stage.disk_spill_bytes.total,
        "peak_execution_memory_max": stage.peak_execution_memory_max,
        "failed_tasks": stage.failed_tasks, "killed_tasks": stage.killed_tasks,
    }


def _figure(name: str, figure: Distribution, median: bool = True) -> dict[str, int]:
    row = {name: figure.total, f"{name}_max": figure.max}
    if median:
        row[f"{name}_median"] = figure.median
    return row


def _execution_row(per_run: dict[str, Any], execution) -> dict[str, Any]:
    return {
        **per_run,
        "execution_id": execution.execution_id, "root_execution_id": execution.root_execution_id,
        "description": execution.description, "started_ms": execution.started_ms, "ended_ms": execution.ended_ms,
        "duration_ms": execution.duration_ms, "error": execution.error, "job_ids": list(execution.job_ids),
        "stage_ids": list(execution.stage_ids), "writes": len(execution.writes), "joins": len(execution.joins),
        "scans": len(execution.scans),
    }


def _join_row(per_run: dict[str, Any], execution_id: int, position: int, join) -> dict[str, Any]:
    return {
        **per_run, "execution_id": execution_id, "position": position, "strategy": join.strategy,
        "description": join.description,
        "left_bytes": join.left.bytes, "left_rows": join.left.rows, "left_operator": join.left.operator,
        "right_bytes": join.right.bytes, "right_rows": join.right.rows, "right_operator": join.right.operator,
    }


def _write_row(per_run: dict[str, Any], execution_id: int, position: int, write) -> dict[str, Any]:
    return {
        **per_run, "execution_id": execution_id, "position": position, "command": write.command,
        "target": write.target, "path": write.path, "table_name": write.table, "format": write.format,
        "mode": write.mode, "files_written": write.files_written, "bytes_written": write.bytes_written,
        "rows_written": write.rows_written,
    }
