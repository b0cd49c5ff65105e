"""An index directory on disk: the marker, Parquet files per table and partition, and what it holds.

    DIR/sparklint-index.json                                  {"format": "sparklint-run-index", "version": 1}
    DIR/<table>/app_name=<quoted>/date=<YYYY-MM-DD>/part-<build id>-<n>.parquet

Each build adds files and never edits another build's file, except to take out the rows of a run
it read again (an in-progress log that grew, or finished): those few partitions are rewritten.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparklint.runindex import require
from sparklint.runindex.tables import INDEX_FORMAT, MARKER, TABLES

FORMAT_NAME = "sparklint-run-index"


class IndexFormatError(Exception):
    """An index directory that cannot be used; the message is one line."""


def is_index(path: str | Path) -> bool:
    try:
        return (Path(path) / MARKER).is_file()
    except (OSError, ValueError):
        return False


def ensure_index(directory: Path) -> None:
    """Create the index at `directory`, or check that the one there is of a format this reads."""
    marker = directory / MARKER
    if marker.is_file():
        try:
            data = json.loads(marker.read_text())
        except (OSError, ValueError):
            raise IndexFormatError(f"{directory}: unreadable {MARKER}") from None
        if data.get("format") != FORMAT_NAME or data.get("version") != INDEX_FORMAT:
            raise IndexFormatError(f"{directory}: an index of another format ({data.get('format')} {data.get('version')})")
        return
    if directory.exists() and any(directory.iterdir()):
        raise IndexFormatError(f"{directory}: not empty and not a sparklint run index")
    directory.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"format": FORMAT_NAME, "version": INDEX_FORMAT, "tables": list(TABLES)}) + "\n")


def schema(table: str):
    pa = require("pyarrow")
    kinds = {"string": pa.string(), "int64": pa.int64(), "double": pa.float64(), "bool": pa.bool_(),
             "binary": pa.binary(), "list<int64>": pa.list_(pa.int64())}
    return pa.schema([(name, kinds[kind]) for name, kind in TABLES[table]])


def partition_dir(directory: Path, table: str, app_name: str, date: str) -> Path:
    return directory / table / f"app_name={urllib.parse.quote(app_name, safe='') or '_'}" / f"date={date}"


def write_rows(directory: Path, rows_by_table: dict[str, list[dict[str, Any]]], file_stem: str) -> int:
    """Write one Parquet file per table and partition; the number of files written."""
    pa, pq = require("pyarrow"), require("pyarrow.parquet")
    written = 0
    for table, rows in rows_by_table.items():
        by_partition: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_partition[(row["app_name"], row["date"])].append(row)
        for (app_name, date), items in sorted(by_partition.items()):
            target = partition_dir(directory, table, app_name, date)
            target.mkdir(parents=True, exist_ok=True)
            data = pa.Table.from_pylist(items, schema=schema(table))
            temporary = target / f".{file_stem}.parquet.tmp"
            pq.write_table(data, temporary, compression="zstd")
            os.replace(temporary, target / f"{file_stem}.parquet")
            written += 1
    return written


def table_files(directory: Path, table: str) -> list[Path]:
    return sorted((directory / table).glob("app_name=*/date=*/*.parquet"))


@dataclass(frozen=True, slots=True)
class IndexedLog:
    path: str
    size: int
    mtime_ns: int
    log_hash: str
    complete: bool
    app_key: tuple[str, str]
    partition: tuple[str, str]


def indexed_logs(directory: Path) -> list[IndexedLog]:
    """What the index holds, one entry per run, read from the small columns of `runs` only."""
    files = table_files(directory, "runs")
    if not files:
        return []
    pq = require("pyarrow.parquet")
    columns = ["log_path", "log_size", "log_mtime_ns", "log_hash", "complete", "app_id", "attempt_id",
               "app_name", "date"]
    found = []
    for path in files:
        for row in pq.read_table(path, columns=columns).to_pylist():
            found.append(IndexedLog(row["log_path"], row["log_size"], row["log_mtime_ns"], row["log_hash"],
                                    bool(row["complete"]), (row["app_id"], row["attempt_id"]),
                                    (row["app_name"], row["date"])))
    return found


def drop_runs(directory: Path, keys: set[tuple[str, str]], partitions: Iterable[tuple[str, str]]) -> None:
    """Take the rows of the runs `keys` out of the files of `partitions` (every table)."""
    if not keys:
        return
    pa, pq = require("pyarrow"), require("pyarrow.parquet")
    app_ids = sorted({app_id for app_id, _ in keys})
    for table in TABLES:
        for app_name, date in set(partitions):
            for path in sorted(partition_dir(directory, table, app_name, date).glob("*.parquet")):
                data = pq.read_table(path, schema=schema(table))
                pairs = zip(data.column("app_id").to_pylist(), data.column("attempt_id").to_pylist())
                keep = [(app_id, attempt) not in keys for app_id, attempt in pairs]
                if all(keep) or not any(app_id in app_ids for app_id in data.column("app_id").to_pylist()):
                    continue
                if not any(keep):
                    path.unlink()
                    continue
                temporary = path.with_name(f".{path.name}.tmp")
                pq.write_table(data.filter(pa.array(keep)), temporary, compression="zstd")
                os.replace(temporary, path)
