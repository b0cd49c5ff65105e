"""What the interpreter tells rules: each Spark operation worth a rule's look, with the values
involved and the call stack that led there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from sparklint.findings import Location
from sparklint.graph.values import DataFrameV, Op, Stack, Value, WriterV


@dataclass(frozen=True, slots=True, eq=False)
class WriteEvent:
    """A DataFrame or RDD reaches a sink (`save`, `parquet`, `overwritePartitions`, `saveAsTextFile`...)."""

    writer: WriterV
    method: str
    args: tuple[Value, ...]
    location: Location
    stack: Stack

    @property
    def df(self) -> DataFrameV:
        return self.writer.df


@dataclass(frozen=True, slots=True, eq=False)
class JoinEvent:
    left: DataFrameV
    right: DataFrameV
    on: Value
    how: Value
    location: Location
    stack: Stack


@dataclass(frozen=True, slots=True, eq=False)
class GroupingEvent:
    """Rows are distributed by key: `groupBy`, `Window.partitionBy`, `repartition(cols)`,
    `dropDuplicates(cols)`. `df` is the DataFrame whose columns the keys name."""

    kind: str
    df: DataFrameV
    keys: tuple[Value, ...]
    location: Location
    stack: Stack


@dataclass(frozen=True, slots=True, eq=False)
class ActionEvent:
    """An action that computes without writing: `collect`, `toPandas`, `count`, `show`..."""

    df: DataFrameV
    method: str
    args: tuple[Value, ...]
    location: Location
    stack: Stack


@dataclass(frozen=True, slots=True, eq=False)
class ConditionEvent:
    """The condition of an `if` or `while`, evaluated: `test` is its value (a count compared
    with 0 is a `ColumnV` op over an `action` column). `location` spans the condition."""

    test: Value
    location: Location
    stack: Stack


@dataclass(frozen=True, slots=True, eq=False)
class ReadEvent:
    """A read from storage through `spark.read`: its format and every reader option given, by
    `option`/`options`, as keyword arguments or by `schema(...)`."""

    df: DataFrameV
    format: str | None
    options: tuple[tuple[str, Value], ...]  # lower-case option name -> value
    has_schema: bool
    location: Location
    stack: Stack
    opaque_options: bool = False  # `options(**conf)`, `option(name, v)`: options not known here

    def option(self, name: str) -> Value | None:
        for key, value in reversed(self.options):
            if key == name.lower():
                return value
        return None


@dataclass(frozen=True, slots=True, eq=False)
class CartesianEvent:
    """A join with no condition: `crossJoin(other)`, or `join(other)` without `on`."""

    left: DataFrameV
    right: DataFrameV
    method: str
    location: Location
    stack: Stack


@dataclass(frozen=True, slots=True, eq=False)
class LoopEvent:
    """A DataFrame carried from one element of a collection to the next: a loop that reassigns
    it (`for c in cols: df = df.withColumn(...)`, Scala `cols.foreach { c => d = ... }`),
    `functools.reduce(f, cols, df)` or Scala `cols.foldLeft(df)(f)`. `ops` are the operations
    the elements add, newest first (the body runs once for a collection of unknown or more than
    a few elements, once per item of a small literal one); `size` is the number of elements when
    the code states it. `location` is the loop (`for ... in ...`, the `reduce`/`foldLeft` call)."""

    kind: str  # "for", "reduce", "foldLeft"
    ops: tuple[Op, ...]
    size: int | None
    location: Location
    stack: Stack


@dataclass(frozen=True, slots=True, eq=False)
class Use:
    """An action or a write computing a DataFrame: what `RecomputeEvent` compares. `ops` are the
    operations it computes (up to a `cache`/`persist`/`checkpoint`), newest first: `ops[0]` is
    the DataFrame it is called on. `location`/`stack` say where it is (for a memoised call used
    again, the call). `limited`: an action that stops after a few rows of a read (`show`, `take`,
    `first`, anything after `limit(n)`) with no shuffle on the way."""

    method: str
    rdd: bool  # a job on an RDD (`rdd.collect()`, `saveAsTextFile`), not a DataFrame action
    write: bool  # a write (`method` is its sink: `parquet`, `saveAsTable`...), else an action
    location: Location
    stack: Stack
    limited: bool
    ops: tuple[Op, ...]
    serial: int = 0  # uses made before it on this root: which loop iterations it belongs to

    @property
    def head(self) -> Op:
        return self.ops[0]


@dataclass(frozen=True, slots=True, eq=False)
class RecomputeEvent:
    """A second action or write on the same DataFrame (`df`, whose head is the newest operation
    both compute) along one path of the code, with no cache on the way: `first` is the earlier
    use, `second` this one. `loop` is set when the second use is the same one, run again for each
    element of a collection of unknown or more than a few elements (the loop's location).
    `shuffles` and `reads` are what runs again: the shuffling operations and the storage reads
    of `df`'s lineage (for two RDD jobs, only what comes after the newest shuffle: an RDD's
    shuffle files are reused by every later job on it)."""

    df: DataFrameV
    first: Use
    second: Use
    loop: Location | None
    location: Location
    stack: Stack
    shuffles: tuple[Op, ...] = ()
    reads: tuple[Op, ...] = ()


Event = Union[
    WriteEvent, JoinEvent, GroupingEvent, ActionEvent, ConditionEvent, ReadEvent, CartesianEvent, LoopEvent,
    RecomputeEvent,
]
