"""A History Server that is unreachable, slow, answers errors, or sends something else: every
case is one warning line, never a traceback; `--profile-required` turns it into exit 2.

The servers here are real HTTP servers on 127.0.0.1 that misbehave on purpose (the happy path
against a real Spark History Server is in test_profile_history_server.py)."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from sparklint.findings import CheckResult
from sparklint.profile.api import ProfileError, RunFilter, apply_profiles, load_runs
from sparklint.profile.sources import ReadOptions
from sparklint.settings import Settings

LOGS = Path(__file__).resolve().parent / "data" / "eventlogs"
ZSTD_LOG = next((LOGS / "zstd").iterdir())
APP_ID = ZSTD_LOG.name.split(".")[0]


def listing(app_id: str = APP_ID) -> bytes:
    return orjson.dumps([{"id": app_id, "name": "pipeline-zstd",
                          "attempts": [{"completed": True, "lastUpdatedEpoch": 1}]}])


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Behaviour:
    """What the server answers, per path: (status, body, delay seconds), and extra headers."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.requests: list[str] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            behaviour.requests.append(self.path)
            route = self.path.split("?", 1)[0]  # the listing asks for a bounded number: ?limit=N
            status, body, delay = behaviour.routes.get(route, (404, b"not found", 0.0))
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in behaviour.headers.get(route, {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", behaviour
    finally:
        httpd.shutdown()
        httpd.server_close()


def load(url: str, timeout: float = 5.0) -> tuple[list, list[str]]:
    loaded = load_runs([url], RunFilter(), ReadOptions(timeout=timeout), None)
    return list(loaded.runs), list(loaded.warnings)


def test_server_zip_route_reads_the_log(server: tuple[str, Behaviour]) -> None:
    url, behaviour = server
    behaviour.routes["/api/v1/applications"] = (200, listing(), 0.0)
    behaviour.routes[f"/api/v1/applications/{APP_ID}/logs"] = (200, zipped({ZSTD_LOG.name: ZSTD_LOG.read_bytes()}), 0.0)
    runs, warnings = load(url)
    assert warnings == [] and [run.app_name for run in runs] == ["pipeline-zstd"]


def test_server_answering_errors(server: tuple[str, Behaviour]) -> None:
    url, behaviour = server
    behaviour.routes["/api/v1/applications"] = (500, b"boom", 0.0)
    assert load(url) == ([], [f"run profile {url}/api/v1/applications: History Server answered HTTP 500 Internal Server Error"])
    behaviour.routes["/api/v1/applications"] = (200, b"<html>login</html>", 0.0)
    assert load(url) == ([], [f"run profile {url}/api/v1/applications: not a History Server (the answer is not JSON)"])
    behaviour.routes["/api/v1/applications"] = (200, listing(), 0.0)
    runs, warnings = load(url)  # /logs is not routed: 404
    assert runs == [] and warnings == [
        f"run profile {url} app {APP_ID}: {url}/api/v1/applications/{APP_ID}/logs: History Server answered HTTP 404 Not Found"
    ]
    behaviour.routes[f"/api/v1/applications/{APP_ID}/logs"] = (200, b"PK\x03\x04 not really a zip", 0.0)
    assert load(url)[1] == [
        f"run profile {url} app {APP_ID}: {url}/api/v1/applications/{APP_ID}/logs: the History Server did not send a zip of the event log"
    ]


def test_slow_server_times_out(server: tuple[str, Behaviour]) -> None:
    url, behaviour = server
    behaviour.routes["/api/v1/applications"] = (200, listing(), 3.0)
    started = time.monotonic()
    runs, warnings = load(url, timeout=0.5)
    assert time.monotonic() - started < 3
    assert runs == [] and warnings == [f"run profile {url}: History Server unreachable (timed out)"]


def test_unreachable_server() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    runs, warnings = load(f"http://127.0.0.1:{port}")
    assert runs == [] and len(warnings) == 1
    assert warnings[0].startswith(f"run profile http://127.0.0.1:{port}: History Server unreachable (")


def test_ids_from_the_listing_cannot_escape_the_api_path(server: tuple[str, Behaviour]) -> None:
    url, behaviour = server
    behaviour.routes["/api/v1/applications"] = (200, listing("../../evil?x=http://elsewhere/"), 0.0)
    load(url)
    assert behaviour.requests[-1] == "/api/v1/applications/..%2F..%2Fevil%3Fx%3Dhttp%3A%2F%2Felsewhere%2F/logs"


def test_zip_bomb_is_refused(server: tuple[str, Behaviour]) -> None:
    url, behaviour = server
    behaviour.routes["/api/v1/applications"] = (200, listing(), 0.0)
    bomb = zipped({ZSTD_LOG.name.replace(".zstd", ""): b"{" + b" " * 5_000_000 + b"}\n"})
    behaviour.routes[f"/api/v1/applications/{APP_ID}/logs"] = (200, bomb, 0.0)
    loaded = load_runs([url], RunFilter(), ReadOptions(max_log_bytes=1_000_000), None)
    assert loaded.runs == ()
    assert "more than the 1000000 byte limit" in loaded.warnings[0]


def empty_result(tmp_path: Path) -> CheckResult:
    return CheckResult(findings=(), files_checked=0, lines_checked=0, root=str(tmp_path))


def test_apply_profiles_warns_or_raises(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    result = apply_profiles(empty_result(tmp_path), Settings(profiles=(missing,), use_cache=False))
    assert result.warnings == (f"run profile {missing}: no such file or directory",)
    with pytest.raises(ProfileError, match="no such file or directory"):
        apply_profiles(empty_result(tmp_path), Settings(profiles=(missing,), profile_required=True, use_cache=False))
    with pytest.raises(ProfileError, match="unknown profile option 'colour'"):
        apply_profiles(empty_result(tmp_path), Settings(profiles=(missing,), profile_required=True,
                                                        profile_options={"colour": "red"}))


def test_redirects_to_another_host_are_refused(server: tuple[str, Behaviour]) -> None:
    url, behaviour = server
    behaviour.routes["/api/v1/applications"] = (302, b"", 0.0)
    behaviour.headers["/api/v1/applications"] = {"Location": "http://elsewhere.invalid/api/v1/applications"}
    runs, warnings = load(url)
    assert runs == [] and warnings == [
        f"run profile {url}/api/v1/applications: History Server answered HTTP 302 "
        "redirect to another host refused (elsewhere.invalid)"
    ]
    behaviour.headers["/api/v1/applications"] = {"Location": f"{url}/moved/api/v1/applications"}
    behaviour.routes["/moved/api/v1/applications"] = (200, b"[]", 0.0)
    assert load(url) == ([], [])  # the same host may move the API
