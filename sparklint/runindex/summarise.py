"""One log in, the rows of every index table out: the summariser both engines run per log.

It reads with the same reader as `check --profile` (`sparklint.profile.eventlog.read_log`), so
the index holds the same `RunProfile`. A log that cannot be read gives a one-line warning and no
rows; nothing here raises for bad input. Only plain Python values go in and out, so a Spark
task can run it as well as a local worker process.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sparklint.profile.codecs import DEFAULT_LIMIT, LogFormatError
from sparklint.profile.eventlog import read_log
from sparklint.profile.model import RunProfile
from sparklint.profile.sources import INPROGRESS_SUFFIX, ReadOptions, RunRef, SourceError, _rolling_parts, read_run
from sparklint.runindex.tables import rows_of

HASH_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log to index: a file or a rolling directory, local or (Spark engine) any Hadoop URI."""

    kind: str  # "file", "rolling" or "server"
    path: str  # what identifies the log: its path or URI; for a server "<url> app <id>[/<attempt>]"
    size: int  # total bytes of its parts; 0 for a server
    mtime_ns: int  # newest modification time; for a server its lastUpdated (epoch ms)
    parts: tuple[str, ...] = ()  # the part files of a rolling log, in order (URIs under the Spark engine)
    server: tuple[str, str, str] = ()  # a History Server run: (base URL, app id, attempt id)

    @classmethod
    def from_ref(cls, ref: RunRef) -> LogEntry:
        if ref.kind == "server":
            return cls("server", ref.display, 0, ref.mtime_ns, server=(ref.location, ref.name, ref.attempt_id))
        return cls(ref.kind, ref.location, ref.size, ref.mtime_ns)

    @property
    def in_progress(self) -> bool:
        last = (self.parts[-1] if self.parts else self.path).rstrip("/")
        return last.endswith(INPROGRESS_SUFFIX)


@dataclass(slots=True)
class Summary:
    """What summarising one log gave: rows per table, or why there are none."""

    entry: LogEntry
    status: str  # "indexed", "duplicate", "bad"
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warning: str = ""
    log_hash: str = ""
    app_key: tuple[str, str] = ("", "")
    complete: bool = False


def local_parts(entry: LogEntry) -> list[Path]:
    if entry.kind == "rolling":
        return _rolling_parts(Path(entry.path))
    return [Path(entry.path)]


def content_hash(streams: Iterable[BinaryIO]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for stream in streams:
        with stream:
            while chunk := stream.read(HASH_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def summarise_local(entry: LogEntry, build_id: str, known_hashes: frozenset[str] = frozenset(),
                    max_log_bytes: int = DEFAULT_LIMIT) -> Summary:
    """Summarise a log on this machine's file system (the local engine, and Spark on local files),
    or a run a History Server serves."""
    if entry.kind == "server":
        return summarise_server(entry, build_id, max_log_bytes)
    try:
        parts = local_parts(entry)
        log_hash = content_hash(open(part, "rb") for part in parts)
    except (OSError, SourceError) as error:
        return Summary(entry, "bad", warning=f"{entry.path}: cannot read ({_reason(error)}); skipped")
    if log_hash in known_hashes:
        return Summary(entry, "duplicate", log_hash=log_hash)
    try:
        streams = [(part.name, open(part, "rb"), part.stat().st_size) for part in parts]
    except OSError as error:
        return Summary(entry, "bad", warning=f"{entry.path}: cannot read ({_reason(error)}); skipped")
    return summarise_streams(entry, streams, log_hash, build_id, max_log_bytes)


def summarise_server(entry: LogEntry, build_id: str, max_log_bytes: int = DEFAULT_LIMIT) -> Summary:
    base_url, app_id, attempt_id = entry.server
    ref = RunRef("server", base_url, app_id, app_id, entry.mtime_ns, 0, attempt_id=attempt_id)
    try:
        run = read_run(ref, ReadOptions(max_log_bytes=max_log_bytes))
    except (LogFormatError, SourceError) as error:
        return Summary(entry, "bad", warning=f"{entry.path}: {_reason(error)}; skipped")
    except Exception as error:  # one bad run costs one warning, never the build
        return Summary(entry, "bad", warning=f"{entry.path}: cannot read ({type(error).__name__}: {_reason(error)}); skipped")
    return _summary_of(entry, run, "", build_id)


def summarise_bytes(entry: LogEntry, contents: list[tuple[str, bytes]], build_id: str,
                    known_hashes: frozenset[str] = frozenset(), max_log_bytes: int = DEFAULT_LIMIT) -> Summary:
    """Summarise a log whose parts were read whole (the Spark engine on Hadoop URIs)."""
    log_hash = content_hash(io.BytesIO(data) for _, data in contents)
    if log_hash in known_hashes:
        return Summary(entry, "duplicate", log_hash=log_hash)
    streams = [(os.path.basename(name.rstrip("/")), io.BytesIO(data), len(data)) for name, data in contents]
    return summarise_streams(entry, streams, log_hash, build_id, max_log_bytes)


def summarise_streams(entry: LogEntry, streams: list[tuple[str, BinaryIO, int]], log_hash: str, build_id: str,
                      max_log_bytes: int = DEFAULT_LIMIT) -> Summary:
    try:
        run = read_log(entry.path, streams, max_log_bytes)
    except (LogFormatError, SourceError) as error:
        return Summary(entry, "bad", warning=f"{error}; skipped" if entry.path in str(error)
                       else f"{entry.path}: {error}; skipped")
    except MemoryError:
        return Summary(entry, "bad", warning=f"{entry.path}: out of memory while reading; skipped")
    except Exception as error:  # one bad log costs one warning, never the build
        return Summary(entry, "bad", warning=f"{entry.path}: cannot read ({type(error).__name__}: {_reason(error)}); skipped")
    finally:
        for _, stream, _ in streams:
            stream.close()
    return _summary_of(entry, run, log_hash, build_id)


def _summary_of(entry: LogEntry, run: RunProfile, log_hash: str, build_id: str) -> Summary:
    if not run.events_read or not run.app_id:
        return Summary(entry, "bad", warning=f"{entry.path}: no Spark application in this log; skipped")
    log = {"path": entry.path, "kind": entry.kind, "size": entry.size, "mtime_ns": entry.mtime_ns,
           "hash": log_hash, "build_id": build_id}
    return Summary(entry, "indexed", rows=rows_of(run, log), log_hash=log_hash,
                   app_key=(run.app_id, run.attempt_id), complete=run.complete)


def summary_to_plain(summary: Summary) -> dict[str, Any]:
    """A Summary as plain values (what a Spark task returns to the driver)."""
    return {**asdict(summary), "entry": asdict(summary.entry)}


def summary_from_plain(data: dict[str, Any]) -> Summary:
    entry = data["entry"]
    entry = LogEntry(**{**entry, "parts": tuple(entry["parts"]), "server": tuple(entry["server"])})
    values = {**data, "entry": entry, "app_key": tuple(data["app_key"])}
    return Summary(**values)


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    text = " ".join(str(text).split())
    return text if len(text) <= 160 else text[:157] + "..."
