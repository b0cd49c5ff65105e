"""The profile model: what one or more Spark runs measured, independent of where it was read.

Every value is a frozen dataclass of plain numbers and strings, so a parsed run can be cached
on disk as JSON (`to_dict` / `from_dict`) and compared between sources (a file log and the
same run served by a History Server give equal `RunProfile`s apart from `source`).

Units: times in milliseconds, sizes in bytes, timestamps in epoch milliseconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Distribution:
    """A per-task figure over a stage: how many tasks, the sum, and its spread (skew)."""

    count: int = 0
    total: int = 0
    max: int = 0
    median: int = 0
    min: int = 0

    @property
    def skew(self) -> float:
        """max / median; 0 when the median is 0 (nothing to compare against)."""
        return self.max / self.median if self.median > 0 else 0.0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class StageProfile:
    stage_id: int
    attempt: int
    name: str  # the call site Spark shows, e.g. "parquet at Writer.scala:8", "collect at job.py:18"
    details: str  # the user stack as Spark recorded it (JVM frames; PySpark has py4j frames)
    num_tasks: int
    submitted_ms: int
    completed_ms: int
    status: str  # "succeeded", "failed", "running"
    failure: str
    job_ids: tuple[int, ...]
    sql_execution_id: int | None
    rdd_scopes: tuple[str, ...]  # plan operators the stage ran, from RDD scopes ("Coalesce", "Sort"...)
    task_time_ms: Distribution  # launch to finish, per successful task
    run_time_ms: Distribution  # executor run time
    cpu_time_ms: int
    gc_time_ms: int
    input_bytes: Distribution
    input_records: int
    output_bytes: Distribution
    output_records: int
    shuffle_read_bytes: Distribution
    shuffle_read_records: int
    shuffle_write_bytes: Distribution
    shuffle_write_records: int
    memory_spill_bytes: Distribution
    disk_spill_bytes: Distribution
    peak_execution_memory_max: int
    failed_tasks: int
    killed_tasks: int
    # what the successful tasks sent back to the driver (task metric "Result Size", summed): the
    # rows of a collect for a result stage, a few KiB of statuses for a shuffle-map stage
    result_bytes: int = 0

    @property
    def wall_ms(self) -> int:
        return max(0, self.completed_ms - self.submitted_ms) if self.completed_ms else 0

    @property
    def spill_bytes(self) -> int:
        return self.memory_spill_bytes.total + self.disk_spill_bytes.total

    def core_utilisation(self, cores: int) -> float:
        """Task time over the slot time the stage held (cores x wall), 0..1."""
        if cores <= 0 or self.wall_ms <= 0:
            return 0.0
        return min(1.0, self.task_time_ms.total / (cores * self.wall_ms))


@dataclass(frozen=True, slots=True)
class PlanMetric:
    name: str  # "number of output rows", "data size", "spill size"...
    accumulator_id: int
    metric_type: str  # "sum", "size", "timing", "nsTiming", "average"
    value: int | None  # the total over tasks and driver updates; None when never reported
    max_per_task: int | None = None


@dataclass(frozen=True, slots=True)
class PlanNode:
    name: str  # "SortMergeJoin", "Coalesce", "Execute InsertIntoHadoopFsRelationCommand"
    description: str  # Spark's simpleString, e.g. "Coalesce 2"
    metrics: tuple[PlanMetric, ...]
    children: tuple["PlanNode", ...]

    def walk(self):
        """This node and every descendant, depth first, parents before children."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def metric(self, name: str) -> PlanMetric | None:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        return None


@dataclass(frozen=True, slots=True)
class JoinSide:
    bytes: int | None  # measured size of the side (shuffle/broadcast data size), None if unknown
    rows: int | None
    operator: str  # the node that measured it ("Exchange", "BroadcastExchange", ...)


@dataclass(frozen=True, slots=True)
class JoinProfile:
    strategy: str  # "SortMergeJoin", "BroadcastHashJoin", "ShuffledHashJoin", ...
    description: str
    left: JoinSide
    right: JoinSide


@dataclass(frozen=True, slots=True)
class WriteProfile:
    command: str  # "InsertIntoHadoopFsRelationCommand", "AppendData", ...
    path: str  # where the files went ("file:/lake/events"), "" when unknown
    table: str  # the table written ("spark_catalog.default.events"), "" for a path write
    format: str  # "Parquet", "parquet", "" when unknown
    mode: str  # "Overwrite", "Append", "" when unknown
    files_written: int | None
    bytes_written: int | None
    rows_written: int | None

    @property
    def target(self) -> str:
        return self.table or self.path


@dataclass(frozen=True, slots=True)
class ScanColumn:
    name: str
    type: str  # Spark's type name ("string", "bigint", "decimal(10,2)"), "unknown" when the plan does not say


@dataclass(frozen=True, slots=True)
class ScanProfile:
    """A leaf of a plan that read data, and the types of the columns it read: a file scan's
    `ReadSchema: struct<...>`, else what its output attributes show (`n#6L` is a bigint)."""

    operator: str  # "Scan parquet spark_catalog.default.visits", "LocalTableScan", "BatchScan ..."
    table: str  # "spark_catalog.default.visits", "" when the scan names no table
    path: str  # "file:/lake/visits", "" when unknown
    columns: tuple[ScanColumn, ...]

    @property
    def target(self) -> str:
        return self.table or self.path or self.operator

    def column_type(self, name: str) -> str | None:
        for column in self.columns:
            if column.name == name:
                return column.type
        return None


@dataclass(frozen=True, slots=True)
class SparkProperty:
    """One Spark configuration value a run recorded (`spark.sql.autoBroadcastJoinThreshold=-1`)."""

    name: str
    value: str


# The properties a profile keeps of a run's configuration: what decides Spark's own broadcast choice...
BROADCAST_PROPERTIES = ("spark.sql.autoBroadcastJoinThreshold", "spark.sql.adaptive.autoBroadcastJoinThreshold")
# ...and the driver's limit on what a collect may bring back (SPK004's evidence).
RECORDED_PROPERTIES = (*BROADCAST_PROPERTIES, "spark.driver.maxResultSize")


@dataclass(frozen=True, slots=True)
class SqlExecutionProfile:
    execution_id: int
    root_execution_id: int | None
    description: str  # "parquet at Writer.scala:8"; PySpark collect-like: "collect at job.py:18"
    details: str  # the user stack as recorded
    started_ms: int
    ended_ms: int
    error: str
    plan: PlanNode | None  # the final plan (after adaptive re-optimisation)
    job_ids: tuple[int, ...]
    stage_ids: tuple[int, ...]
    writes: tuple[WriteProfile, ...]
    joins: tuple[JoinProfile, ...]
    scans: tuple[ScanProfile, ...] = ()
    # RECORDED_PROPERTIES the session changed after the run started (the event's modifiedConfigs)
    modified_properties: tuple[SparkProperty, ...] = ()

    @property
    def duration_ms(self) -> int:
        return max(0, self.ended_ms - self.started_ms) if self.ended_ms else 0

    def operators(self) -> tuple[str, ...]:
        """The plan's node names, root first (wrappers included)."""
        return tuple(node.name for node in self.plan.walk()) if self.plan else ()


@dataclass(frozen=True, slots=True)
class RunProfile:
    """One Spark application run (one attempt)."""

    app_id: str
    attempt_id: str
    app_name: str
    spark_version: str
    source: str  # where it was read: a path or a History Server URL
    started_ms: int
    ended_ms: int  # the application end, or the last event seen when it never ended
    complete: bool  # an application-end event was seen
    executors: int  # distinct executors that ran (the driver counts in local mode)
    max_cores: int  # the most cores alive at once
    stages: tuple[StageProfile, ...]
    sql_executions: tuple[SqlExecutionProfile, ...]
    problems: tuple[str, ...]  # what could not be read (a cut last line, unknown events...)
    events_read: int
    decoded_bytes: int
    # RECORDED_PROPERTIES as the run started with them (SparkListenerEnvironmentUpdate "Spark Properties")
    spark_properties: tuple[SparkProperty, ...] = ()

    @property
    def wall_ms(self) -> int:
        return max(0, self.ended_ms - self.started_ms)

    @property
    def task_time_ms(self) -> int:
        return sum(stage.task_time_ms.total for stage in self.stages)

    def core_utilisation(self) -> float:
        if self.max_cores <= 0 or self.wall_ms <= 0:
            return 0.0
        return min(1.0, self.task_time_ms / (self.max_cores * self.wall_ms))

    def stage(self, stage_id: int) -> StageProfile | None:
        found = [stage for stage in self.stages if stage.stage_id == stage_id]
        return max(found, key=lambda stage: stage.attempt) if found else None

    def spark_property(self, name: str, execution: SqlExecutionProfile | None = None) -> str | None:
        """A recorded property's value for the run, or for one execution of it (a value the
        session set later wins); None when the log does not record it set."""
        for item in (*(execution.modified_properties if execution is not None else ()), *self.spark_properties):
            if item.name == name:
                return item.value
        return None

    def stages_of(self, execution: SqlExecutionProfile) -> tuple[StageProfile, ...]:
        return tuple(stage for stage in self.stages if stage.stage_id in execution.stage_ids)

    def comparable(self) -> dict[str, Any]:
        """Everything but where it was read from: equal for the same run from any source."""
        data = to_dict(self)
        data.pop("source")
        return data


# ---------------------------------------------------------------- (de)serialisation


def to_dict(value: Any) -> Any:
    """A JSON-ready structure of a model value (dataclasses become dicts, tuples lists)."""
    if dataclasses.is_dataclass(value):
        return {field.name: to_dict(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [to_dict(item) for item in value]
    return value


def run_from_dict(data: dict[str, Any]) -> RunProfile:
    return _build(RunProfile, data)


def _build(cls: type, data: dict[str, Any]) -> Any:
    hints = _field_types(cls)
    values = {}
    defaults = {field.name for field in dataclasses.fields(cls)
                if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING}
    for name, kind in hints.items():
        if name not in data and name in defaults:
            continue  # a field added since the data was written: its default
        raw = data[name]
        values[name] = _convert(kind, raw)
    return cls(**values)


def _convert(kind: Any, raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(kind, tuple):  # ("tuple", element type)
        _, element = kind
        return tuple(_convert(element, item) for item in raw)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _build(kind, raw)
    return raw


def _field_types(cls: type) -> dict[str, Any]:
    """Field name -> a dataclass type, ("tuple", element) or `object` for plain values."""
    types = {}
    for field in dataclasses.fields(cls):
        annotation = str(field.type).replace('"', "").replace("'", "")
        types[field.name] = _parse_annotation(annotation)
    return types


def _parse_annotation(annotation: str) -> Any:
    annotation = annotation.replace(" | None", "").strip()
    if annotation.startswith("tuple[") and annotation.endswith(", ...]"):
        return ("tuple", _parse_annotation(annotation[len("tuple[") : -len(", ...]")]))
    return _MODEL_TYPES.get(annotation, object)


_MODEL_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Distribution,
        StageProfile,
        PlanMetric,
        PlanNode,
        JoinSide,
        JoinProfile,
        WriteProfile,
        ScanColumn,
        ScanProfile,
        SparkProperty,
        SqlExecutionProfile,
        RunProfile,
    )
}
