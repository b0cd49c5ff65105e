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


Event = Union[WriteEvent, JoinEvent, GroupingEvent]
