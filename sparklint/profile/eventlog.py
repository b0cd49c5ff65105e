"""Parse a Spark event log (JSON lines, already decoded) into a `RunProfile`, streaming.

Memory stays bounded however large the log: lines are read one at a time, events sparklint
does not use are skipped before JSON parsing (task starts, block updates, metrics heartbeats,
the environment), and per-task figures keep exact count/sum/max plus a bounded sample for the
median. The parser is tolerant: unknown events are ignored, missing fields read as 0/empty
(another Spark version), a cut last line (a log still being written or a crashed driver) or a
corrupt line is noted in `RunProfile.problems` and the rest is still used.

Formats follow Spark's `JsonProtocol` (core) and the SQL listener events
(`org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart` and friends).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable
from typing import Any, BinaryIO

import orjson

from sparklint.profile.model import (
    Distribution,
    JoinProfile,
    JoinSide,
    PlanMetric,
    PlanNode,
    RunProfile,
    SqlExecutionProfile,
    StageProfile,
    WriteProfile,
)

MAX_LINE_BYTES = 256 * 1024 * 1024
MAX_DESCRIPTION = 2000
MAX_DETAILS = 8000
SAMPLE_SIZE = 2048  # per figure and stage: exact medians below this many tasks
_EVENT_PREFIX = b'{"Event":"'
_SKIPPED_EVENTS = frozenset(
    {
        b"SparkListenerTaskStart",
        b"SparkListenerTaskGettingResult",
        b"SparkListenerBlockUpdated",
        b"SparkListenerBlockManagerAdded",
        b"SparkListenerBlockManagerRemoved",
        b"SparkListenerExecutorMetricsUpdate",
        b"SparkListenerStageExecutorMetrics",
        b"SparkListenerEnvironmentUpdate",
        b"SparkListenerResourceProfileAdded",
        b"SparkListenerUnpersistRDD",
    }
)
_JOIN_NODES = (
    "SortMergeJoin",
    "BroadcastHashJoin",
    "ShuffledHashJoin",
    "BroadcastNestedLoopJoin",
    "CartesianProduct",
)
_SIDE_SIZE_METRICS = ("data size", "shuffle bytes written", "size of files read", "written output")
_V2_WRITE_NODES = (
    "AppendData",
    "OverwriteByExpression",
    "OverwritePartitionsDynamic",
    "AtomicCreateTableAsSelect",
    "AtomicReplaceTableAsSelect",
    "CreateTableAsSelect",
    "ReplaceTableAsSelect",
    "WriteToDataSourceV2",
)
_V1_WRITE_COMMANDS = (
    "InsertIntoHadoopFsRelationCommand",
    "InsertIntoHiveTable",
    "CreateDataSourceTableAsSelectCommand",
    "CreateHiveTableAsSelectCommand",
    "SaveAsV1TableCommand",
    "InsertIntoDataSourceCommand",
    "SaveIntoDataSourceCommand",
)
_WRITE_MODES = ("Overwrite", "Append", "ErrorIfExists", "Ignore")
_QUOTED_TABLE = re.compile(r"`[^`]+`(?:\.`[^`]+`){0,2}")
_V2_TABLE = re.compile(r"(?:table=|TableName\(|Identifier\()?\b([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){1,3})\b")
_ARGUMENTS_LINE = re.compile(r"^Arguments: (.*)$", re.MULTILINE)


class _Figure:
    """Exact count/sum/max/min of a per-task figure plus a bounded sample for the median."""

    __slots__ = ("count", "total", "max", "min", "sample", "_state")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.max = 0
        self.min = 0
        self.sample = array("q")
        self._state = 0x2545F491

    def add(self, value: int) -> None:
        self.count += 1
        self.total += value
        if self.count == 1 or value > self.max:
            self.max = value
        if self.count == 1 or value < self.min:
            self.min = value
        if len(self.sample) < SAMPLE_SIZE:
            self.sample.append(value)
            return
        # Reservoir sampling with a fixed-seed xorshift: the same log always gives the same median.
        state = self._state
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        self._state = state
        slot = state % self.count
        if slot < SAMPLE_SIZE:
            self.sample[slot] = value

    def freeze(self) -> Distribution:
        if not self.count:
            return Distribution()
        ordered = sorted(self.sample)
        median = ordered[(len(ordered) - 1) // 2]
        return Distribution(count=self.count, total=self.total, max=self.max, median=median, min=self.min)


class _Stage:
    __slots__ = (
        "stage_id", "attempt", "name", "details", "num_tasks", "submitted_ms", "completed_ms",
        "status", "failure", "rdd_scopes", "sql_execution_id", "task_time", "run_time", "cpu_time_ns",
        "gc_time", "input_bytes", "input_records", "output_bytes", "output_records", "shuffle_read",
        "shuffle_read_records", "shuffle_write", "shuffle_write_records", "memory_spill", "disk_spill",
        "peak_memory", "failed_tasks", "killed_tasks",
    )  # fmt: skip

    def __init__(self, stage_id: int, attempt: int) -> None:
        self.stage_id = stage_id
        self.attempt = attempt
        self.name = ""
        self.details = ""
        self.num_tasks = 0
        self.submitted_ms = 0
        self.completed_ms = 0
        self.status = "running"
        self.failure = ""
        self.rdd_scopes: tuple[str, ...] = ()
        self.sql_execution_id: int | None = None
        self.task_time = _Figure()
        self.run_time = _Figure()
        self.cpu_time_ns = 0
        self.gc_time = 0
        self.input_bytes = _Figure()
        self.input_records = 0
        self.output_bytes = _Figure()
        self.output_records = 0
        self.shuffle_read = _Figure()
        self.shuffle_read_records = 0
        self.shuffle_write = _Figure()
        self.shuffle_write_records = 0
        self.memory_spill = _Figure()
        self.disk_spill = _Figure()
        self.peak_memory = 0
        self.failed_tasks = 0
        self.killed_tasks = 0


class _Execution:
    __slots__ = (
        "execution_id", "root_execution_id", "description", "details", "started_ms", "ended_ms",
        "error", "plan", "plan_text_arguments",
    )  # fmt: skip

    def __init__(self, execution_id: int) -> None:
        self.execution_id = execution_id
        self.root_execution_id: int | None = None
        self.description = ""
        self.details = ""
        self.started_ms = 0
        self.ended_ms = 0
        self.error = ""
        self.plan: dict[str, Any] | None = None
        self.plan_text_arguments: tuple[str, ...] = ()


class EventLogParser:
    """Feed it the lines of one run's event log, in order; `finish()` gives the `RunProfile`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.app_id = ""
        self.attempt_id = ""
        self.app_name = ""
        self.spark_version = ""
        self.started_ms = 0
        self.ended_ms = 0
        self.last_timestamp = 0
        self.complete = False
        self.executor_cores: dict[str, int] = {}
        self.alive_cores = 0
        self.max_cores = 0
        self.stages: dict[tuple[int, int], _Stage] = {}
        self.executions: dict[int, _Execution] = {}
        self.job_execution: dict[int, int] = {}
        self.job_stages: dict[int, tuple[int, ...]] = {}
        self.stage_jobs: dict[int, list[int]] = {}
        # accumulator id -> [total, max per task]; SQL metrics only
        self.accumulators: dict[int, list[int]] = {}
        self.problems: list[str] = []
        self.bad_lines = 0
        self.first_bad_line = 0
        self.events_read = 0
        self.lines_read = 0
        self.decoded_bytes = 0

    # ------------------------------------------------------------ input

    def skip_long_line(self, reader: BinaryIO) -> None:
        self.lines_read += 1
        self._note(f"line {self.lines_read} is longer than {MAX_LINE_BYTES} bytes; skipped")
        while True:
            rest = reader.readline(MAX_LINE_BYTES)
            self.decoded_bytes += len(rest)
            if not rest or rest.endswith(b"\n"):
                return

    def feed_line(self, line: bytes, last: bool = False) -> None:
        self.lines_read += 1
        if not last and line.startswith(_EVENT_PREFIX):
            end = line.find(b'"', len(_EVENT_PREFIX))
            if line[len(_EVENT_PREFIX) : end] in _SKIPPED_EVENTS:
                self.events_read += 1
                return
        stripped = line.strip()
        if not stripped:
            return
        try:
            event = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            if last:
                self._note(f"the last line ({self.lines_read}) is cut off: the log is still being written or the writer crashed")
            else:
                self.bad_lines += 1
                self.first_bad_line = self.first_bad_line or self.lines_read
            return
        if not isinstance(event, dict):
            self.bad_lines += 1
            self.first_bad_line = self.first_bad_line or self.lines_read
            return
        self.events_read += 1
        name = event.get("Event")
        if not isinstance(name, str):
            return
        handler = _HANDLERS.get(name.rpartition(".")[2])
        if handler is None:
            return
        try:
            handler(self, event)
        except (TypeError, ValueError, AttributeError, KeyError) as error:
            self._note(f"line {self.lines_read}: unexpected {name.rpartition('.')[2]} shape ({error}); skipped")

    def _note(self, problem: str) -> None:
        if len(self.problems) < 20 and problem not in self.problems:
            self.problems.append(problem)

    def _timestamp(self, value: Any) -> int:
        stamp = _int(value)
        if stamp > self.last_timestamp:
            self.last_timestamp = stamp
        return stamp

    # ------------------------------------------------------------ core events

    def on_log_start(self, event: dict) -> None:
        self.spark_version = str(event.get("Spark Version", ""))

    def on_application_start(self, event: dict) -> None:
        self.app_name = str(event.get("App Name", ""))
        self.app_id = str(event.get("App ID") or "")
        self.attempt_id = str(event.get("App Attempt ID") or "")
        self.started_ms = self._timestamp(event.get("Timestamp"))

    def on_application_end(self, event: dict) -> None:
        self.ended_ms = self._timestamp(event.get("Timestamp"))
        self.complete = True

    def on_executor_added(self, event: dict) -> None:
        self._timestamp(event.get("Timestamp"))
        executor = str(event.get("Executor ID", ""))
        cores = _int((event.get("Executor Info") or {}).get("Total Cores"))
        if executor in self.executor_cores and self.executor_cores[executor] > 0:
            self.alive_cores -= self.executor_cores[executor]
        self.executor_cores[executor] = cores
        self.alive_cores += cores
        self.max_cores = max(self.max_cores, self.alive_cores)

    def on_executor_removed(self, event: dict) -> None:
        self._timestamp(event.get("Timestamp"))
        executor = str(event.get("Executor ID", ""))
        cores = self.executor_cores.get(executor, 0)
        if cores > 0:
            self.alive_cores -= cores
            self.executor_cores[executor] = -cores  # remembered as an executor that ran

    def on_job_start(self, event: dict) -> None:
        self._timestamp(event.get("Submission Time"))
        job_id = _int(event.get("Job ID"))
        stage_ids = tuple(_int(stage) for stage in event.get("Stage IDs") or ())
        self.job_stages[job_id] = stage_ids
        for stage_id in stage_ids:
            self.stage_jobs.setdefault(stage_id, []).append(job_id)
        execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
        if execution not in (None, ""):
            self.job_execution[job_id] = _int(execution)

    def on_job_end(self, event: dict) -> None:
        self._timestamp(event.get("Completion Time"))

    def _stage(self, info: dict) -> _Stage:
        key = (_int(info.get("Stage ID")), _int(info.get("Stage Attempt ID")))
        stage = self.stages.get(key)
        if stage is None:
            stage = self.stages[key] = _Stage(*key)
        return stage

    def on_stage_submitted(self, event: dict) -> None:
        info = event.get("Stage Info") or {}
        stage = self._stage(info)
        self._fill_stage_info(stage, info)
        execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
        if execution not in (None, ""):
            stage.sql_execution_id = _int(execution)

    def on_stage_completed(self, event: dict) -> None:
        info = event.get("Stage Info") or {}
        stage = self._stage(info)
        self._fill_stage_info(stage, info)
        stage.completed_ms = self._timestamp(info.get("Completion Time"))
        failure = info.get("Failure Reason")
        stage.status = "failed" if failure else "succeeded"
        stage.failure = _first_line(str(failure or ""))

    def _fill_stage_info(self, stage: _Stage, info: dict) -> None:
        stage.name = str(info.get("Stage Name", stage.name))
        stage.details = str(info.get("Details", stage.details))[:MAX_DETAILS]
        stage.num_tasks = _int(info.get("Number of Tasks", stage.num_tasks))
        submitted = info.get("Submission Time")
        if submitted:
            stage.submitted_ms = self._timestamp(submitted)
        scopes = []
        for rdd in sorted(info.get("RDD Info") or (), key=lambda rdd: _int(rdd.get("RDD ID"))):
            scope = rdd.get("Scope")
            if isinstance(scope, str) and scope.startswith("{"):
                try:
                    scope_name = orjson.loads(scope).get("name", "")
                except orjson.JSONDecodeError:
                    continue
                if scope_name and scope_name not in scopes:
                    scopes.append(str(scope_name))
        if scopes:
            stage.rdd_scopes = tuple(scopes)

    def on_task_end(self, event: dict) -> None:
        stage = self.stages.get((_int(event.get("Stage ID")), _int(event.get("Stage Attempt ID"))))
        if stage is None:
            stage = self._stage(event)
        info = event.get("Task Info") or {}
        finish = self._timestamp(info.get("Finish Time"))
        reason = str((event.get("Task End Reason") or {}).get("Reason", "Success"))
        if reason != "Success":
            if reason == "TaskKilled" or info.get("Killed"):
                stage.killed_tasks += 1
            else:
                stage.failed_tasks += 1
            return
        metrics = event.get("Task Metrics") or {}
        stage.task_time.add(max(0, finish - _int(info.get("Launch Time"))))
        stage.run_time.add(_int(metrics.get("Executor Run Time")))
        stage.cpu_time_ns += _int(metrics.get("Executor CPU Time"))
        stage.gc_time += _int(metrics.get("JVM GC Time"))
        stage.peak_memory = max(stage.peak_memory, _int(metrics.get("Peak Execution Memory")))
        stage.memory_spill.add(_int(metrics.get("Memory Bytes Spilled")))
        stage.disk_spill.add(_int(metrics.get("Disk Bytes Spilled")))
        read = metrics.get("Input Metrics") or {}
        stage.input_bytes.add(_int(read.get("Bytes Read")))
        stage.input_records += _int(read.get("Records Read"))
        written = metrics.get("Output Metrics") or {}
        stage.output_bytes.add(_int(written.get("Bytes Written")))
        stage.output_records += _int(written.get("Records Written"))
        shuffle_read = metrics.get("Shuffle Read Metrics") or {}
        stage.shuffle_read.add(_int(shuffle_read.get("Remote Bytes Read")) + _int(shuffle_read.get("Local Bytes Read")))
        stage.shuffle_read_records += _int(shuffle_read.get("Total Records Read"))
        shuffle_write = metrics.get("Shuffle Write Metrics") or {}
        stage.shuffle_write.add(_int(shuffle_write.get("Shuffle Bytes Written")))
        stage.shuffle_write_records += _int(shuffle_write.get("Shuffle Records Written"))
        accumulators = self.accumulators
        for accumulable in info.get("Accumulables") or ():
            if accumulable.get("Metadata") != "sql":
                continue
            update = _int(accumulable.get("Update"))
            accumulator = _int(accumulable.get("ID"))
            slot = accumulators.get(accumulator)
            if slot is None:
                accumulators[accumulator] = [update, update]
            else:
                slot[0] += update
                if update > slot[1]:
                    slot[1] = update

    # ------------------------------------------------------------ SQL events

    def _execution(self, event: dict) -> _Execution:
        execution_id = _int(event.get("executionId"))
        execution = self.executions.get(execution_id)
        if execution is None:
            execution = self.executions[execution_id] = _Execution(execution_id)
        return execution

    def on_sql_start(self, event: dict) -> None:
        execution = self._execution(event)
        root = event.get("rootExecutionId")
        execution.root_execution_id = None if root is None else _int(root)
        execution.description = str(event.get("description", ""))[:MAX_DESCRIPTION]
        execution.details = str(event.get("details", ""))[:MAX_DETAILS]
        execution.started_ms = self._timestamp(event.get("time"))
        self._set_plan(execution, event)

    def on_sql_adaptive_update(self, event: dict) -> None:
        self._set_plan(self._execution(event), event)

    def _set_plan(self, execution: _Execution, event: dict) -> None:
        plan = event.get("sparkPlanInfo")
        if isinstance(plan, dict):
            execution.plan = _compact_plan(plan)
        text = event.get("physicalPlanDescription")
        if isinstance(text, str):
            execution.plan_text_arguments = tuple(
                argument[:MAX_DESCRIPTION] for argument in _ARGUMENTS_LINE.findall(text)[:50]
            )

    def on_sql_end(self, event: dict) -> None:
        execution = self._execution(event)
        execution.ended_ms = self._timestamp(event.get("time"))
        error = event.get("errorMessage")
        execution.error = _first_line(str(error))[:MAX_DESCRIPTION] if error else ""

    def on_driver_accum_updates(self, event: dict) -> None:
        for pair in event.get("accumUpdates") or ():
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                continue
            accumulator, value = _int(pair[0]), _int(pair[1])
            slot = self.accumulators.get(accumulator)
            if slot is None:
                self.accumulators[accumulator] = [value, value]
            else:
                slot[0] += value
                slot[1] = max(slot[1], value)

    # ------------------------------------------------------------ result

    def finish(self, truncated: bool = False) -> RunProfile:
        if self.bad_lines:
            self._note(f"{self.bad_lines} line(s) are not JSON (first: line {self.first_bad_line}); skipped")
        if truncated:
            self._note("the compressed stream ends mid-block: the log is still being written or the writer crashed")
        if not self.app_id and not self.events_read:
            self._note("no Spark events found")
        if not self.complete and self.events_read:
            self._note("no application end event: the run is in progress or crashed; figures cover what was logged")
        stages = tuple(self._freeze_stage(stage) for _, stage in sorted(self.stages.items()))
        executions = tuple(self._freeze_execution(execution) for _, execution in sorted(self.executions.items()))
        return RunProfile(
            app_id=self.app_id,
            attempt_id=self.attempt_id,
            app_name=self.app_name,
            spark_version=self.spark_version,
            source=self.source,
            started_ms=self.started_ms,
            ended_ms=self.ended_ms or self.last_timestamp,
            complete=self.complete,
            executors=len(self.executor_cores),
            max_cores=self.max_cores,
            stages=stages,
            sql_executions=executions,
            problems=tuple(self.problems),
            events_read=self.events_read,
            decoded_bytes=self.decoded_bytes,
        )

    def _freeze_stage(self, stage: _Stage) -> StageProfile:
        jobs = tuple(sorted(set(self.stage_jobs.get(stage.stage_id, ()))))
        execution = stage.sql_execution_id
        if execution is None:
            executions = {self.job_execution[job] for job in jobs if job in self.job_execution}
            execution = min(executions) if executions else None
        return StageProfile(
            stage_id=stage.stage_id,
            attempt=stage.attempt,
            name=stage.name,
            details=stage.details,
            num_tasks=stage.num_tasks,
            submitted_ms=stage.submitted_ms,
            completed_ms=stage.completed_ms,
            status=stage.status,
            failure=stage.failure,
            job_ids=jobs,
            sql_execution_id=execution,
            rdd_scopes=stage.rdd_scopes,
            task_time_ms=stage.task_time.freeze(),
            run_time_ms=stage.run_time.freeze(),
            cpu_time_ms=stage.cpu_time_ns // 1_000_000,
            gc_time_ms=stage.gc_time,
            input_bytes=stage.input_bytes.freeze(),
            input_records=stage.input_records,
            output_bytes=stage.output_bytes.freeze(),
            output_records=stage.output_records,
            shuffle_read_bytes=stage.shuffle_read.freeze(),
            shuffle_read_records=stage.shuffle_read_records,
            shuffle_write_bytes=stage.shuffle_write.freeze(),
            shuffle_write_records=stage.shuffle_write_records,
            memory_spill_bytes=stage.memory_spill.freeze(),
            disk_spill_bytes=stage.disk_spill.freeze(),
            peak_execution_memory_max=stage.peak_memory,
            failed_tasks=stage.failed_tasks,
            killed_tasks=stage.killed_tasks,
        )

    def _freeze_execution(self, execution: _Execution) -> SqlExecutionProfile:
        plan = self._freeze_plan(execution.plan) if execution.plan else None
        jobs = tuple(sorted(job for job, owner in self.job_execution.items() if owner == execution.execution_id))
        stage_ids = sorted({stage for job in jobs for stage in self.job_stages.get(job, ())})
        submitted = {key[0] for key in self.stages}
        # Commands of the same root execution (saveAsTable runs SaveAsV1TableCommand, then
        # CreateDataSourceTableAsSelectCommand, then the insert) name the table the insert writes.
        root_arguments = tuple(
            argument
            for other in self.executions.values()
            if other is not execution
            and execution.root_execution_id is not None
            and other.root_execution_id == execution.root_execution_id
            for argument in other.plan_text_arguments
        )
        return SqlExecutionProfile(
            execution_id=execution.execution_id,
            root_execution_id=execution.root_execution_id,
            description=execution.description,
            details=execution.details,
            started_ms=execution.started_ms,
            ended_ms=execution.ended_ms,
            error=execution.error,
            plan=plan,
            job_ids=jobs,
            stage_ids=tuple(stage for stage in stage_ids if stage in submitted),
            writes=tuple(_writes(plan, execution.plan_text_arguments + root_arguments)) if plan else (),
            joins=tuple(_joins(plan)) if plan else (),
        )

    def _freeze_plan(self, node: dict[str, Any]) -> PlanNode:
        metrics = []
        for name, accumulator, metric_type in node["metrics"]:
            slot = self.accumulators.get(accumulator)
            metrics.append(
                PlanMetric(
                    name=name,
                    accumulator_id=accumulator,
                    metric_type=metric_type,
                    value=slot[0] if slot else None,
                    max_per_task=slot[1] if slot else None,
                )
            )
        return PlanNode(
            name=node["name"],
            description=node["description"],
            metrics=tuple(metrics),
            children=tuple(self._freeze_plan(child) for child in node["children"]),
        )


# ---------------------------------------------------------------- plan helpers


def _compact_plan(node: dict[str, Any]) -> dict[str, Any]:
    """Keep only what the model needs from a sparkPlanInfo tree (iteratively: plans can be deep)."""
    root: dict[str, Any] = {}
    stack = [(node, root)]
    while stack:
        source, target = stack.pop()
        target["name"] = str(source.get("nodeName", ""))
        target["description"] = str(source.get("simpleString", ""))[:MAX_DESCRIPTION]
        target["metrics"] = [
            (str(metric.get("name", "")), _int(metric.get("accumulatorId")), str(metric.get("metricType", "")))
            for metric in source.get("metrics") or ()
            if isinstance(metric, dict)
        ]
        target["children"] = []
        for child in source.get("children") or ():
            if isinstance(child, dict):
                compact: dict[str, Any] = {}
                target["children"].append(compact)
                stack.append((child, compact))
    return root


def _metric_value(node: PlanNode, name: str) -> int | None:
    metric = node.metric(name)
    return metric.value if metric else None


def _writes(plan: PlanNode, plan_arguments: tuple[str, ...]) -> Iterable[WriteProfile]:
    for node in plan.walk():
        command = node.name.removeprefix("Execute ").strip()
        if command in _V1_WRITE_COMMANDS:
            arguments = node.description.removeprefix(node.name).strip()
            if not arguments:
                arguments = next((text for text in plan_arguments if text), "")
            if command in ("SaveAsV1TableCommand", "CreateDataSourceTableAsSelectCommand",
                           "CreateHiveTableAsSelectCommand") and not node.metrics:  # fmt: skip
                continue  # a wrapper: the InsertInto... execution below it does the writing
            yield _v1_write(command, arguments, node, plan_arguments)
        elif node.name in _V2_WRITE_NODES:
            arguments = node.description.removeprefix(node.name).strip()
            match = _V2_TABLE.search(arguments)
            yield WriteProfile(
                command=node.name,
                path="",
                table=match.group(1) if match else "",
                format="",
                mode="Overwrite" if "Overwrite" in node.name or "Replace" in node.name else "Append",
                files_written=_metric_value(node, "number of written files"),
                bytes_written=_metric_value(node, "written output"),
                rows_written=_metric_value(node, "number of output rows"),
            )


def _v1_write(command: str, arguments: str, node: PlanNode, plan_arguments: tuple[str, ...]) -> WriteProfile:
    fields = [field.strip() for field in _split_top_level(arguments)]
    path = fields[0] if fields and (":" in fields[0] or fields[0].startswith("/")) else ""
    table_match = _QUOTED_TABLE.search(arguments)
    if table_match is None:
        # saveAsTable: the table is named by the wrapping commands of the root execution;
        # prefer the most qualified spelling (`spark_catalog`.`default`.`t` over `t`).
        candidates = [match for text in plan_arguments if (match := _QUOTED_TABLE.search(text))]
        table_match = max(candidates, key=lambda match: match.group(0).count("."), default=None)
    known_formats = {"parquet", "orc", "csv", "json", "text", "avro", "delta", "hive"}
    data_format = next((field for field in fields if field.lower() in known_formats), "")
    mode = next((field for field in fields if field in _WRITE_MODES), "")
    return WriteProfile(
        command=command,
        path=path,
        table=table_match.group(0).replace("`", "") if table_match else "",
        format=data_format,
        mode=mode,
        files_written=_metric_value(node, "number of written files"),
        bytes_written=_metric_value(node, "written output"),
        rows_written=_metric_value(node, "number of output rows"),
    )


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets or parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _joins(plan: PlanNode) -> Iterable[JoinProfile]:
    for node in plan.walk():
        if node.name not in _JOIN_NODES:
            continue
        sides = [_join_side(child) for child in node.children[:2]]
        while len(sides) < 2:
            sides.append(JoinSide(bytes=None, rows=None, operator=""))
        yield JoinProfile(strategy=node.name, description=node.description, left=sides[0], right=sides[1])


def _join_side(child: PlanNode) -> JoinSide:
    """The measured size of one join input: the nearest exchange's or scan's size metric."""
    rows = None
    for node in child.walk():
        if rows is None:
            rows = _metric_value(node, "number of output rows")
        if rows is None:
            rows = _metric_value(node, "shuffle records written")
        for name in _SIDE_SIZE_METRICS:
            value = _metric_value(node, name)
            if value is not None:
                return JoinSide(bytes=value, rows=rows, operator=node.name)
        if node.name in _JOIN_NODES:
            break  # the side is itself a join: its inputs are not this side's size
    return JoinSide(bytes=None, rows=rows, operator="")


# ---------------------------------------------------------------- small helpers


def _int(value: Any) -> int:
    """A JSON number or numeric string as int; anything else 0 (another version's shape)."""
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        try:
            return int(value)
        except ValueError:
            pass
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return int(float(value))
            except ValueError:
                return 0
    return 0


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


_HANDLERS = {
    "SparkListenerLogStart": EventLogParser.on_log_start,
    "SparkListenerApplicationStart": EventLogParser.on_application_start,
    "SparkListenerApplicationEnd": EventLogParser.on_application_end,
    "SparkListenerExecutorAdded": EventLogParser.on_executor_added,
    "SparkListenerExecutorRemoved": EventLogParser.on_executor_removed,
    "SparkListenerJobStart": EventLogParser.on_job_start,
    "SparkListenerJobEnd": EventLogParser.on_job_end,
    "SparkListenerStageSubmitted": EventLogParser.on_stage_submitted,
    "SparkListenerStageCompleted": EventLogParser.on_stage_completed,
    "SparkListenerTaskEnd": EventLogParser.on_task_end,
    "SparkListenerSQLExecutionStart": EventLogParser.on_sql_start,
    "SparkListenerSQLAdaptiveExecutionUpdate": EventLogParser.on_sql_adaptive_update,
    "SparkListenerSQLExecutionEnd": EventLogParser.on_sql_end,
    "SparkListenerDriverAccumUpdates": EventLogParser.on_driver_accum_updates,
}
