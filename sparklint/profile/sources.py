"""Where runs come from: event-log files, rolling log directories, a History Server's log
directory holding many runs, and a live Spark History Server (REST API).

Every route ends in the same place: a stream of (part name, binary stream) pairs for one run,
decoded by `codecs` and parsed by `eventlog`, so a run read from a file and the same run
downloaded from a History Server (`/api/v1/applications/{id}/logs`, a zip of the event log)
give the same `RunProfile`.

Layouts (Spark's `EventLogFileWriters`):
- single file: `<app id>[_<attempt>][.<codec>][.inprogress]`;
- rolling: `eventlog_v2_<app id>/events_<N>_<app id>[.<codec>]` plus `appstatus_<app id>[.inprogress]`;
  the parts are one stream cut in pieces, read in numeric order (from the last `.compact` part
  when Spark compacted older ones).

Only the base URL given by the user is contacted, at fixed REST paths; ids from its listing are
quoted into the path and redirects to other hosts are refused. Nothing found inside a log is
ever used as an address.
"""

from __future__ import annotations

import fnmatch
import io
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from sparklint.profile.codecs import (
    DEFAULT_LIMIT,
    EXPANSION_FLOOR,
    INPROGRESS_SUFFIX,
    MAX_EXPANSION,
    LogFormatError,
    detect_codec,
    open_decoded,
)
from sparklint.profile.eventlog import MAX_LINE_BYTES, EventLogParser
from sparklint.profile.model import RunProfile

ROLLING_PREFIX = "eventlog_v2_"
_PART = re.compile(r"^events_(\d+)_")
_COMPACT_SUFFIX = ".compact"
_IGNORED_FILES = re.compile(r"^(\..*|.*\.crc|appstatus_.*|.*\.tmp)$")
DEFAULT_TIMEOUT = 10.0
MAX_DOWNLOAD_BYTES = 8 * 1024**3
MAX_LISTING_BYTES = 64 * 1024**2


class SourceError(Exception):
    """A source that cannot be read; the message is one line."""


@dataclass(frozen=True, slots=True)
class RunRef:
    """One run to read: a file, a rolling directory, or an application on a History Server."""

    kind: str  # "file", "rolling", "server"
    location: str  # a path, or the History Server base URL
    name: str  # the log's name (file or directory), or the application id on a server
    app_id_hint: str  # the app id the name shows ("" when it does not)
    mtime_ns: int  # for ordering and cache keys; servers: lastUpdated epoch ms
    size: int  # total bytes (all parts); servers: 0
    app_name: str = ""  # known without reading (servers list it)
    attempt_id: str = ""

    @property
    def display(self) -> str:
        if self.kind == "server":
            suffix = f"/{self.attempt_id}" if self.attempt_id else ""
            return f"{self.location} app {self.name}{suffix}"
        return self.location


@dataclass(frozen=True, slots=True)
class ReadOptions:
    timeout: float = DEFAULT_TIMEOUT
    max_log_bytes: int = DEFAULT_LIMIT


# ---------------------------------------------------------------- discovery


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def discover(source: str, options: ReadOptions) -> list[RunRef]:
    """Every run a source names, newest first."""
    if is_url(source):
        return HistoryServer(source, options.timeout).runs()
    path = Path(source)
    if not path.exists():
        raise SourceError(f"{source}: no such file or directory")
    if path.is_file():
        return [_file_ref(path)]
    if path.name.startswith(ROLLING_PREFIX):
        return [_rolling_ref(path)]
    refs = []
    try:
        entries = sorted(path.iterdir())
    except OSError as error:
        raise SourceError(f"{source}: cannot list ({error.strerror})") from None
    for entry in entries:
        if entry.is_dir() and entry.name.startswith(ROLLING_PREFIX):
            try:
                refs.append(_rolling_ref(entry))
            except (SourceError, OSError):
                continue  # a run that has not written its first part yet
        elif entry.is_file() and not _IGNORED_FILES.match(entry.name):
            refs.append(_file_ref(entry))
    if not refs:
        raise SourceError(f"{source}: no Spark event logs in this directory")
    return sorted(refs, key=lambda ref: ref.mtime_ns, reverse=True)


def _file_ref(path: Path) -> RunRef:
    stat = path.stat()
    return RunRef("file", str(path), path.name, _app_id_from_name(path.name), stat.st_mtime_ns, stat.st_size)


def _rolling_ref(path: Path) -> RunRef:
    parts = _rolling_parts(path)
    stats = [part.stat() for part in parts]
    app_id = path.name[len(ROLLING_PREFIX) :]
    return RunRef(
        "rolling",
        str(path),
        path.name,
        app_id,
        max((stat.st_mtime_ns for stat in stats), default=path.stat().st_mtime_ns),
        sum(stat.st_size for stat in stats),
    )


def _rolling_parts(directory: Path) -> list[Path]:
    parts = [entry for entry in directory.iterdir() if entry.is_file() and _PART.match(entry.name)]
    if not parts:
        raise SourceError(f"{directory}: a rolling event log directory without events_<N>_ parts")
    return _order_parts(parts, key=lambda part: part.name)


def _order_parts(parts: list, key) -> list:
    """Parts in numeric order, starting at the last compacted part if any."""
    ordered = sorted(parts, key=lambda part: int(_PART.match(key(part)).group(1)))
    compacted = [index for index, part in enumerate(ordered) if key(part).endswith(_COMPACT_SUFFIX)]
    return ordered[compacted[-1] :] if compacted else ordered


def _app_id_from_name(name: str) -> str:
    base = name.removesuffix(INPROGRESS_SUFFIX)
    return base.split(".", 1)[0]


def select_runs(refs: list[RunRef], app_id: str | None) -> list[RunRef]:
    """Runs whose log name (Spark names logs after the app id) or server id is `app_id`.
    The app-name and --last filters need the parsed run and are applied by the caller."""
    if not app_id:
        return refs
    return [ref for ref in refs if ref.app_id_hint == app_id or ref.name == app_id or ref.app_id_hint.startswith(app_id + "_")]


def app_name_matches(pattern: str, name: str) -> bool:
    return name == pattern or fnmatch.fnmatchcase(name, pattern)


# ---------------------------------------------------------------- reading


def read_run(ref: RunRef, options: ReadOptions) -> RunProfile:
    """Parse one run. Raises SourceError / LogFormatError with a one-line message."""
    parser = EventLogParser(ref.display)
    if ref.kind == "file":
        path = Path(ref.location)
        truncated = _parse_parts(parser, [(ref.name, _open_file(path), _size(path))], options)
    elif ref.kind == "rolling":
        parts = _rolling_parts(Path(ref.location))
        truncated = _parse_parts(parser, ((part.name, _open_file(part), _size(part)) for part in parts), options)
    else:
        server = HistoryServer(ref.location, options.timeout)
        with server.download_logs(ref) as archive:
            truncated = _parse_parts(parser, _zip_parts(archive, options), options)
    return parser.finish(truncated=truncated)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _open_file(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as error:
        raise SourceError(f"{path}: cannot open ({error.strerror})") from None


def _parse_parts(parser: EventLogParser, parts, options: ReadOptions) -> bool:
    """Decode each part and feed the concatenation of their lines to the parser.

    Parts of a rolling log are decoded separately (each is its own compressed stream) and joined
    as one text stream, so a line cut across two parts is rejoined."""
    remaining = options.max_log_bytes
    carry = b""
    truncated = False
    for name, raw, compressed_size in parts:
        with raw:
            head = raw.read(16)
            try:
                codec = detect_codec(name, head)
            except LogFormatError as error:
                raise LogFormatError(f"{name}: {error}") from None
            limit, message = remaining, None
            expansion_limit = max(EXPANSION_FLOOR, MAX_EXPANSION * compressed_size)
            if codec != "plain" and compressed_size and expansion_limit < remaining:
                limit = expansion_limit
                message = (f"decompresses to more than {MAX_EXPANSION} times its {compressed_size} bytes: "
                           "refusing a likely decompression bomb")
            reader, state = open_decoded(_Prefixed(head, raw), codec, limit, message)
            try:
                carry = _feed_lines(parser, reader, carry)
            except LogFormatError as error:
                raise LogFormatError(f"{name}: {error}") from None
            except OSError as error:
                raise LogFormatError(f"{name}: cannot read ({error})") from None
            remaining -= state.decoded_bytes
            truncated = truncated or state.truncated
    if carry:
        parser.decoded_bytes += len(carry)
        parser.feed_line(carry, last=True)
    return truncated


def _feed_lines(parser: EventLogParser, reader: io.BufferedReader, carry: bytes) -> bytes:
    """Feed complete lines; return the unterminated tail for the next part."""
    if carry:
        first = reader.readline()
        line = carry + first
        if not line.endswith(b"\n"):
            return line
        parser.decoded_bytes += len(line)
        parser.feed_line(line)
    while True:
        line = reader.readline(MAX_LINE_BYTES + 1)
        if not line:
            return b""
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE_BYTES:
                parser.decoded_bytes += len(line)
                parser.skip_long_line(reader)
                continue
            return line
        parser.decoded_bytes += len(line)
        parser.feed_line(line)


class _Prefixed(io.RawIOBase):
    """A stream that yields `head` then the rest of `raw` (after sniffing the first bytes)."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:  # the decoders call read() directly
        if not self._head:
            return self._raw.read(size)
        if size < 0:
            data, self._head = self._head + self._raw.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        if len(data) < size:
            data += self._raw.read(size - len(data))
        return data


def _zip_parts(archive: zipfile.ZipFile, options: ReadOptions) -> Iterator[tuple[str, BinaryIO, int]]:
    """The event-log parts inside a History Server `logs` zip, in reading order."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    total = sum(info.file_size for info in members)
    if total > options.max_log_bytes:
        raise LogFormatError(f"the log archive holds {total} bytes: more than the {options.max_log_bytes} byte limit")
    rolling = [info for info in members if _PART.match(info.filename.rsplit("/", 1)[-1])]
    if rolling:
        ordered = _order_parts(rolling, key=lambda info: info.filename.rsplit("/", 1)[-1])
    else:
        ordered = [info for info in members if not _IGNORED_FILES.match(info.filename.rsplit("/", 1)[-1])]
        if len(ordered) != 1:
            raise LogFormatError(f"the log archive holds {len(ordered)} event logs; expected one run")
    for info in ordered:
        yield info.filename.rsplit("/", 1)[-1], archive.open(info), info.file_size


# ---------------------------------------------------------------- History Server


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, base: urllib.parse.SplitResult) -> None:
        self._base = base

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        target = urllib.parse.urlsplit(newurl)
        if (target.scheme, target.netloc) != (self._base.scheme, self._base.netloc):
            raise urllib.error.HTTPError(newurl, code, f"redirect to another host refused ({target.netloc})", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class HistoryServer:
    """A minimal client of the Spark History Server REST API (`/api/v1`)."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(f"{base_url}: not an http(s) History Server URL")
        path = parts.path
        for suffix in ("/api/v1", "/api/v1/applications"):
            path = path.removesuffix(suffix)
        self.base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self._split = parts
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_SameHostRedirects(parts))

    def _get(self, path: str):
        url = f"{self.base}/api/v1/{path}"
        request = urllib.request.Request(url, headers={"Accept": "*/*"})
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            raise SourceError(f"{url}: History Server answered HTTP {error.code} {_first_line(str(error.reason))}") from None
        except urllib.error.URLError as error:
            reason = error.reason
            text = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else str(reason)
            raise SourceError(f"{self.base}: History Server unreachable ({text})") from None
        except (TimeoutError, OSError) as error:
            raise SourceError(f"{self.base}: History Server unreachable ({error or 'timed out'})") from None

    def _read_limited(self, response, limit: int, url: str) -> bytes:
        chunks: list[bytes] = []
        self._copy_limited(response, chunks.append, limit, url, "answer")
        return b"".join(chunks)

    @staticmethod
    def _copy_limited(response, write, limit: int, url: str, what: str) -> None:
        """Copy a response in 1 MiB chunks, refusing more than `limit` bytes."""
        size = 0
        try:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise SourceError(f"{url}: {what} larger than {limit} bytes")
                write(chunk)
        except (TimeoutError, OSError) as error:
            raise SourceError(f"{url}: History Server stopped answering ({error or 'timed out'})") from None

    def applications(self) -> list[dict]:
        url = f"{self.base}/api/v1/applications"
        with self._get("applications") as response:
            body = self._read_limited(response, MAX_LISTING_BYTES, url)
        try:
            listing = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SourceError(f"{url}: not a History Server (the answer is not JSON)") from None
        if not isinstance(listing, list):
            raise SourceError(f"{url}: not a History Server (unexpected answer)")
        return [app for app in listing if isinstance(app, dict) and isinstance(app.get("id"), str)]

    def runs(self) -> list[RunRef]:
        refs = []
        for app in self.applications():
            for attempt in app.get("attempts") or [{}]:
                if not isinstance(attempt, dict):
                    continue
                refs.append(
                    RunRef(
                        kind="server",
                        location=self.base,
                        name=app["id"],
                        app_id_hint=app["id"],
                        mtime_ns=_int(attempt.get("lastUpdatedEpoch")) * 1_000_000,
                        size=0,
                        app_name=str(app.get("name", "")),
                        attempt_id=str(attempt.get("attemptId") or ""),
                    )
                )
        return sorted(refs, key=lambda ref: ref.mtime_ns, reverse=True)

    def download_logs(self, ref: RunRef) -> "_Archive":
        path = "applications/" + urllib.parse.quote(ref.name, safe="")
        if ref.attempt_id:
            path += "/" + urllib.parse.quote(ref.attempt_id, safe="")
        url = f"{self.base}/api/v1/{path}/logs"
        spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024**2)
        with self._get(f"{path}/logs") as response:
            try:
                self._copy_limited(response, spool.write, MAX_DOWNLOAD_BYTES, url, "log archive")
            except SourceError:
                spool.close()
                raise
        spool.seek(0)
        try:
            archive = zipfile.ZipFile(spool)
        except zipfile.BadZipFile:
            spool.close()
            raise SourceError(f"{url}: the History Server did not send a zip of the event log") from None
        return _Archive(archive, spool)


class _Archive:
    def __init__(self, archive: zipfile.ZipFile, spool) -> None:
        self.archive = archive
        self.spool = spool

    def __enter__(self) -> zipfile.ZipFile:
        return self.archive

    def __exit__(self, *exc) -> None:
        self.archive.close()
        self.spool.close()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


__all__ = [
    "HistoryServer",
    "ReadOptions",
    "RunRef",
    "SourceError",
    "app_name_matches",
    "discover",
    "is_url",
    "read_run",
    "select_runs",
]
