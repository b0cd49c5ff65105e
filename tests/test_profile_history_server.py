"""Real components end to end: real PySpark (local[2], Java 17) writes event logs in every codec
and a rolling log; a real Spark History Server (spark-class ...HistoryServer from the pip
install) serves them on 127.0.0.1; sparklint reads each run from the files and from the server
and must get identical profiles."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from sparklint.profile.api import RunFilter, load_runs
from sparklint.profile.model import RunProfile
from sparklint.profile.sources import ReadOptions, discover, read_run

from conftest import run_cli

# One worker runs the module (`--dist loadgroup`), so its History Server starts once per test run.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("history_server")]

REPO = Path(__file__).resolve().parent.parent
JOB = REPO / "tests" / "spark_jobs" / "pipeline_job.py"
VARIANTS = ("plain", "lz4", "lzf", "snappy", "zstd", "rolling")
OPTIONS = ReadOptions(timeout=30)


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every variant's log, generated now by real PySpark, side by side as a History Server sees them."""
    scratch = tmp_path_factory.mktemp("spark")
    logs = scratch / "logs"
    subprocess.run([sys.executable, str(JOB), str(logs), str(scratch / "out"), *VARIANTS], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    directory = scratch / "history"
    directory.mkdir()
    for variant in VARIANTS:
        for entry in (logs / variant).iterdir():
            if entry.name.startswith("."):
                continue
            shutil.move(str(entry), directory / entry.name)
    return directory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listed_apps(url: str) -> list[dict]:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/applications", timeout=5) as response:
            return orjson.loads(response.read())
    except OSError:
        return []


@contextlib.contextmanager
def serving(directory: Path, applications: int) -> Iterator[str]:
    """A real Spark History Server on 127.0.0.1 over `directory`, once it lists `applications`."""
    port = free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_HISTORY_OPTS": " ".join(
            (
                f"-Dspark.history.fs.logDirectory=file:{directory}",
                f"-Dspark.history.ui.port={port}",
                "-Dspark.history.fs.update.interval=1s",
            )
        ),
    }
    process = subprocess.Popen(
        [str(spark_home() / "bin" / "spark-class"), "org.apache.spark.deploy.history.HistoryServer"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while len(listed_apps(url)) < applications:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the History Server did not list {applications} applications in time")
            time.sleep(1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def history_server(history_dir: Path) -> Iterator[str]:
    with serving(history_dir, len(VARIANTS)) as url:
        yield url


@pytest.fixture(scope="module")
def file_runs(history_dir: Path) -> dict[str, RunProfile]:
    return {run.app_name: run for run in (read_run(ref, OPTIONS) for ref in discover(str(history_dir), OPTIONS))}


def test_every_run_reads_the_same_from_files_and_from_the_server(history_server: str,
                                                                 file_runs: dict[str, RunProfile]) -> None:
    served = {run.app_name: run for run in (read_run(ref, OPTIONS) for ref in discover(history_server, OPTIONS))}
    assert sorted(served) == sorted(f"pipeline-{variant}" for variant in VARIANTS)
    for name, run in file_runs.items():
        assert run.complete and run.problems == (), name
        assert served[name].comparable() == run.comparable(), name
        assert served[name].source.startswith(history_server)
    rolling = file_runs["pipeline-rolling"]
    assert max(stage.task_time_ms.count for stage in rolling.stages) == 700


def test_server_filters(history_server: str, file_runs: dict[str, RunProfile]) -> None:
    newest = load_runs([history_server], RunFilter(last=1), OPTIONS, None)
    assert [run.app_name for run in newest.runs] == ["pipeline-rolling"]  # the last variant run
    named = load_runs([history_server], RunFilter(app_name="pipeline-lzf"), OPTIONS, None)
    assert [run.comparable() for run in named.runs] == [file_runs["pipeline-lzf"].comparable()]
    app_id = file_runs["pipeline-snappy"].app_id
    by_id = load_runs([history_server], RunFilter(app_id=app_id), OPTIONS, None)
    assert [run.app_id for run in by_id.runs] == [app_id] and by_id.warnings == ()


def test_profile_command_prints_the_same_from_both_routes(history_server: str, history_dir: Path,
                                                          tmp_path: Path) -> None:
    def profile_json(source: str) -> dict:
        result = run_cli("profile", source, "--app-name", "pipeline-zstd", "--output-format", "json", "--no-cache",
                         cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        (run,) = orjson.loads(result.stdout)["runs"]
        run.pop("source")
        return run

    assert profile_json(history_server) == profile_json(str(history_dir))


def test_unknown_app_id_on_the_server_is_a_warning(history_server: str) -> None:
    loaded = load_runs([history_server], RunFilter(app_id="local-0"), OPTIONS, None)
    assert loaded.runs == ()
    assert loaded.warnings == (f"run profile {history_server}: no run with app id local-0",)


def test_check_gets_identical_evidence_from_files_and_from_the_server(history_server: str, history_dir: Path,
                                                                      tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(JOB.parent, project, ignore=shutil.ignore_patterns("__pycache__", "lookup"))
    (project / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")

    def findings(source: str) -> list[dict]:
        result = run_cli("check", ".", "--output-format", "json", "--no-cache", "--profile", source,
                         "--app-name", "pipeline-rolling", cwd=project)
        assert result.exit_code == 1, result.stderr
        report = result.json()
        assert report["warnings"] == []
        return report["findings"]

    from_server, from_files = findings(history_server), findings(str(history_dir))
    assert from_server == from_files
    coalesced = next(item for item in from_files if item["rule"] == "SPK001" and item["location"]["line"] == 6)
    (facts,) = coalesced["properties"]["evidence"]["runs"]
    assert (facts["tasks"], facts["rows_written"], facts["app_name"]) == (2, 120000, "pipeline-rolling")
    assert facts["spill_memory_bytes"] > 0
