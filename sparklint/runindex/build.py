"""`sparklint index build`: find the logs, leave out what the index already holds, summarise the
rest (a local process pool, or Spark) and write their rows.

A log is already indexed when a complete run was read from the same path with the same size and
modification time, or from a log with the same content hash (a copy elsewhere). A run that was
in progress is read again until it is complete, and its old rows are replaced. A log that cannot
be read is one warning; the build goes on.
"""

from __future__ import annotations

import datetime
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklint.profile.codecs import DEFAULT_LIMIT, LogFormatError
from sparklint.profile.sources import ReadOptions, SourceError, discover
from sparklint.runindex.store import IndexedLog, drop_runs, ensure_index, indexed_logs, write_rows
from sparklint.runindex.summarise import LogEntry, Summary, summarise_local
from sparklint.runindex.tables import TABLES

FLUSH_RUNS = 500  # runs held in memory before their rows are written


@dataclass(slots=True)
class BuildReport:
    logs_found: int = 0
    indexed: int = 0
    replaced: int = 0  # runs read again (they were in progress) whose old rows were taken out
    unchanged: int = 0
    duplicates: int = 0
    bad: int = 0
    log_bytes: int = 0  # bytes of the logs read (on disk, compressed as they are)
    decoded_bytes: int = 0  # bytes of JSON they held
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = self.log_bytes / 1e6 / self.seconds if self.seconds else 0.0
        return (f"indexed {self.indexed} runs ({self.replaced} replaced), {self.unchanged} unchanged, "
                f"{self.duplicates} duplicates, {self.bad} skipped; {self.log_bytes / 1e6:.1f} MB of logs "
                f"({self.decoded_bytes / 1e6:.1f} MB of JSON) in {self.seconds:.1f} s ({rate:.1f} MB/s)")


def new_build_id() -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def local_entries(sources: Iterable[str], report: BuildReport, options: ReadOptions) -> list[LogEntry]:
    """Every log the sources name (files, rolling directories, log directories, History Servers)."""
    entries: list[LogEntry] = []
    for source in sources:
        try:
            entries.extend(LogEntry.from_ref(ref) for ref in discover(source, options))
        except (SourceError, LogFormatError) as error:
            report.warnings.append(f"{error}; skipped")
        except OSError as error:
            report.warnings.append(f"{source}: cannot list ({error.strerror}); skipped")
    return list({entry.path: entry for entry in entries}.values())


def to_read(entries: list[LogEntry], indexed: list[IndexedLog], report: BuildReport) -> list[LogEntry]:
    complete_at = {(log.path, log.size, log.mtime_ns) for log in indexed if log.complete}
    wanted = []
    for entry in entries:
        if (entry.path, entry.size, entry.mtime_ns) in complete_at:
            report.unchanged += 1
        else:
            wanted.append(entry)
    return wanted


Summariser = Callable[[list[LogEntry], str, frozenset[str]], Iterator[Summary]]


def build_index(sources: Iterable[str], output: Path, summarise: Summariser | None = None,
                entries: list[LogEntry] | None = None, jobs: int | None = None,
                max_log_bytes: int = DEFAULT_LIMIT, timeout: float = 10.0) -> BuildReport:
    """Index the logs of `sources` into `output`. `summarise` runs the summariser over the logs
    (default: a local process pool of `jobs` workers); `entries` replaces discovery (Spark lists
    Hadoop file systems itself)."""
    started = time.perf_counter()
    report = BuildReport()
    ensure_index(output)
    if entries is None:
        entries = local_entries(sources, report, ReadOptions(timeout=timeout))
    report.logs_found = len(entries)
    indexed = indexed_logs(output)
    pending = to_read(entries, indexed, report)
    known_hashes = frozenset(log.log_hash for log in indexed if log.complete and log.log_hash)
    build_id = new_build_id()
    if summarise is None:
        summarise = lambda logs, build, hashes: local_pool(logs, build, hashes, jobs, max_log_bytes)  # noqa: E731
    _write(output, summarise(pending, build_id, known_hashes), indexed, build_id, report)
    report.seconds = time.perf_counter() - started
    return report


def _write(output: Path, summaries: Iterator[Summary], indexed: list[IndexedLog], build_id: str,
           report: BuildReport) -> None:
    earlier = {log.app_key: log for log in indexed}
    written: set[tuple[str, str]] = set()
    batch: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    batch_runs, sequence = 0, 0
    replaced: dict[tuple[str, str], tuple[str, str]] = {}
    for summary in summaries:
        if summary.status == "duplicate":
            report.duplicates += 1
            continue
        if summary.status == "bad":
            report.bad += 1
            report.warnings.append(summary.warning)
            continue
        if summary.app_key in written:
            report.bad += 1
            report.warnings.append(f"{summary.entry.path}: a second log of run {summary.app_key[0]} in this build; skipped")
            continue
        written.add(summary.app_key)
        if summary.app_key in earlier:
            replaced[summary.app_key] = earlier[summary.app_key].partition
            report.replaced += 1
        report.indexed += 1
        report.log_bytes += summary.entry.size
        report.decoded_bytes += summary.rows["runs"][0]["decoded_bytes"]
        for table, rows in summary.rows.items():
            batch[table].extend(rows)
        batch_runs += 1
        if batch_runs >= FLUSH_RUNS:
            sequence = _flush(output, batch, replaced, build_id, sequence)
            batch, batch_runs = {table: [] for table in TABLES}, 0
    if batch_runs:
        _flush(output, batch, replaced, build_id, sequence)


def _flush(output: Path, batch: dict[str, list[dict[str, Any]]], replaced: dict[tuple[str, str], tuple[str, str]],
           build_id: str, sequence: int) -> int:
    if replaced:
        drop_runs(output, set(replaced), replaced.values())
        replaced.clear()
    write_rows(output, batch, f"part-{build_id}-{sequence:05d}")
    return sequence + 1


def local_pool(entries: list[LogEntry], build_id: str, known_hashes: frozenset[str], jobs: int | None = None,
               max_log_bytes: int = DEFAULT_LIMIT) -> Iterator[Summary]:
    """Summarise in a pool of worker processes, a bounded number of logs in flight."""
    workers = max(1, min(jobs or os.cpu_count() or 1, len(entries) or 1))
    if workers == 1 or len(entries) <= 1:
        for entry in entries:
            yield summarise_local(entry, build_id, known_hashes, max_log_bytes)
        return
    remaining = iter(entries)
    with ProcessPoolExecutor(max_workers=workers, initializer=_remember_hashes, initargs=(known_hashes,)) as pool:
        running: set[Future] = set()
        for entry in remaining:
            running.add(pool.submit(_summarise_in_worker, entry, build_id, max_log_bytes))
            if len(running) >= workers * 4:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        for future in running:
            yield future.result()


_WORKER_HASHES: frozenset[str] = frozenset()


def _remember_hashes(known_hashes: frozenset[str]) -> None:
    global _WORKER_HASHES
    _WORKER_HASHES = known_hashes


def _summarise_in_worker(entry: LogEntry, build_id: str, max_log_bytes: int) -> Summary:
    return summarise_local(entry, build_id, _WORKER_HASHES, max_log_bytes)
