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

import base64
import fnmatch
import heapq
import http.client
import io
import lzma
import re
import socket
import ssl
import struct
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from sparklint.profile.codecs import COMPACT_SUFFIX, DEFAULT_LIMIT, INPROGRESS_SUFFIX, LogFormatError
from sparklint.profile.eventlog import read_log
from sparklint.profile.model import RunProfile

ROLLING_PREFIX = "eventlog_v2_"
_PART = re.compile(r"^events_(\d+)_")
_IGNORED_FILES = re.compile(r"^(\..*|.*\.crc|appstatus_.*|.*\.tmp)$")
DEFAULT_TIMEOUT = 10.0  # seconds one History Server request may take in all
SOURCE_TIMEOUTS = 5  # a whole History Server source may take this many request timeouts
MAX_DOWNLOAD_BYTES = 2 * 1024**3
MAX_LISTING_BYTES = 64 * 1024**2
MAX_REDIRECTS = 5
SPOOL_IN_MEMORY_BYTES = 64 * 1024**2
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_HTTP_CHUNK = 1 << 20
# A zip member may expand this many times (Spark zips logs that are mostly compressed already;
# plain JSON deflates about 10x), beyond a floor for small members.
ZIP_MAX_EXPANSION = 200
ZIP_EXPANSION_FLOOR = 64 * 1024**2
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024**2
# What a broken zip raises: bad CRC and bad headers (BadZipFile), corrupt deflate (zlib.error),
# unknown methods (NotImplementedError), encryption (RuntimeError), sizes that lie (EOFError).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, ValueError,
               OverflowError, struct.error, lzma.LZMAError, OSError)


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
    max_download_bytes: int = MAX_DOWNLOAD_BYTES
    listing_limit: int | None = None  # ask a History Server for at most this many applications
    deadline: float | None = None  # time.monotonic() by which a History Server source must be read


# ---------------------------------------------------------------- discovery


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def discover(source: str, options: ReadOptions) -> list[RunRef]:
    """Every run a source names, newest first."""
    if is_url(source):
        return HistoryServer(source, options).runs(options.listing_limit)
    path = Path(source)
    if not path.exists():
        raise SourceError(f"{source}: no such file or directory")
    if path.is_file():
        return [_file_ref(path)]
    if path.name.startswith(ROLLING_PREFIX):
        return [_rolling_ref(path)]
    try:
        refs = _directory_refs(path, depth=0)
    except OSError as error:
        raise SourceError(f"{source}: cannot list ({error.strerror})") from None
    if not refs:
        raise SourceError(f"{source}: no Spark event logs in this directory")
    return sorted(refs, key=lambda ref: ref.mtime_ns, reverse=True)


MAX_DIRECTORY_DEPTH = 8  # log directories by date or team nest a few levels, never this deep


def _directory_refs(path: Path, depth: int) -> list[RunRef]:
    """The runs in a log directory and its sub-folders (`logs/2026-11-01/app-...`); hidden folders
    and sparklint's cache are not looked into."""
    refs = []
    for entry in sorted(path.iterdir()):
        if entry.is_dir() and entry.name.startswith(ROLLING_PREFIX):
            try:
                refs.append(_rolling_ref(entry))
            except (SourceError, OSError):
                continue  # a run that has not written its first part yet
        elif entry.is_dir() and not entry.is_symlink() and not entry.name.startswith((".", "_")) \
                and depth < MAX_DIRECTORY_DEPTH:
            try:
                refs.extend(_directory_refs(entry, depth + 1))
            except OSError:
                continue  # an unreadable sub-folder costs its runs, not the others
        elif entry.is_file() and not _IGNORED_FILES.match(entry.name):
            refs.append(_file_ref(entry))
    return refs


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
    """Parts in numeric order, starting at the last compacted part if any. A compaction still
    being written is ignored (its originals are all still there), and a compacted part sorts
    after an original of the same number that was not deleted yet, so that is not read twice."""
    parts = [part for part in parts if not key(part).endswith(COMPACT_SUFFIX + INPROGRESS_SUFFIX)]
    ordered = sorted(parts, key=lambda part: (int(_PART.match(key(part)).group(1)), key(part).endswith(COMPACT_SUFFIX)))
    compacted = [index for index, part in enumerate(ordered) if key(part).endswith(COMPACT_SUFFIX)]
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
    if ref.kind == "file":
        path = Path(ref.location)
        return read_log(ref.display, [(ref.name, _open_file(path), _size(path))], options.max_log_bytes)
    if ref.kind == "rolling":
        parts = _rolling_parts(Path(ref.location))
        return read_log(ref.display, ((part.name, _open_file(part), _size(part)) for part in parts),
                        options.max_log_bytes)
    server = HistoryServer(ref.location, options)
    with server.download_logs(ref) as archive:
        return read_log(ref.display, _zip_parts(archive, options), options.max_log_bytes)


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


def _zip_parts(archive: zipfile.ZipFile, options: ReadOptions) -> Iterator[tuple[str, BinaryIO, int]]:
    """The event-log parts inside a History Server `logs` zip, in reading order.

    Every member's sizes are checked before anything is extracted, and the bytes each member
    actually produces are counted while reading (a header's sizes may lie)."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    for info in members:
        _check_member(info, archive.start_dir)
    total = sum(info.file_size for info in members)
    if total > options.max_log_bytes:
        raise LogFormatError(f"the log archive holds {total} bytes: more than the {options.max_log_bytes} byte limit")
    rolling = [info for info in members if _PART.match(_base_name(info))]
    if rolling:
        ordered = _order_parts(rolling, key=_base_name)
    else:
        ordered = [info for info in members if not _IGNORED_FILES.match(_base_name(info))]
        if len(ordered) != 1:
            raise LogFormatError(f"the log archive holds {len(ordered)} event logs; expected one run")
    budget = _ByteBudget(options.max_log_bytes)
    deadline = source_deadline(options)
    for info in ordered:
        yield _base_name(info), _ZipMember(archive, info, budget, deadline), info.file_size


def _base_name(info: zipfile.ZipInfo) -> str:
    return info.filename.rsplit("/", 1)[-1]


def _check_member(info: zipfile.ZipInfo, directory_offset: int) -> None:
    """Refuse a member before extracting it: encrypted, a method Spark does not write, sizes that
    do not fit in the archive, or an expansion no event log has."""
    name = _one_line(_base_name(info), 80)
    if info.flag_bits & 0x1:
        raise LogFormatError(f"{name}: encrypted in the log archive")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise LogFormatError(f"{name}: zip compression method {info.compress_type} (Spark writes deflate)")
    if info.header_offset + info.compress_size > directory_offset:
        raise LogFormatError(f"{name}: the log archive says it holds {info.compress_size} bytes, more than it has")
    if info.file_size > max(ZIP_EXPANSION_FLOOR, ZIP_MAX_EXPANSION * info.compress_size):
        raise LogFormatError(f"{name}: {info.compress_size} bytes in the log archive claim to expand to "
                             f"{info.file_size}: refusing a likely zip bomb")


@dataclass(slots=True)
class _ByteBudget:
    left: int


class _ZipMember(io.RawIOBase):
    """One zip member, read with the archive's budget and the source's deadline; any failure of
    the archive (bad CRC, corrupt deflate, a size that lies) is a LogFormatError."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _ByteBudget,
                 deadline: _Deadline | None) -> None:
        super().__init__()
        self._archive = archive
        self._info = info
        self._budget = budget
        self._deadline = deadline
        self._member: BinaryIO | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            if self._deadline is not None:
                self._deadline.remaining()
            if self._member is None:
                self._member = self._archive.open(self._info)
            data = self._member.read(min(len(buffer), _HTTP_CHUNK))
        except _DeadlinePassed as error:
            raise LogFormatError(str(error)) from None
        except _ZIP_ERRORS as error:
            raise LogFormatError(f"a broken log archive ({_one_line(f'{type(error).__name__}: {error}', 120)})") from None
        self._budget.left -= len(data)
        if self._budget.left < 0:
            raise LogFormatError("the log archive expands past the max-log-bytes limit")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._member is not None:
            self._member.close()
        super().close()


# ---------------------------------------------------------------- History Server
#
# Every request goes through `HistoryServer._fetch`: a wall-clock deadline for the request (the
# `timeout` option) and one for the whole source, both enforced on every socket read (so a
# server trickling a byte a second cannot hold the run), a byte budget for the body, and every
# network or protocol failure turned into a one-line SourceError.


class _DeadlinePassed(TimeoutError):
    """A request or a whole source ran out of wall-clock time; the message is one line."""


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: float  # on the time.monotonic() clock
    message: str

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise _DeadlinePassed(self.message)
        return left

    def earliest(self, other: _Deadline | None) -> _Deadline:
        return other if other is not None and other.at < self.at else self


def source_deadline(options: ReadOptions) -> _Deadline | None:
    if options.deadline is None:
        return None
    seconds = SOURCE_TIMEOUTS * options.timeout
    return _Deadline(options.deadline, f"the source took more than {seconds:g} s in all (raise profile option timeout)")


class _DeadlineReader(io.RawIOBase):
    """A socket's reads, each allowed only the time left before the deadline."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._raw = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        self._sock.settimeout(self._deadline.remaining())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _DeadlineSocket:
    """The socket as `http.client` sees it (it only sends, makes a reader and closes)."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._deadline.remaining())
        self._sock.sendall(data)

    def close(self) -> None:
        self._sock.close()


class _DeadlineHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, deadline: _Deadline, **kwargs) -> None:
        super().__init__(host, timeout=deadline.remaining(), **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        self.timeout = self._deadline.remaining()
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self._deadline)  # type: ignore[assignment]


class _DeadlineHTTPSConnection(_DeadlineHTTPConnection, http.client.HTTPSConnection):
    pass


def _proxy_for(parts: urllib.parse.SplitResult) -> urllib.parse.SplitResult | None:
    """The proxy the environment names for this URL (`https_proxy`, `no_proxy`, ...), as urllib would use."""
    host = parts.hostname or ""
    if not host or urllib.request.proxy_bypass(host):
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy:
        return None
    proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return proxy_parts if proxy_parts.hostname else None


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HistoryServer:
    """A minimal client of the Spark History Server REST API (`/api/v1`)."""

    def __init__(self, base_url: str, options: ReadOptions | None = None) -> None:
        parts = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(f"{base_url}: not an http(s) History Server URL")
        path = parts.path
        for suffix in ("/api/v1", "/api/v1/applications"):
            path = path.removesuffix(suffix)
        self.base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self._split = parts
        self.options = options or ReadOptions()
        self._proxy = _proxy_for(parts)

    # -- the one HTTP path

    def _fetch(self, path: str, limit: int, write: Callable[[bytes], object], what: str) -> None:
        """GET `/api/v1/{path}` (same-host redirects followed) and pass its body to `write`,
        within the request's and the source's deadline and at most `limit` bytes."""
        named = f"{self.base}/api/v1/{path.partition('?')[0]}"  # how messages name it
        url = f"{self.base}/api/v1/{path}"
        deadline = _Deadline(time.monotonic() + self.options.timeout, "timed out").earliest(
            source_deadline(self.options))
        for _ in range(MAX_REDIRECTS + 1):
            connection = None
            answered = False
            try:
                connection = self._connection(url, deadline)
                response = self._send(connection, url)
                answered = True
                if response.status in _REDIRECT_CODES:
                    url = self._redirect_target(named, url, response)
                    continue
                if not 200 <= response.status < 300:
                    reason = _one_line(response.reason or "")
                    raise SourceError(f"{named}: History Server answered HTTP {response.status} {reason}".rstrip())
                _copy_limited(response, write, limit, named, what)
                return
            except SourceError:
                raise
            except Exception as error:  # noqa: BLE001 - sorted into one line by _request_failure
                raise self._request_failure(error, named, answered) from None
            finally:
                if connection is not None:
                    connection.close()
        raise SourceError(f"{named}: more than {MAX_REDIRECTS} redirects")

    def _connection(self, url: str, deadline: _Deadline) -> http.client.HTTPConnection:
        parts = urllib.parse.urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        https = parts.scheme == "https"
        tls = {"context": ssl.create_default_context()} if https else {}
        if self._proxy is None:
            return (_DeadlineHTTPSConnection if https else _DeadlineHTTPConnection)(host, deadline, **tls)
        proxy_host = self._proxy.netloc.rpartition("@")[2]
        if not https:
            return _DeadlineHTTPConnection(proxy_host, deadline)
        connection = _DeadlineHTTPSConnection(proxy_host, deadline, **tls)
        connection.set_tunnel(host, headers=self._proxy_headers())
        return connection

    def _proxy_headers(self) -> dict[str, str]:
        if self._proxy is None or not self._proxy.username:
            return {}
        user = urllib.parse.unquote(self._proxy.username)
        password = urllib.parse.unquote(self._proxy.password or "")
        return {"Proxy-Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    def _send(self, connection: http.client.HTTPConnection, url: str) -> http.client.HTTPResponse:
        parts = urllib.parse.urlsplit(url)
        through_proxy = self._proxy is not None and parts.scheme == "http"
        target = url if through_proxy else urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": parts.netloc.rpartition("@")[2], "Accept": "*/*", "Accept-Encoding": "identity",
                   "User-Agent": "sparklint", "Connection": "close"}
        if through_proxy:
            headers.update(self._proxy_headers())
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        return connection.getresponse()

    def _redirect_target(self, named: str, url: str, response: http.client.HTTPResponse) -> str:
        location = response.getheader("Location")
        if not location:
            raise SourceError(f"{named}: History Server answered HTTP {response.status} without a Location")
        target = urllib.parse.urljoin(url, location.strip())
        parts = urllib.parse.urlsplit(target)
        if (parts.scheme, parts.netloc) != (self._split.scheme, self._split.netloc):
            raise SourceError(f"{named}: History Server answered HTTP {response.status} "
                              f"redirect to another host refused ({_one_line(parts.netloc, 80)})")
        return target

    def _request_failure(self, error: Exception, named: str, answered: bool) -> SourceError:
        """One line for a request that failed: before an answer the server is unreachable,
        after it the answer was cut or malformed."""
        if isinstance(error, _DeadlinePassed):
            text = str(error)
        elif isinstance(error, TimeoutError):
            text = "timed out"
        elif isinstance(error, http.client.HTTPException):
            detail = _one_line(str(error), 80)
            text = f"malformed HTTP answer: {type(error).__name__}{': ' + detail if detail else ''}"
            return SourceError(f"{named}: {text}")
        elif isinstance(error, OSError):
            text = _one_line(error.strerror or str(error) or type(error).__name__)
        elif isinstance(error, (ValueError, UnicodeError)):
            return SourceError(f"{named}: malformed HTTP answer ({_one_line(str(error), 80)})")
        else:
            return SourceError(f"{named}: request failed ({type(error).__name__}: {_one_line(str(error), 80)})")
        if answered:
            return SourceError(f"{named}: History Server stopped answering ({text})")
        return SourceError(f"{self.base}: History Server unreachable ({text})")

    # -- the REST API

    def applications(self, limit: int | None = None) -> list[dict]:
        """The listing, at most `limit` applications (Spark lists the latest ended first)."""
        url = f"{self.base}/api/v1/applications"
        chunks: list[bytes] = []
        query = f"?limit={limit}" if limit else ""
        self._fetch("applications" + query, MAX_LISTING_BYTES, chunks.append, "answer")
        try:
            listing = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            raise SourceError(f"{url}: not a History Server (the answer is not JSON)") from None
        if not isinstance(listing, list):
            raise SourceError(f"{url}: not a History Server (unexpected answer)")
        apps = [app for app in listing if isinstance(app, dict) and isinstance(app.get("id"), str)]
        if limit and len(apps) > limit:  # a server that ignored `limit`
            apps = heapq.nlargest(limit, apps, key=_last_updated)
        return apps

    def runs(self, limit: int | None = None) -> list[RunRef]:
        refs = []
        for app in self.applications(limit):
            attempts = app.get("attempts")
            for attempt in attempts if isinstance(attempts, list) and attempts else [{}]:
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

    def download_logs(self, ref: RunRef) -> _Archive:
        path = "applications/" + urllib.parse.quote(ref.name, safe="")
        if ref.attempt_id:
            path += "/" + urllib.parse.quote(ref.attempt_id, safe="")
        url = f"{self.base}/api/v1/{path}/logs"
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
        try:
            self._fetch(f"{path}/logs", self.options.max_download_bytes, spool.write, "log archive")
            archive = _open_zip(spool, url)
        except BaseException:
            spool.close()
            raise
        return _Archive(archive, spool)


def _copy_limited(response: http.client.HTTPResponse, write: Callable[[bytes], object], limit: int,
                  url: str, what: str) -> None:
    """Copy a response in 1 MiB chunks, refusing more than `limit` bytes (announced or sent)."""
    hint = " (raise profile option max-download-bytes)" if what == "log archive" else ""
    if response.length is not None and response.length > limit:
        raise SourceError(f"{url}: {what} of {response.length} bytes is larger than the {limit} byte limit{hint}")
    size = 0
    while chunk := response.read(_HTTP_CHUNK):
        size += len(chunk)
        if size > limit:
            raise SourceError(f"{url}: {what} larger than {limit} bytes{hint}")
        write(chunk)


def _open_zip(spool, url: str) -> zipfile.ZipFile:
    """The downloaded zip, once its central directory is known to be of a sane size."""
    not_a_zip = SourceError(f"{url}: the History Server did not send a zip of the event log")
    try:
        spool.seek(0)
        end = zipfile._EndRecData(spool)  # the end record only: counts before anything is parsed
        if end is None:
            raise not_a_zip
        entries, directory_bytes = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
        if entries > MAX_ZIP_MEMBERS or directory_bytes > MAX_ZIP_DIRECTORY_BYTES:
            raise SourceError(f"{url}: the log archive lists {entries} files in {directory_bytes} bytes: "
                              f"more than an event log has (at most {MAX_ZIP_MEMBERS})")
        spool.seek(0)
        return zipfile.ZipFile(spool)
    except SourceError:
        raise
    except (*_ZIP_ERRORS, OSError):
        raise not_a_zip from None


class _Archive:
    def __init__(self, archive: zipfile.ZipFile, spool) -> None:
        self.archive = archive
        self.spool = spool

    def __enter__(self) -> zipfile.ZipFile:
        return self.archive

    def __exit__(self, *exc) -> None:
        self.archive.close()
        self.spool.close()


def _last_updated(app: dict) -> int:
    attempts = app.get("attempts")
    if not isinstance(attempts, list):
        return 0
    return max((_int(attempt.get("lastUpdatedEpoch")) for attempt in attempts if isinstance(attempt, dict)), default=0)


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
