"""What the interpreter tells rules: each Spark operation worth a rule's look, with the values
involved and the call stack that led there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from sparklint.findings import Location
from sparklint.graph.values import DataFrameV, Stack, Value, WriterV


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


Event = Union[WriteEvent, JoinEvent, GroupingEvent, ActionEvent, ConditionEvent, ReadEvent, CartesianEvent]
