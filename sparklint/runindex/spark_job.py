"""`sparklint index build --engine spark`: the same summariser as a PySpark job, one task per log.

Logs are read where they are: local paths by the task itself (local mode, or a file system every
executor mounts), any Hadoop URI (`s3a://`, `hdfs://`, `gs://`, `file://`...) through Spark's
`binaryFiles`, listed on the driver with Hadoop's FileSystem API. Each task returns the rows of
its log; the driver writes them with the same writer as the local engine, so both engines give
the same tables. The index directory is on the driver's file system.

On a cluster, with sparklint installed (or shipped with --py-files) on the executors:

    spark-submit --master yarn -m sparklint.runindex.spark_job s3a://logs/spark-events -o /data/spark-index
    spark-submit --master yarn $(python -c 'import sparklint.runindex.spark_job as m; print(m.__file__)') \\
        s3a://logs/spark-events -o /data/spark-index
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sparklint.profile.codecs import COMPACT_SUFFIX, DEFAULT_LIMIT, INPROGRESS_SUFFIX
from sparklint.profile.sources import ROLLING_PREFIX, ReadOptions, _order_parts
from sparklint.runindex import IndexUnavailable
from sparklint.runindex.build import BuildReport, build_index, local_entries
from sparklint.runindex.summarise import (
    LogEntry,
    Summary,
    summarise_bytes,
    summarise_local,
    summary_from_plain,
    summary_to_plain,
)

SPARK_HINT = "the spark engine needs PySpark: pip install 'sparklint[spark]'"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PART = re.compile(r"^events_(\d+)_")
_IGNORED = re.compile(r"^(\..*|.*\.crc|appstatus_.*|.*\.tmp|_SUCCESS)$")


def is_hadoop_uri(source: str) -> bool:
    return bool(_URI.match(source)) and not source.startswith(("http://", "https://"))


def spark_session(master: str | None):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise IndexUnavailable(SPARK_HINT) from None
    builder = SparkSession.builder.appName("sparklint-index")
    if master:
        builder = builder.master(master)
    return builder.getOrCreate()


def build_with_spark(sources: list[str], output: Path, master: str | None = None, spark: Any = None,
                     max_log_bytes: int = DEFAULT_LIMIT) -> BuildReport:
    session = spark or spark_session(master)
    listing = BuildReport()
    entries = local_entries([source for source in sources if not is_hadoop_uri(source)], listing, ReadOptions())
    for source in sources:
        if is_hadoop_uri(source):
            entries += hadoop_entries(session, source, listing)

    def summarise(logs: list[LogEntry], build_id: str, known: frozenset[str]) -> Iterator[Summary]:
        return summarise_on_spark(session, logs, build_id, known, max_log_bytes)

    report = build_index(sources, output, summarise=summarise, entries=entries)
    report.warnings[:0] = listing.warnings
    return report


def summarise_on_spark(spark: Any, entries: list[LogEntry], build_id: str, known_hashes: frozenset[str],
                       max_log_bytes: int = DEFAULT_LIMIT) -> Iterator[Summary]:
    if not entries:
        return iter(())
    context = spark.sparkContext
    hashes = context.broadcast(known_hashes)
    local = [asdict(entry) for entry in entries if not is_hadoop_uri(entry.path)]
    remote = [entry for entry in entries if is_hadoop_uri(entry.path)]
    rdds = []
    if local:
        rdds.append(context.parallelize(local, len(local)).map(
            lambda data: summary_to_plain(summarise_local(_entry(data), build_id, hashes.value, max_log_bytes))))
    if remote:
        rdds.append(_remote_summaries(context, remote, build_id, hashes, max_log_bytes))
    summaries = rdds[0] if len(rdds) == 1 else context.union(rdds)
    return (summary_from_plain(item) for item in summaries.toLocalIterator())


def _remote_summaries(context: Any, entries: list[LogEntry], build_id: str, hashes: Any, max_log_bytes: int):
    """Logs on a Hadoop file system: their parts read whole by `binaryFiles`, grouped per log."""
    owner = {part: entry.path for entry in entries for part in (entry.parts or (entry.path,))}
    by_path = {entry.path: asdict(entry) for entry in entries}
    files = context.binaryFiles(",".join(owner), minPartitions=len(owner))

    def summarise(item: tuple[str, Any]) -> dict:
        path, contents = item
        entry = _entry(by_path[path])
        order = {name: index for index, name in enumerate(entry.parts or (entry.path,))}
        parts = sorted(((_normal(name), bytes(data)) for name, data in contents), key=lambda part: order.get(part[0], 0))
        return summary_to_plain(summarise_bytes(entry, parts, build_id, hashes.value, max_log_bytes))

    keyed = files.map(lambda item: (owner.get(_normal(item[0]), item[0]), (item[0], item[1])))
    return keyed.groupByKey(len(entries)).map(summarise)


def _normal(uri: str) -> str:
    """binaryFiles names local files `file:/x`; the listing says `file:///x`."""
    return re.sub(r"^file:/+", "file:///", uri)


def _entry(data: dict) -> LogEntry:
    return LogEntry(**{**data, "parts": tuple(data["parts"]), "server": tuple(data["server"])})


def hadoop_entries(spark: Any, source: str, report: BuildReport) -> list[LogEntry]:
    """The logs under a Hadoop URI: a file, a rolling directory, or a directory of both."""
    jvm = spark.sparkContext._jvm
    try:
        path = jvm.org.apache.hadoop.fs.Path(source)
        fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        status = fs.getFileStatus(path)
    except Exception as error:  # a Py4J error: one warning, the build goes on
        report.warnings.append(f"{source}: cannot list ({_first_line(error)}); skipped")
        return []
    if not status.isDirectory():
        return [_file_entry(status)]
    if status.getPath().getName().startswith(ROLLING_PREFIX):
        rolling = _rolling_entry(fs, status)
        return [rolling] if rolling else []
    entries = []
    for child in fs.listStatus(status.getPath()):
        name = child.getPath().getName()
        if child.isDirectory() and name.startswith(ROLLING_PREFIX):
            rolling = _rolling_entry(fs, child)
            entries += [rolling] if rolling else []
        elif not child.isDirectory() and not _IGNORED.match(name):
            entries.append(_file_entry(child))
    if not entries:
        report.warnings.append(f"{source}: no Spark event logs in this directory; skipped")
    return entries


def _uri(status: Any) -> str:
    return _normal(status.getPath().toString())


def _file_entry(status: Any) -> LogEntry:
    return LogEntry("file", _uri(status), int(status.getLen()), int(status.getModificationTime()) * 1_000_000)


def _rolling_entry(fs: Any, directory: Any) -> LogEntry | None:
    parts = [child for child in fs.listStatus(directory.getPath())
             if not child.isDirectory() and _PART.match(child.getPath().getName())]
    parts = [part for part in parts if not part.getPath().getName().endswith(COMPACT_SUFFIX + INPROGRESS_SUFFIX)]
    if not parts:
        return None
    ordered = _order_parts(parts, key=lambda part: part.getPath().getName())
    return LogEntry("rolling", _uri(directory), sum(int(part.getLen()) for part in ordered),
                    max(int(part.getModificationTime()) for part in ordered) * 1_000_000,
                    parts=tuple(_uri(part) for part in ordered))


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a sparklint run index with Spark (spark-submit this).")
    parser.add_argument("sources", nargs="+", metavar="SOURCE")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--max-log-bytes", type=int, default=DEFAULT_LIMIT)
    args = parser.parse_args(argv)
    report = build_with_spark(args.sources, args.output, max_log_bytes=args.max_log_bytes)
    for warning in report.warnings:
        print(f"sparklint: warning: {warning}", file=sys.stderr)
    print(f"sparklint: {args.output}: {report.line()}", file=sys.stderr)
    return 0 if report.logs_found else 1


if __name__ == "__main__":
    sys.exit(main())
