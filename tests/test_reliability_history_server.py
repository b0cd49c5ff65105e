"""A hostile History Server: malformed HTTP, trickled bytes, endless downloads, broken zips and
zip bombs, huge listings. Each costs one warning line; the static findings of the project are
still reported, the exit code is the clean project's, and nothing hangs or tracebacks.
`--profile-required` turns a failing source into exit 2 with one line.

The server is a raw socket on 127.0.0.1, so an answer can be any bytes at any pace. The fuzz
test at the end sends generated garbage; `benchmarks/fuzz.py` runs it with many more examples."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from conftest import (
    CROSS_FILE_FINDING,
    CROSS_FILE_PROJECT,
    findings_by_place,
    run_cli,
    write_project,
)
from hypothesis import given
from hypothesis import strategies as st

from sparklint.profile.api import RunFilter, load_runs
from sparklint.profile.sources import ReadOptions

PLAIN_LOG = next((Path(__file__).resolve().parent / "data" / "eventlogs" / "plain").iterdir())
APP_ID = PLAIN_LOG.name
LOGS_PATH = f"/api/v1/applications/{APP_ID}/logs"
LISTING_PATH = "/api/v1/applications"
TIMEOUT = 0.5  # seconds per request in these tests; a whole source gets 5 times that

Route = Callable[[socket.socket, threading.Event], None]


# ---------------------------------------------------------------- the hostile server


class HostileServer:
    """HTTP on a raw socket: each route writes whatever bytes it likes, at whatever pace."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def reset(self, routes: dict[str, Route]) -> None:
        self.routes = dict(routes)
        self.requests = []

    def close(self) -> None:
        self.stopping.set()
        self._thread.join()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = connection.recv(4096)
                    if not data:
                        return
                    head += data
                target = head.split(b" ", 2)[1].decode("latin-1")
                self.requests.append(target)
                route = self.routes.get(target.partition("?")[0], send(answer(b"not found", b"404 Not Found")))
                route(connection, self.stopping)
            except (OSError, IndexError):
                pass  # the client gave up: that is what these tests want


def answer(body: bytes, status: bytes = b"200 OK", headers: tuple[bytes, ...] = ()) -> bytes:
    lines = [b"HTTP/1.1 " + status, b"Content-Length: %d" % len(body), *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def send(data: bytes) -> Route:
    return lambda connection, stopping: connection.sendall(data)


def trickle(data: bytes, interval: float = 0.05, head: bytes = b"") -> Route:
    """`head` at once, then one byte of `data` per `interval`: each socket read succeeds, the
    answer never ends in time."""

    def route(connection: socket.socket, stopping: threading.Event) -> None:
        connection.sendall(head)
        for byte in data:
            if stopping.is_set():
                return
            connection.sendall(bytes([byte]))
            time.sleep(interval)

    return route


def endless(head: bytes) -> Route:
    def route(connection: socket.socket, stopping: threading.Event) -> None:
        connection.sendall(head)
        block = b"\0" * (1 << 16)
        while not stopping.is_set():
            connection.sendall(block)

    return route


def listing(count: int = 1, app_id: str = APP_ID) -> bytes:
    apps = [{"id": app_id if index == 0 else f"app-{index}", "name": "pipeline",
             "attempts": [{"completed": True, "lastUpdatedEpoch": 10**12 - index}]} for index in range(count)]
    return orjson.dumps(apps)


def zipped(data: bytes, name: str = APP_ID, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    return zipped_many({name: data}, method)


def zipped_many(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def patched(archive: bytes, local_offset: int, central_offset: int, fmt: str, value: int) -> bytes:
    """A one-member zip with a field changed in both its local header and its central directory
    (offsets are from each header's signature)."""
    data = bytearray(archive)
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into(fmt, data, local + local_offset, value)
    struct.pack_into(fmt, data, central + central_offset, value)
    return bytes(data)


def server_of(logs: bytes | Route) -> dict[str, Route]:
    return {LISTING_PATH: send(answer(listing())),
            LOGS_PATH: logs if callable(logs) else send(answer(logs))}


# ---------------------------------------------------------------- running sparklint


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    hostile = HostileServer()
    try:
        yield hostile
    finally:
        hostile.close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("reliability") / "project", CROSS_FILE_PROJECT)


def check(project: Path, url: str, *args: str, **options: float) -> tuple[int, dict | None, str]:
    """`sparklint check . --profile URL` with profile-options `timeout` (TIMEOUT) and `options`."""
    options = {"timeout": TIMEOUT, **options}
    table = ", ".join(f"{name.replace('_', '-')} = {value}" for name, value in options.items())
    (project / "pyproject.toml").write_text(f"[tool.sparklint]\nprofile-options = {{ {table} }}\n", encoding="utf-8")
    result = run_cli("check", ".", "--output-format", "json", "--no-cache", "--profile", url, *args, cwd=project)
    report = result.json() if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


def assert_survived(project: Path, url: str, max_warnings: int = 3, **options: float) -> list[str]:
    """The run ends as for a clean project, with its static finding, and a few one-line warnings."""
    started = time.monotonic()
    exit_code, report, stderr = check(project, url, **options)
    assert time.monotonic() - started < 20 * TIMEOUT + 10
    assert exit_code == 1, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
    assert report is not None and CROSS_FILE_FINDING in findings_by_place(report)
    warnings = report["warnings"]
    assert len(warnings) <= max_warnings, warnings
    assert all("\n" not in warning and len(warning) < 400 for warning in warnings), warnings
    return warnings


def read_warnings(url: str, **options: float) -> list[str]:
    """The warnings of reading `url` alone (no static check: the per-case tests stay fast)."""
    loaded = load_runs([url], RunFilter(), ReadOptions(**{"timeout": TIMEOUT, **options}), None)
    assert loaded.runs == ()
    assert all("\n" not in warning and len(warning) < 400 for warning in loaded.warnings), loaded.warnings
    return list(loaded.warnings)


def only_warning(project: Path, url: str, **options: float) -> str:
    warnings = assert_survived(project, url, **options)
    assert len(warnings) == 1, warnings
    return warnings[0]


# ---------------------------------------------------------------- a clean server first


def test_a_well_behaved_server_gives_its_run_and_no_warning(server: HostileServer, project: Path) -> None:
    server.reset(server_of(zipped(PLAIN_LOG.read_bytes())))
    assert assert_survived(project, server.url) == []
    assert server.requests == ["/api/v1/applications?limit=1000", LOGS_PATH]


# ---------------------------------------------------------------- malformed HTTP answers


MALFORMED_ANSWERS = {
    "bad status line": b"HTTP/1.1 2OO OK\r\n\r\n",
    "HTTP/0.9 (a body without a status line)": listing(),
    "unknown protocol": b"SPDY/9 200 OK\r\n\r\n[]",
    "too long a status line": b"HTTP/1.1 200 " + b"O" * 70_000 + b"\r\n\r\n",
    "too many headers": b"HTTP/1.1 200 OK\r\n" + b"X-Hop: 1\r\n" * 150 + b"\r\n",
    "too long a header": b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    "a body shorter than announced": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n[{",
    "a bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n",
    "closed without an answer": b"",
    "a redirect without a Location": b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
    "a redirect loop": b"HTTP/1.1 302 Found\r\nLocation: /api/v1/applications\r\nContent-Length: 0\r\n\r\n",
}


@pytest.mark.parametrize("raw", MALFORMED_ANSWERS.values(), ids=MALFORMED_ANSWERS.keys())
def test_a_malformed_listing_is_one_warning(server: HostileServer, raw: bytes) -> None:
    server.reset({LISTING_PATH: send(raw)})
    (warning,) = read_warnings(server.url)
    assert warning.startswith(f"run profile {server.url}")


@pytest.mark.parametrize("raw", MALFORMED_ANSWERS.values(), ids=MALFORMED_ANSWERS.keys())
def test_a_malformed_log_download_is_one_warning(server: HostileServer, raw: bytes) -> None:
    server.reset(server_of(send(raw)))
    (warning,) = read_warnings(server.url)
    assert warning.startswith(f"run profile {server.url} app {APP_ID}: ")


def test_check_reports_its_findings_despite_a_malformed_answer(server: HostileServer, project: Path) -> None:
    server.reset({LISTING_PATH: send(MALFORMED_ANSWERS["too many headers"])})
    assert only_warning(project, server.url) == (f"run profile {server.url}/api/v1/applications: "
                                                 "malformed HTTP answer: HTTPException: got more than 100 headers")


def test_profile_required_makes_a_malformed_answer_exit_2_with_one_line(server: HostileServer,
                                                                       project: Path) -> None:
    server.reset({LISTING_PATH: send(MALFORMED_ANSWERS["bad status line"])})
    exit_code, _, stderr = check(project, server.url, "--profile-required")
    assert exit_code == 2
    assert stderr == f"sparklint: error: run profile {server.url}/api/v1/applications: " \
                     "malformed HTTP answer: BadStatusLine: HTTP/1.1 2OO OK\n"


# ---------------------------------------------------------------- deadlines


def test_trickled_headers_are_cut_at_the_request_deadline(server: HostileServer, project: Path) -> None:
    server.reset({LISTING_PATH: trickle(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: 1\r\n" * 1000)})
    started = time.monotonic()
    warning = only_warning(project, server.url)
    assert time.monotonic() - started < 5
    assert warning == f"run profile {server.url}: History Server unreachable (timed out)"


def test_a_trickled_body_is_cut_at_the_request_deadline(server: HostileServer, project: Path) -> None:
    body = zipped(PLAIN_LOG.read_bytes())
    server.reset(server_of(trickle(body, head=b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))))
    started = time.monotonic()
    warning = only_warning(project, server.url)
    assert time.monotonic() - started < 5
    assert warning == f"run profile {server.url} app {APP_ID}: {server.url}{LOGS_PATH}: " \
                      "History Server stopped answering (timed out)"


def test_a_source_stops_at_its_own_deadline(server: HostileServer, project: Path) -> None:
    """Ten downloads that each time out (0.5 s) would take 5 s; the source has 2.5 s in all."""
    routes = {LISTING_PATH: send(answer(listing(10)))}
    for index in range(10):
        app = APP_ID if index == 0 else f"app-{index}"
        routes[f"/api/v1/applications/{app}/logs"] = trickle(b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 100)
    server.reset(routes)
    started = time.monotonic()
    warnings = assert_survived(project, server.url, max_warnings=10)
    assert time.monotonic() - started < 4.5
    assert any("the source took more than 2.5 s in all" in warning or "stopped after 2.5 s" in warning
               for warning in warnings), warnings
    assert len([request for request in server.requests if request.endswith("/logs")]) < 10


# ---------------------------------------------------------------- byte budgets


def test_an_endless_download_stops_at_the_deadline(server: HostileServer, project: Path) -> None:
    server.reset(server_of(endless(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")))
    warning = only_warning(project, server.url)
    assert warning.endswith(f"{LOGS_PATH}: History Server stopped answering (timed out)")


def test_an_endless_download_stops_at_the_byte_budget(server: HostileServer) -> None:
    server.reset(server_of(endless(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")))
    loaded = load_runs([server.url], RunFilter(), ReadOptions(timeout=30, max_download_bytes=4_000_000), None)
    expected = (f"run profile {server.url} app {APP_ID}: {server.url}{LOGS_PATH}: log archive larger than 4000000 "
                "bytes (raise profile option max-download-bytes)")
    assert loaded.runs == () and loaded.warnings == (expected,)


def test_an_announced_huge_download_is_refused_before_reading(server: HostileServer) -> None:
    server.reset(server_of(send(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\nPK")))
    loaded = load_runs([server.url], RunFilter(), ReadOptions(max_download_bytes=4_000_000), None)
    assert "log archive of 99999999999 bytes is larger than the 4000000 byte limit" in loaded.warnings[0]


def test_an_endless_listing_stops_at_its_byte_budget(server: HostileServer) -> None:
    server.reset({LISTING_PATH: endless(b"HTTP/1.1 200 OK\r\n\r\n[")})
    (warning,) = read_warnings(server.url, timeout=30)
    assert warning == f"run profile {server.url}/api/v1/applications: answer larger than 67108864 bytes"


# ---------------------------------------------------------------- broken zips and zip bombs


LOG = PLAIN_LOG.read_bytes()
GOOD_ZIP = zipped(LOG)
BROKEN_ZIPS = {
    "random bytes": b"\x93\x11 not a zip at all" * 50,
    "cut in half": GOOD_ZIP[: len(GOOD_ZIP) // 2],
    "bad CRC": patched(GOOD_ZIP, 14, 16, "<I", 0xDEADBEEF),
    "corrupt deflate": GOOD_ZIP[:30 + len(APP_ID)] + b"\xff" * 64 + GOOD_ZIP[30 + len(APP_ID) + 64:],
    "encrypted": patched(GOOD_ZIP, 6, 8, "<H", 0x1),
    "unknown method": patched(GOOD_ZIP, 8, 10, "<H", 99),
    "bzip2 (not what Spark writes)": zipped(LOG, method=zipfile.ZIP_BZIP2),
    "uncompressed size lies low": patched(GOOD_ZIP, 22, 24, "<I", 1000),
    "compressed size lies high": patched(GOOD_ZIP, 18, 20, "<I", 0x7FFFFFFF),
    "empty archive": zipped(b"", name="appstatus_x"),
    "two event logs": zipped_many({"local-1": LOG, "local-2": LOG}),
}


@pytest.mark.parametrize("archive", BROKEN_ZIPS.values(), ids=BROKEN_ZIPS.keys())
def test_a_broken_zip_is_one_warning(server: HostileServer, archive: bytes) -> None:
    server.reset(server_of(archive))
    (warning,) = read_warnings(server.url)
    assert warning.startswith(f"run profile {server.url} app {APP_ID}: ")


def test_check_reports_its_findings_despite_a_broken_zip(server: HostileServer, project: Path) -> None:
    server.reset(server_of(BROKEN_ZIPS["bad CRC"]))
    assert only_warning(project, server.url) == (f"run profile {server.url} app {APP_ID}: {APP_ID}: a broken log "
                                                 f"archive (BadZipFile: Bad CRC-32 for file '{APP_ID}')")


def test_a_zip_bomb_is_refused_before_it_is_extracted(server: HostileServer, project: Path) -> None:
    bomb = zipped(b"\n" * (100 * 1024**2))  # 100 MiB of newlines in about 100 KB
    server.reset(server_of(bomb))
    started = time.monotonic()
    warning = only_warning(project, server.url)
    assert time.monotonic() - started < 5
    assert warning.endswith("refusing a likely zip bomb")


def test_a_zip_that_claims_gigabytes_is_refused(server: HostileServer) -> None:
    claims_2_gib = patched(GOOD_ZIP, 22, 24, "<I", 2 * 1024**3 - 1)
    server.reset(server_of(claims_2_gib))
    (warning,) = read_warnings(server.url)
    assert warning.endswith("refusing a likely zip bomb")


def test_a_zip_with_too_many_members_is_refused_before_its_directory_is_read(server: HostileServer) -> None:
    end_record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 60_000, 60_000, 3_000_000, 0, 0)
    server.reset(server_of(end_record))
    (warning,) = read_warnings(server.url)
    assert "the log archive lists 60000 files" in warning


# ---------------------------------------------------------------- big listings


def test_a_huge_listing_reads_only_the_newest_runs(server: HostileServer, project: Path) -> None:
    """A server that ignores `limit` and lists 200,000 applications: ten downloads, one warning."""
    server.reset({LISTING_PATH: send(answer(listing(200_000)))})
    warnings = assert_survived(project, server.url, max_warnings=11, timeout=5)
    downloads = [request for request in server.requests if request.endswith("/logs")]
    assert len(downloads) == 10
    assert warnings[0] == (f"run profile {server.url}: read the newest 10 of 1000 or more runs, 990 or more "
                           "skipped (--last N reads more, --app-name or --app-id picks runs)")


def test_the_listing_asks_for_a_bounded_number_of_applications(server: HostileServer, project: Path) -> None:
    server.reset(server_of(GOOD_ZIP))
    check(project, server.url, "--last", "3")
    assert server.requests[0] == "/api/v1/applications?limit=1000"
    check(project, server.url, "--app-name", "pipeline")
    assert server.requests[2] == "/api/v1/applications"  # a name can only be matched on the whole listing


# ---------------------------------------------------------------- fuzzing


def _http_answers() -> st.SearchStrategy[bytes]:
    status_line = st.one_of(
        st.binary(max_size=40),
        st.builds(lambda code, reason: b"HTTP/1.1 %d %s" % (code, reason), st.integers(0, 999),
                  st.binary(max_size=30)),
    )
    header = st.one_of(st.just(b"X-A: b"), st.binary(max_size=60), st.builds(lambda n: b"X: " + b"h" * n,
                                                                             st.integers(0, 70_000)))
    headers = st.one_of(st.lists(header, max_size=5), st.integers(90, 130).map(lambda n: [b"X: y"] * n))
    body = st.one_of(st.binary(max_size=2000), st.just(listing()), st.just(b"[]"))
    return st.builds(lambda status, fields, payload, cut: (b"\r\n".join([status, *fields]) + b"\r\n\r\n"
                                                           + payload)[: cut or None],
                     status_line, headers, body, st.integers(0, 3000))


def _log_archives() -> st.SearchStrategy[bytes]:
    corrupted = st.builds(lambda index, byte: GOOD_ZIP[:index] + bytes([byte]) + GOOD_ZIP[index + 1:],
                          st.integers(0, len(GOOD_ZIP) - 1), st.integers(0, 255))
    truncated = st.integers(0, len(GOOD_ZIP)).map(lambda cut: GOOD_ZIP[:cut])
    return st.one_of(st.binary(max_size=3000), corrupted, truncated,
                     st.builds(lambda data: zipped(data), st.binary(max_size=3000)))


@given(listing_answer=st.one_of(st.none(), _http_answers()), log_answer=st.one_of(_http_answers(),
                                                                                    _log_archives().map(answer)))
def test_fuzz_garbage_from_the_server_costs_warnings_not_the_run(server: HostileServer, project: Path,
                                                                 listing_answer: bytes | None,
                                                                 log_answer: bytes) -> None:
    routes = server_of(send(log_answer))
    if listing_answer is not None:
        routes[LISTING_PATH] = send(listing_answer)
    server.reset(routes)
    assert_survived(project, server.url)
