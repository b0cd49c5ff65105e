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

import itertools
import re
from array import array
from collections.abc import Iterable
from typing import Any

import orjson

from sparklint.profile.codecs import (
    DEFAULT_LIMIT,
    LONG_LINE,
    MAX_LINE_BYTES,
    LogLines,
    LogPart,
)
from sparklint.profile.model import (
    RECORDED_PROPERTIES,
    Distribution,
    JoinProfile,
    JoinSide,
    PlanMetric,
    PlanNode,
    RunProfile,
    ScanColumn,
    ScanProfile,
    SparkProperty,
    SqlExecutionProfile,
    StageProfile,
    WriteProfile,
)

LONG_MAX = 2**63 - 1  # Spark's figures are Java longs
MAX_DESCRIPTION = 2000
MAX_DETAILS = 8000
MAX_NAME = 500
# Bounds on what one log may cost, far above what Spark writes (its UI keeps 1000 stages and
# 1000 SQL executions by default) and low enough that a hostile log stays under ~1 GiB and a
# minute: a bomb of tiny lines stops at MAX_NOISE_LINES or MAX_LINES, a log of endless distinct
# stages, jobs or plans stops growing at their bound.
MAX_LINES = 20_000_000
MAX_NOISE_LINES = 100_000  # blank, not JSON or not an event; Spark writes none
MAX_CONTAINERS = 1_000_000  # JSON objects and arrays in one line, ~100 bytes each once parsed
_CONTAINER_CHECK_BYTES = 1024 * 1024  # shorter lines cannot hold too many
MAX_STAGES = 20_000
MAX_EXECUTIONS = 20_000
MAX_JOBS = 100_000
MAX_STAGES_PER_JOB = 10_000
MAX_JOB_STAGE_LINKS = 2_000_000
MAX_EXECUTORS = 100_000
MAX_ACCUMULATORS = 500_000
MAX_PLAN_NODES = 200_000  # over all plans of a run
MAX_PLAN_DEPTH = 200  # the model is walked recursively in places
MAX_NODE_METRICS = 100
MAX_RDD_SCOPES = 50
MAX_SAME_ROOT = 20  # executions of one root whose plan arguments name a written table
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
_SCAN_METADATA = ("ReadSchema", "Location")  # what a file scan's plan-node metadata says that sparklint uses
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w]*)#\d+(L?)")
_INDEX_PATHS = re.compile(r"\[([^\[\]]+)\]\s*$")  # `InMemoryFileIndex(1 paths)[file:/lake/visits]`
MAX_SCAN_COLUMNS = 500


# A successful task's figures as one row, in this order: first the per-task distributions (count,
# sum, max, min, median), then figures only summed, then the peak.
_DISTRIBUTIONS = ("task_time", "run_time", "memory_spill", "disk_spill", "input_bytes", "output_bytes",
                  "shuffle_read", "shuffle_write")
_SUMS = ("cpu_time_ns", "gc_time", "input_records", "output_records", "shuffle_read_records", "shuffle_write_records",
         "result_bytes")
_PEAK = len(_DISTRIBUTIONS) + len(_SUMS)  # the column of the peak execution memory
_ROW_WIDTH = _PEAK + 1
_FOLD_ROWS = 1024  # rows buffered before they are folded into the totals


class _TaskTable:
    """The successful tasks of one stage: exact count, sums, max and min of each figure, and a
    bounded sample of each distribution for the medians.

    Rows are buffered and folded in batches with builtins (zip, sum, max, min) rather than one
    method call per figure and task. The sample is reservoir sampling with a fixed-seed xorshift
    (the same log always gives the same median); every distribution of a stage sees the same
    tasks, so one random slot per task serves them all."""

    __slots__ = ("count", "rows", "totals", "maxima", "minima", "samples", "_state")

    def __init__(self) -> None:
        self.count = 0
        self.rows: list[tuple[int, ...]] = []
        self.totals = [0] * _ROW_WIDTH
        self.maxima = [0] * _ROW_WIDTH
        self.minima = [LONG_MAX] * len(_DISTRIBUTIONS)
        self.samples = [array("q") for _ in _DISTRIBUTIONS]
        self._state = 0x2545F491

    def add(self, row: tuple[int, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= _FOLD_ROWS:
            self.fold()

    def fold(self) -> None:
        rows = self.rows
        if not rows:
            return
        columns = list(zip(*rows))
        for index, column in enumerate(columns):
            self.totals[index] += sum(column)
            self.maxima[index] = max(self.maxima[index], max(column))
        for index in range(len(_DISTRIBUTIONS)):
            self.minima[index] = min(self.minima[index], min(columns[index]))
        room = max(0, SAMPLE_SIZE - len(self.samples[0]))
        for index, sample in enumerate(self.samples):
            sample.extend(columns[index][:room])
        self._sample(rows, room)
        self.count += len(rows)
        self.rows = []

    def _sample(self, rows: list[tuple[int, ...]], first: int) -> None:
        state, count, samples = self._state, self.count + first, self.samples
        for row in rows[first:]:
            count += 1
            state ^= (state << 13) & 0xFFFFFFFF
            state ^= state >> 17
            state ^= (state << 5) & 0xFFFFFFFF
            slot = state % count
            if slot < SAMPLE_SIZE:
                for index, sample in enumerate(samples):
                    sample[slot] = row[index]
        self._state = state

    def distribution(self, name: str) -> Distribution:
        self.fold()
        if not self.count:
            return Distribution()
        index = _DISTRIBUTIONS.index(name)
        ordered = sorted(self.samples[index])
        return Distribution(count=self.count, total=_clamp(self.totals[index]), max=self.maxima[index],
                            median=ordered[(len(ordered) - 1) // 2], min=self.minima[index])

    def total(self, name: str) -> int:
        self.fold()
        return self.totals[len(_DISTRIBUTIONS) + _SUMS.index(name)]

    def peak(self) -> int:
        self.fold()
        return self.maxima[_PEAK]


class _Stage:
    __slots__ = (
        "stage_id", "attempt", "name", "details", "num_tasks", "submitted_ms", "completed_ms",
        "status", "failure", "rdd_scopes", "sql_execution_id", "tasks", "failed_tasks", "killed_tasks",
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
        self.tasks = _TaskTable()
        self.failed_tasks = 0
        self.killed_tasks = 0


class _Execution:
    __slots__ = (
        "execution_id", "root_execution_id", "description", "details", "started_ms", "ended_ms",
        "error", "plan", "plan_nodes", "plan_text_arguments", "modified_properties",
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
        self.plan_nodes = 0
        self.plan_text_arguments: tuple[str, ...] = ()
        self.modified_properties: tuple[SparkProperty, ...] = ()


class EventLogParser:
    """Feed it the lines of one run's event log, in order; `finish()` gives the `RunProfile`.

    A bad event costs one note per kind of problem and log, never the run: a number that is not
    a whole number in 0..2^63-1 (a Java long that cannot be negative) skips its event, a field of
    the wrong shape too, and past the bounds on lines, noise and kept items reading stops or the
    extra items are left out, each counted in one note."""

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
        self.spark_properties: tuple[SparkProperty, ...] = ()
        self.executor_cores: dict[str, int] = {}
        self.alive_cores = 0
        self.max_cores = 0
        self.stages: dict[tuple[int, int], _Stage] = {}
        self.executions: dict[int, _Execution] = {}
        self.job_execution: dict[int, int] = {}
        self.job_stages: dict[int, tuple[int, ...]] = {}
        self.stage_jobs: dict[int, list[int]] = {}
        self.job_stage_links = 0
        self.plan_nodes = 0
        # accumulator id -> [total, max per task]; SQL metrics only
        self.accumulators: dict[int, list[int]] = {}
        self.problems: list[str] = []
        self.bad_lines = 0
        self.first_bad_line = 0
        self.noise_lines = 0
        self.long_lines = 0
        self.first_long_line = 0
        self.bad_numbers = 0
        self.first_bad_number = ""
        self.bad_shapes: dict[str, list] = {}  # event name -> [count, first line, error]
        self.left_out: dict[str, int] = {}  # what a bound left out -> how many
        self.stopped = ""  # why reading stopped early, "" while it goes on
        self.events_read = 0
        self.lines_read = 0
        self.decoded_bytes = 0

    # ------------------------------------------------------------ input

    def note_long_line(self) -> None:
        self.lines_read += 1
        self.long_lines += 1
        self.first_long_line = self.first_long_line or self.lines_read

    def feed_line(self, line: bytes, last: bool = False) -> None:
        if self.stopped:
            return
        self.lines_read += 1
        if self.lines_read > MAX_LINES:
            self.stopped = f"more than {MAX_LINES} lines: stopped reading; figures cover the first {MAX_LINES}"
            return
        last = last or not line.endswith(b"\n")
        if not last and line.startswith(_EVENT_PREFIX):
            end = line.find(b'"', len(_EVENT_PREFIX))
            if line[len(_EVENT_PREFIX) : end] in _SKIPPED_EVENTS:
                self.events_read += 1
                return
            if line.startswith(_SUCCESSFUL_TASK_END):
                event = _parse_task_end(line)
                if event is not None:
                    self._handle(event)
                    return
        event = self._parse(line, last)
        if event is None:
            return
        name = event.get("Event")
        if not isinstance(name, str):
            self._note_noise()
            return
        self._handle(event)

    def _handle(self, event: dict) -> None:
        self.events_read += 1
        short_name = event["Event"].rpartition(".")[2]
        handler = _HANDLERS.get(short_name)
        if handler is None:
            return
        try:
            handler(self, event)
        except _BadNumber as error:
            self._note_bad_number(short_name, error.value)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as error:
            self._note_bad_shape(short_name, error)

    def _parse(self, line: bytes, last: bool) -> dict | None:
        """The event a line holds; None (and counted) for a blank, cut, corrupt or foreign line."""
        stripped = line.strip()
        if not stripped:
            self._note_noise()
            return None
        if len(stripped) > _CONTAINER_CHECK_BYTES and stripped.count(b"{") + stripped.count(b"[") > MAX_CONTAINERS:
            self.left_out["lines with too many JSON objects and arrays to parse"] = (
                self.left_out.get("lines with too many JSON objects and arrays to parse", 0) + 1)
            return None
        try:
            event = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            if last:
                self._note(f"the last line ({self.lines_read}) is cut off: the log is still being written or the writer crashed")
                return None
            event = None
        if not isinstance(event, dict):
            self.bad_lines += 1
            self.first_bad_line = self.first_bad_line or self.lines_read
            self._note_noise()
            return None
        return event

    def _note_noise(self) -> None:
        self.noise_lines += 1
        if self.noise_lines > MAX_NOISE_LINES:
            self.stopped = (f"more than {MAX_NOISE_LINES} lines are blank, not JSON or not Spark events: "
                            "stopped reading (not a Spark event log?)")

    def _note_bad_number(self, event_name: str, value: Any) -> None:
        self.bad_numbers += 1
        if not self.first_bad_number:
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            self.first_bad_number = f"line {self.lines_read}, {event_name}: {shown}"

    def _note_bad_shape(self, event_name: str, error: Exception) -> None:
        seen = self.bad_shapes.get(event_name)
        if seen is None:
            self.bad_shapes[event_name] = [1, self.lines_read, _first_line(str(error))[:200]]
        else:
            seen[0] += 1

    def _leave_out(self, what: str) -> None:
        self.left_out[what] = self.left_out.get(what, 0) + 1

    def _note(self, problem: str) -> None:
        if len(self.problems) < 20 and problem not in self.problems:
            self.problems.append(problem)

    def _timestamp(self, value: Any) -> int:
        stamp = _long(value)
        if stamp > self.last_timestamp:
            self.last_timestamp = stamp
        return stamp

    # ------------------------------------------------------------ core events

    def on_log_start(self, event: dict) -> None:
        self.spark_version = _text(event.get("Spark Version", ""), MAX_NAME)

    def on_application_start(self, event: dict) -> None:
        started = self._timestamp(event.get("Timestamp"))
        self.app_name = _text(event.get("App Name", ""), MAX_NAME)
        self.app_id = _text(event.get("App ID") or "", MAX_NAME)
        self.attempt_id = _text(event.get("App Attempt ID") or "", MAX_NAME)
        self.started_ms = started

    def on_environment_update(self, event: dict) -> None:
        self.spark_properties = _recorded_properties(event.get("Spark Properties"))

    def on_application_end(self, event: dict) -> None:
        self.ended_ms = self._timestamp(event.get("Timestamp"))
        self.complete = True

    def on_executor_added(self, event: dict) -> None:
        self._timestamp(event.get("Timestamp"))
        executor = _text(event.get("Executor ID", ""), MAX_NAME)
        cores = _long((event.get("Executor Info") or {}).get("Total Cores"))
        if executor not in self.executor_cores and len(self.executor_cores) >= MAX_EXECUTORS:
            self._leave_out("executors")
            return
        if executor in self.executor_cores and self.executor_cores[executor] > 0:
            self.alive_cores -= self.executor_cores[executor]
        self.executor_cores[executor] = cores
        self.alive_cores += cores
        self.max_cores = max(self.max_cores, self.alive_cores)

    def on_executor_removed(self, event: dict) -> None:
        self._timestamp(event.get("Timestamp"))
        executor = _text(event.get("Executor ID", ""), MAX_NAME)
        cores = self.executor_cores.get(executor, 0)
        if cores > 0:
            self.alive_cores -= cores
            self.executor_cores[executor] = -cores  # remembered as an executor that ran

    def on_job_start(self, event: dict) -> None:
        submitted = event.get("Submission Time")
        job_id = _long(event.get("Job ID"))
        listed = event.get("Stage IDs") or ()
        stage_ids = tuple(_long(stage) for stage in itertools.islice(listed, MAX_STAGES_PER_JOB))
        execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
        execution_id = None if execution in (None, "") else _long(execution)
        self._timestamp(submitted)
        if job_id not in self.job_stages and len(self.job_stages) >= MAX_JOBS:
            self._leave_out("jobs")
            return
        if len(listed) > MAX_STAGES_PER_JOB or self.job_stage_links + len(stage_ids) > MAX_JOB_STAGE_LINKS:
            self._leave_out("stage lists of jobs (cut)")
            stage_ids = stage_ids[: max(0, MAX_JOB_STAGE_LINKS - self.job_stage_links)]
        self.job_stage_links += len(stage_ids)
        self.job_stages[job_id] = stage_ids
        for stage_id in stage_ids:
            self.stage_jobs.setdefault(stage_id, []).append(job_id)
        if execution_id is not None:
            self.job_execution[job_id] = execution_id

    def on_job_end(self, event: dict) -> None:
        self._timestamp(event.get("Completion Time"))

    def _stage(self, stage_id: Any, attempt: Any) -> _Stage | None:
        key = (_long(stage_id), _long(attempt))
        stage = self.stages.get(key)
        if stage is None:
            if len(self.stages) >= MAX_STAGES:
                self._leave_out("stages")
                return None
            stage = self.stages[key] = _Stage(*key)
        return stage

    def on_stage_submitted(self, event: dict) -> None:
        info = event.get("Stage Info") or {}
        execution = (event.get("Properties") or {}).get("spark.sql.execution.id")
        execution_id = None if execution in (None, "") else _long(execution)
        stage = self._stage(info.get("Stage ID"), info.get("Stage Attempt ID"))
        if stage is None:
            return
        self._fill_stage_info(stage, info)
        if execution_id is not None:
            stage.sql_execution_id = execution_id

    def on_stage_completed(self, event: dict) -> None:
        info = event.get("Stage Info") or {}
        completed = _long(info.get("Completion Time"))
        stage = self._stage(info.get("Stage ID"), info.get("Stage Attempt ID"))
        if stage is None:
            return
        self._fill_stage_info(stage, info)
        stage.completed_ms = self._timestamp(completed)
        failure = info.get("Failure Reason")
        stage.status = "failed" if failure else "succeeded"
        stage.failure = _first_line(_text(failure or "", MAX_DETAILS))[:MAX_DESCRIPTION]

    def _fill_stage_info(self, stage: _Stage, info: dict) -> None:
        num_tasks = _long(info.get("Number of Tasks", stage.num_tasks))
        submitted = info.get("Submission Time")
        submitted_ms = self._timestamp(submitted) if submitted else stage.submitted_ms
        stage.name = _text(info.get("Stage Name", stage.name), MAX_DESCRIPTION)
        stage.details = _text(info.get("Details", stage.details), MAX_DETAILS)
        stage.num_tasks = num_tasks
        stage.submitted_ms = submitted_ms
        scopes = _rdd_scopes(info.get("RDD Info") or ())
        if scopes:
            stage.rdd_scopes = scopes

    def on_task_end(self, event: dict) -> None:
        info = event.get("Task Info") or {}
        finish = self._timestamp(info.get("Finish Time"))
        reason = str((event.get("Task End Reason") or {}).get("Reason", "Success"))
        if reason != "Success":
            stage = self._stage(event.get("Stage ID"), event.get("Stage Attempt ID"))
            if stage is None:
                return
            if reason == "TaskKilled" or info.get("Killed"):
                stage.killed_tasks += 1
            else:
                stage.failed_tasks += 1
            return
        row = _task_row(event.get("Task Metrics") or _NO_METRICS, finish - _long(info.get("Launch Time")))
        accumulables = info.get("Accumulables") or ()
        stage = self._stage(event.get("Stage ID"), event.get("Stage Attempt ID"))
        if stage is None:
            self._sql_updates(accumulables)  # still notes its bad numbers
            return
        stage.tasks.add(row)
        self._add_sql_updates(accumulables)

    def _add_sql_updates(self, accumulables: Iterable[Any]) -> None:
        """Add a task's SQL metric updates to their accumulators (`_sql_updates`, then
        `_add_to_accumulator`, in one pass: this runs for every task)."""
        accumulators = self.accumulators
        for accumulable in accumulables:
            if accumulable.get("Metadata") != "sql":
                continue
            identifier, update = accumulable.get("ID"), accumulable.get("Update")
            # Spark writes the id as a number and a SQL metric's update as a decimal string
            if not (type(identifier) is int and type(update) is str and update.isdigit() and len(update) <= 18
                    and update.isascii() and 0 <= identifier <= LONG_MAX):
                for accumulator, value in self._sql_updates((accumulable,)):
                    self._add_to_accumulator(accumulator, value)
                continue
            value = int(update)
            slot = accumulators.get(identifier)
            if slot is None:
                self._add_to_accumulator(identifier, value)
            else:
                slot[0] += value
                if value > slot[1]:
                    slot[1] = value

    def _sql_updates(self, accumulables: Iterable[Any]) -> list[tuple[int, int]]:
        """(accumulator, update) of the SQL metrics a task reported; a bad entry is left out."""
        updates = []
        for accumulable in accumulables:
            if accumulable.get("Metadata") != "sql":
                continue
            try:
                updates.append((_long(accumulable.get("ID")), _long(accumulable.get("Update"))))
            except _BadNumber as error:
                self._note_bad_number("SparkListenerTaskEnd accumulable", error.value)
        return updates

    def _add_to_accumulator(self, accumulator: int, value: int) -> None:
        slot = self.accumulators.get(accumulator)
        if slot is None:
            if len(self.accumulators) >= MAX_ACCUMULATORS:
                self._leave_out("SQL metric accumulators")
                return
            self.accumulators[accumulator] = [value, value]
            return
        slot[0] += value
        if value > slot[1]:
            slot[1] = value

    # ------------------------------------------------------------ SQL events

    def _execution(self, event: dict) -> _Execution | None:
        execution_id = _long(event.get("executionId"))
        execution = self.executions.get(execution_id)
        if execution is None:
            if len(self.executions) >= MAX_EXECUTIONS:
                self._leave_out("SQL executions")
                return None
            execution = self.executions[execution_id] = _Execution(execution_id)
        return execution

    def on_sql_start(self, event: dict) -> None:
        root = event.get("rootExecutionId")
        root_id = None if root is None else _long(root)
        started = self._timestamp(event.get("time"))
        execution = self._execution(event)
        if execution is None:
            return
        execution.root_execution_id = root_id
        execution.description = _text(event.get("description", ""), MAX_DESCRIPTION)
        execution.details = _text(event.get("details", ""), MAX_DETAILS)
        execution.started_ms = started
        execution.modified_properties = _recorded_properties(event.get("modifiedConfigs"))
        self._set_plan(execution, event)

    def on_sql_adaptive_update(self, event: dict) -> None:
        execution = self._execution(event)
        if execution is not None:
            self._set_plan(execution, event)

    def _set_plan(self, execution: _Execution, event: dict) -> None:
        plan = event.get("sparkPlanInfo")
        if isinstance(plan, dict):
            budget = MAX_PLAN_NODES - self.plan_nodes + execution.plan_nodes
            compact, nodes, cut = _compact_plan(plan, budget)
            if cut:
                self._leave_out("plans (cut to their first nodes)")
            self.plan_nodes += nodes - execution.plan_nodes
            execution.plan, execution.plan_nodes = compact, nodes
        text = event.get("physicalPlanDescription")
        if isinstance(text, str):
            execution.plan_text_arguments = tuple(
                match.group(1)[:MAX_DESCRIPTION] for match in itertools.islice(_ARGUMENTS_LINE.finditer(text), 50)
            )

    def on_sql_end(self, event: dict) -> None:
        ended = self._timestamp(event.get("time"))
        execution = self._execution(event)
        if execution is None:
            return
        execution.ended_ms = ended
        error = event.get("errorMessage")
        execution.error = _first_line(_text(error, MAX_DETAILS))[:MAX_DESCRIPTION] if error else ""

    def on_driver_accum_updates(self, event: dict) -> None:
        for pair in event.get("accumUpdates") or ():
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                continue
            try:
                accumulator, value = _long(pair[0]), _long(pair[1])
            except _BadNumber as error:
                self._note_bad_number("SparkListenerDriverAccumUpdates", error.value)
                continue
            self._add_to_accumulator(accumulator, value)

    # ------------------------------------------------------------ result

    def finish(self, truncated: bool = False) -> RunProfile:
        self._note_what_was_skipped()
        if truncated:
            self._note("the compressed stream ends mid-block: the log is still being written or the writer crashed")
        if not self.app_id and not self.events_read:
            self._note("no Spark events found")
        if not self.complete and self.events_read:
            self._note("no application end event: the run is in progress or crashed; figures cover what was logged")
        stages = tuple(self._freeze_stage(stage) for _, stage in sorted(self.stages.items()))
        executions = self._freeze_executions()
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
            max_cores=_clamp(self.max_cores),
            stages=stages,
            sql_executions=executions,
            problems=tuple(self.problems),
            events_read=self.events_read,
            decoded_bytes=self.decoded_bytes,
            spark_properties=self.spark_properties,
        )

    def _note_what_was_skipped(self) -> None:
        """One note per kind of problem, however many events had it."""
        if self.stopped:
            self._note(self.stopped)
        if self.bad_lines:
            self._note(f"{self.bad_lines} line(s) are not JSON (first: line {self.first_bad_line}); skipped")
        if self.long_lines:
            self._note(f"{self.long_lines} line(s) are longer than {MAX_LINE_BYTES} bytes "
                       f"(first: line {self.first_long_line}); skipped")
        if self.bad_numbers:
            self._note(f"{self.bad_numbers} event(s) hold a number that is not a whole number in 0..2^63-1 "
                       f"(first: {self.first_bad_number}); skipped")
        for name, (count, line, error) in self.bad_shapes.items():
            more = f" and {count - 1} more such event(s)" if count > 1 else ""
            self._note(f"line {line}: unexpected {name} shape ({error}); skipped{more}")
        for what, count in self.left_out.items():
            self._note(f"{count} {what} beyond sparklint's bounds left out")

    def _freeze_stage(self, stage: _Stage) -> StageProfile:
        jobs = tuple(sorted(set(self.stage_jobs.get(stage.stage_id, ()))))
        tasks = stage.tasks
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
            task_time_ms=tasks.distribution("task_time"),
            run_time_ms=tasks.distribution("run_time"),
            cpu_time_ms=_clamp(tasks.total("cpu_time_ns") // 1_000_000),
            gc_time_ms=_clamp(tasks.total("gc_time")),
            input_bytes=tasks.distribution("input_bytes"),
            input_records=_clamp(tasks.total("input_records")),
            output_bytes=tasks.distribution("output_bytes"),
            output_records=_clamp(tasks.total("output_records")),
            shuffle_read_bytes=tasks.distribution("shuffle_read"),
            shuffle_read_records=_clamp(tasks.total("shuffle_read_records")),
            shuffle_write_bytes=tasks.distribution("shuffle_write"),
            shuffle_write_records=_clamp(tasks.total("shuffle_write_records")),
            memory_spill_bytes=tasks.distribution("memory_spill"),
            disk_spill_bytes=tasks.distribution("disk_spill"),
            peak_execution_memory_max=tasks.peak(),
            failed_tasks=stage.failed_tasks,
            killed_tasks=stage.killed_tasks,
            result_bytes=_clamp(tasks.total("result_bytes")),
        )

    def _freeze_executions(self) -> tuple[SqlExecutionProfile, ...]:
        jobs_of: dict[int, list[int]] = {}
        for job, owner in self.job_execution.items():
            jobs_of.setdefault(owner, []).append(job)
        by_root: dict[int, list[_Execution]] = {}
        for execution in self.executions.values():
            if execution.root_execution_id is not None:
                by_root.setdefault(execution.root_execution_id, []).append(execution)
        submitted = {key[0] for key in self.stages}
        return tuple(
            self._freeze_execution(execution, sorted(jobs_of.get(execution.execution_id, ())),
                                   by_root.get(execution.root_execution_id, ()), submitted)
            for _, execution in sorted(self.executions.items())
        )

    def _freeze_execution(self, execution: _Execution, jobs: list[int], same_root: Iterable[_Execution],
                          submitted: set[int]) -> SqlExecutionProfile:
        plan = self._freeze_plan(execution.plan) if execution.plan else None
        stage_ids = sorted({stage for job in jobs for stage in self.job_stages.get(job, ())})
        # Commands of the same root execution (saveAsTable runs SaveAsV1TableCommand, then
        # CreateDataSourceTableAsSelectCommand, then the insert) name the table the insert writes.
        others = itertools.islice((other for other in same_root if other is not execution), MAX_SAME_ROOT)
        root_arguments = tuple(argument for other in others for argument in other.plan_text_arguments)
        return SqlExecutionProfile(
            execution_id=execution.execution_id,
            root_execution_id=execution.root_execution_id,
            description=execution.description,
            details=execution.details,
            started_ms=execution.started_ms,
            ended_ms=execution.ended_ms,
            error=execution.error,
            plan=plan,
            job_ids=tuple(jobs),
            stage_ids=tuple(stage for stage in stage_ids if stage in submitted),
            writes=tuple(_writes(plan, execution.plan_text_arguments + root_arguments)) if plan else (),
            joins=tuple(_joins(plan)) if plan else (),
            scans=tuple(_scans(execution.plan)) if execution.plan else (),
            modified_properties=execution.modified_properties,
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
                    value=_clamp(slot[0]) if slot else None,
                    max_per_task=slot[1] if slot else None,
                )
            )
        return PlanNode(
            name=node["name"],
            description=node["description"],
            metrics=tuple(metrics),
            children=tuple(self._freeze_plan(child) for child in node["children"]),
        )


# A successful task's end as Spark writes it: the end reason first, then the task info, whose last
# field is the accumulables (by id: the SQL metrics of the plan before the task's own metrics),
# then the executor metrics, then the task metrics.
_SUCCESSFUL_TASK_END = b'{"Event":"SparkListenerTaskEnd","Stage ID":'
_SUCCESS = b'"Task End Reason":{"Reason":"Success"}'
_INTERNAL_METRIC = b'"Name":"internal.metrics.'
_ACCUMULABLE = b'{"ID":'
_AFTER_TASK_INFO = b']},"Task '
_TASK_METRICS = b'},"Task Metrics":'
_SQL_METADATA = b'"Metadata":"sql"'
_PUSH_BASED_SHUFFLE = b',"Push Based Shuffle":{'


def _parse_task_end(line: bytes) -> dict | None:
    """A successful task-end event parsed without what sparklint drops: the accumulables from the
    first task-internal metric on, when no SQL metric follows it, and the executor metrics.
    None when the line is not shaped as expected; the caller then parses it whole."""
    if line.find(_SUCCESS, 0, 200) < 0:
        return None
    internal = line.find(_INTERNAL_METRIC)
    if internal < 0:
        return None
    entry = line.rfind(_ACCUMULABLE, 0, internal)
    end = line.find(_AFTER_TASK_INFO, internal)
    if entry < 0 or end < 0 or line.find(_SQL_METADATA, entry, end) >= 0:
        return None
    metrics = line.find(_TASK_METRICS, end)
    head = line[: entry - 1] if line[entry - 1 : entry] == b"," else line[:entry]
    tail = line[metrics + 1 :] if metrics >= 0 else line[end + 2 :]
    push = tail.find(_PUSH_BASED_SHUFFLE)
    if push >= 0:  # a flat object of push-based shuffle counters, unused
        tail = tail[:push] + tail[tail.find(b"}", push) + 1 :]
    try:
        event = orjson.loads(head + b"]}" + tail)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _task_row(metrics: dict, task_ms: int) -> tuple[int, ...]:
    """A successful task's figures in `_TaskTable` row order. The fields are read straight into
    the row; only when one is not a plain whole number in range (missing, a string, a float, out
    of range) is every field read again through `_long`, which says which."""
    read = metrics.get("Input Metrics") or _NO_METRICS
    written = metrics.get("Output Metrics") or _NO_METRICS
    shuffle_read = metrics.get("Shuffle Read Metrics") or _NO_METRICS
    shuffle_write = metrics.get("Shuffle Write Metrics") or _NO_METRICS
    raw = (
        metrics.get("Executor Run Time"), metrics.get("Memory Bytes Spilled"), metrics.get("Disk Bytes Spilled"),
        read.get("Bytes Read"), written.get("Bytes Written"), shuffle_read.get("Remote Bytes Read"),
        shuffle_read.get("Local Bytes Read"), shuffle_write.get("Shuffle Bytes Written"),
        metrics.get("Executor CPU Time"), metrics.get("JVM GC Time"), read.get("Records Read"),
        written.get("Records Written"), shuffle_read.get("Total Records Read"),
        shuffle_write.get("Shuffle Records Written"), metrics.get("Result Size"), metrics.get("Peak Execution Memory"),
    )
    try:
        plain = type(sum(raw)) is int and min(raw) >= 0 and max(raw) <= LONG_MAX and bool not in map(type, raw)
    except TypeError:  # None or a string among them
        plain = False
    if not plain:
        raw = tuple(_long(value) for value in raw)
    run, memory, disk, input_bytes, output, remote, local, shuffle_written, *rest = raw
    return (max(0, task_ms), run, memory, disk, input_bytes, output, min(LONG_MAX, remote + local), shuffle_written,
            *rest)


_NO_METRICS: dict = {}


def read_log(source: str, parts: Iterable[LogPart], max_log_bytes: int = DEFAULT_LIMIT) -> RunProfile:
    """The `RunProfile` of one run whose log is `parts` (name, stream, size on disk), in order.
    Raises LogFormatError when a part cannot be decoded or a byte limit is passed."""
    parser = EventLogParser(source)
    lines = LogLines(parts, max_log_bytes)
    for line in lines:
        if line is LONG_LINE:
            parser.note_long_line()
        else:
            parser.feed_line(line)
        if parser.stopped:
            break
    parser.decoded_bytes = lines.decoded_bytes
    return parser.finish(truncated=lines.truncated)


# ---------------------------------------------------------------- plan helpers


def _compact_plan(node: dict[str, Any], max_nodes: int) -> tuple[dict[str, Any], int, bool]:
    """Keep only what the model needs from a sparkPlanInfo tree (iteratively: plans can be deep),
    at most `max_nodes` nodes and `MAX_PLAN_DEPTH` levels. Returns the tree, its node count and
    whether it was cut."""
    root: dict[str, Any] = {}
    stack = [(node, root, 1)]
    nodes, cut = 0, False
    while stack:
        source, target, depth = stack.pop()
        nodes += 1
        target["name"] = _text(source.get("nodeName", ""), MAX_DESCRIPTION)
        target["description"] = _text(source.get("simpleString", ""), MAX_DESCRIPTION)
        target["metrics"] = [
            (_text(metric.get("name", ""), MAX_NAME), _long(metric.get("accumulatorId")),
             _text(metric.get("metricType", ""), MAX_NAME))
            for metric in itertools.islice(source.get("metrics") or (), MAX_NODE_METRICS)
            if isinstance(metric, dict)
        ]
        metadata = source.get("metadata")
        if isinstance(metadata, dict):
            target["metadata"] = {key: _text(metadata[key], MAX_DESCRIPTION)
                                  for key in _SCAN_METADATA if isinstance(metadata.get(key), str)}
        target["children"] = []
        for child in source.get("children") or ():
            if not isinstance(child, dict):
                continue
            if depth >= MAX_PLAN_DEPTH or nodes + len(stack) >= max_nodes:
                cut = True
                break
            compact: dict[str, Any] = {}
            target["children"].append(compact)
            stack.append((child, compact, depth + 1))
    return root, nodes, cut


def _rdd_scopes(rdds: Iterable[Any]) -> tuple[str, ...]:
    """The plan operators a stage ran, from its RDDs' scopes, in RDD order."""
    scopes: list[str] = []
    for rdd in sorted(rdds, key=lambda rdd: _long(rdd.get("RDD ID"))):
        scope = rdd.get("Scope")
        if not (isinstance(scope, str) and scope.startswith("{")):
            continue
        try:
            scope_name = orjson.loads(scope).get("name", "")
        except orjson.JSONDecodeError:
            continue
        scope_name = _text(scope_name, MAX_NAME)
        if scope_name and scope_name not in scopes:
            scopes.append(scope_name)
            if len(scopes) >= MAX_RDD_SCOPES:
                break
    return tuple(scopes)


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


def _split_top_level(text: str, opening: str = "([{", closing: str = ")]}") -> list[str]:
    """Split on commas that are not inside brackets or parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in opening:
            depth += 1
        elif char in closing:
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


def _scans(plan: dict[str, Any]) -> Iterable[ScanProfile]:
    """Each scan leaf of a compacted plan with its column types (a file scan's ReadSchema, else
    the `L` a bigint attribute carries in the node's output list)."""
    stack = [plan]
    while stack:
        node = stack.pop()
        stack.extend(node["children"])
        name = node["name"].strip()
        if "Scan" not in name or node["children"]:
            continue
        metadata = node.get("metadata") or {}
        columns = {column.name: column for column in _schema_columns(metadata.get("ReadSchema", ""))}
        for column in _output_columns(node["description"]):
            columns.setdefault(column.name, column)
        yield ScanProfile(
            operator=name,
            table=_scan_table(name),
            path=_index_path(metadata.get("Location", "")),
            columns=tuple(itertools.islice(columns.values(), MAX_SCAN_COLUMNS)),
        )


def _schema_columns(schema: str) -> list[ScanColumn]:
    """`struct<origin_uid:string,amount:decimal(10,2)>` -> origin_uid string, amount decimal(10,2)."""
    schema = schema.strip()
    if not (schema.startswith("struct<") and schema.endswith(">")):
        return []
    columns = []
    for field in _split_top_level(schema[len("struct<"):-1], opening="([{<", closing=")]}>"):
        name, colon, kind = field.strip().partition(":")
        if colon and name:
            columns.append(ScanColumn(name=name.strip("`"), type=kind.strip().lower()))
    return columns


def _output_columns(description: str) -> list[ScanColumn]:
    """The attributes of a scan's first `[...]` list: `n#6L` is a bigint, any other type is not shown."""
    bracket = re.search(r"\[([^\]]*#\d+[^\]]*)\]", description)
    if not bracket:
        return []
    return [ScanColumn(name=name, type="bigint" if long else "unknown")
            for name, long in _ATTRIBUTE.findall(bracket.group(1))]


def _scan_table(operator: str) -> str:
    """`Scan parquet spark_catalog.default.visits` -> `spark_catalog.default.visits`."""
    words = operator.split()
    candidate = words[-1] if len(words) >= 3 else ""
    return candidate if re.fullmatch(r"[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){1,3}", candidate) else ""


def _index_path(location: str) -> str:
    match = _INDEX_PATHS.search(location)
    paths = match.group(1).split(", ") if match else []
    return paths[0] if len(paths) == 1 else ""


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


class _BadNumber(Exception):
    """A number field holding something no Spark version writes; its event is skipped."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


def _long(value: Any) -> int:
    """The one reader of numbers in events: a count, size, id or timestamp is a whole number in
    0..2^63-1 (a Java long; none can be negative). JSON numbers and decimal strings (Spark writes
    accumulator updates and properties as strings) are read; a missing field (None) reads as 0;
    anything else raises _BadNumber."""
    if type(value) is int:
        number = value
    elif value is None:
        return 0
    elif type(value) is str and 0 < len(value) <= 20 and value.isascii() and value.isdigit():
        number = int(value)
    elif type(value) is float and value.is_integer():
        number = int(value)
    else:
        raise _BadNumber(value)
    if not 0 <= number <= LONG_MAX:
        raise _BadNumber(value)
    return number


def _clamp(total: int) -> int:
    """A sum of longs, saturated at the largest long (as the cache's JSON can hold it)."""
    return min(total, LONG_MAX)


def _text(value: Any, limit: int) -> str:
    return (value if isinstance(value, str) else str(value))[:limit]


def _recorded_properties(properties: Any) -> tuple[SparkProperty, ...]:
    """The RECORDED_PROPERTIES of a `{"name": "value"}` map (Spark 3+) or `[["name", "value"]]`
    list (older logs); anything else records nothing."""
    if isinstance(properties, dict):
        pairs = properties.items()
    elif isinstance(properties, list):
        pairs = (item for item in properties if isinstance(item, list) and len(item) == 2)
    else:
        return ()
    found = {name: value for name, value in pairs if name in RECORDED_PROPERTIES and isinstance(value, str)}
    return tuple(SparkProperty(name, _text(found[name], MAX_NAME)) for name in RECORDED_PROPERTIES if name in found)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


_HANDLERS = {
    "SparkListenerLogStart": EventLogParser.on_log_start,
    "SparkListenerApplicationStart": EventLogParser.on_application_start,
    "SparkListenerApplicationEnd": EventLogParser.on_application_end,
    "SparkListenerEnvironmentUpdate": EventLogParser.on_environment_update,
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
