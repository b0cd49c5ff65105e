"""A compiled JVM job end to end: tests/scala_jobs is compiled with the Scala compiler inside
PySpark's jars (scala.tools.nsc.Main), packaged as a jar and run by the wheel's own
`spark-submit --class`; its event log records each SQL execution's call site
(`parquet at Writer.scala:12`) and the user stack. `sparklint check --profile` must tie the
Scala findings to those call sites, from the log files and from a live History Server alike."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from test_profile_history_server import serving, spark_home

# One worker runs the module (`--dist loadgroup`), so its Scala job compiles and runs once per test run.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("scala_job")]

REPO = Path(__file__).resolve().parent.parent
SCALA_JOB = REPO / "tests" / "scala_jobs"
MAIN_CLASS = "sparklint.jobs.PipelineJob"
ROWS = 120_000

WRITE = ("SPK001", "src/main/scala/sparklint/jobs/Writer.scala", 8)
LITERAL_JOIN = ("SPK002", "src/main/scala/sparklint/jobs/PipelineJob.scala", 22)
RANGE_JOIN = ("SPK002", "src/main/scala/sparklint/jobs/PipelineJob.scala", 26)
KEY_JOIN = ("SPK003", "src/main/scala/sparklint/jobs/PipelineJob.scala", 26)


def compile_job(jar: Path, scratch: Path) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.skip("needs a JVM")
    classes = scratch / "classes"
    classes.mkdir()
    sources = sorted(str(path) for path in SCALA_JOB.rglob("*.scala"))
    completed = subprocess.run(
        [java, "-Xss8m", "-cp", f"{spark_home() / 'jars'}/*", "scala.tools.nsc.Main", "-usejavacp",
         "-d", str(classes), *sources],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for path in sorted(classes.rglob("*.class")):
            archive.write(path, path.relative_to(classes).as_posix())


@pytest.fixture(scope="module")
def scala_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The event log directory of one real run of the compiled job (Spark's default rolling zstd log)."""
    scratch = tmp_path_factory.mktemp("scala-job")
    jar = scratch / "pipeline.jar"
    compile_job(jar, scratch)
    logs = scratch / "logs"
    logs.mkdir()
    env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1"}
    confs = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": f"file:{logs}",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.adaptive.coalescePartitions.enabled": "false",
        "spark.sql.autoBroadcastJoinThreshold": "-1",
        "spark.shuffle.spill.numElementsForceSpillThreshold": "20000",
    }
    command = [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2]", "--class", MAIN_CLASS]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    completed = subprocess.run([*command, str(jar), str(scratch / "out"), str(ROWS)], env=env,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert [entry.name for entry in logs.iterdir() if entry.name.startswith("eventlog_v2_")], "no event log"
    return logs


@pytest.fixture(scope="module")
def server(scala_logs: Path) -> Iterator[str]:
    with serving(scala_logs, 1) as url:
        yield url


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "scala_project"
    shutil.copytree(SCALA_JOB, root)
    return root


def check(project: Path, *args: str) -> dict:
    result = run_cli("check", ".", "--output-format", "json", "--no-cache", *args, cwd=project)
    assert result.exit_code == 1, result.stderr
    return result.json()


def by_place(report: dict) -> dict[tuple[str, str, int], dict]:
    return {(item["rule"], item["location"]["path"], item["location"]["line"]): item for item in report["findings"]}


def test_scala_findings_gain_evidence_through_their_call_sites(project: Path, scala_logs: Path) -> None:
    static = by_place(check(project))
    assert set(static) == {WRITE, LITERAL_JOIN, RANGE_JOIN, KEY_JOIN}
    report = check(project, "--profile", str(scala_logs))
    assert report["warnings"] == []
    findings = by_place(report)
    assert set(findings) == set(static)

    write = findings[WRITE]
    (facts,) = write["properties"]["evidence"]["runs"]
    assert facts["matched_by"] == "call site `parquet at Writer.scala:12` and its stack (PipelineJob.scala:19)"
    assert (facts["app_name"], facts["tasks"], facts["cores"], facts["rows_written"]) == ("scala-pipeline", 2, 2, ROWS)
    assert facts["spill_memory_bytes"] > 0 and facts["bytes_per_task_max"] > 0
    assert 0 < facts["core_utilisation"] <= 1
    assert write["severity"] == "error" and write["properties"]["evidence"]["confirmed"] is True
    assert write["evidence"][0].startswith(f"run {facts['app_id']} `scala-pipeline`: the write ran as 2 tasks on 2 cores")

    literal = findings[LITERAL_JOIN]
    (join_facts,) = literal["properties"]["evidence"]["runs"]
    assert join_facts["matched_by"] == "call site `collect at PipelineJob.scala:22`"
    assert (join_facts["strategy"], join_facts["left_rows"], join_facts["right_rows"]) == ("SortMergeJoin", ROWS, 4)
    assert literal["severity"] == "error"  # raised from warning: Spark sort-merged a 4-row side

    key = findings[KEY_JOIN]
    (key_facts,) = key["properties"]["evidence"]["runs"]
    assert key_facts["matched_by"] == "call site `collect at PipelineJob.scala:26`"
    assert key_facts["skew"] >= 4 and key["severity"] == "error"  # "" rows all on one task
    assert findings[RANGE_JOIN]["properties"]["evidence"]["runs"][0]["right_rows"] == 50


def test_the_same_evidence_from_the_history_server(project: Path, scala_logs: Path, server: str) -> None:
    from_files = check(project, "--profile", str(scala_logs))
    from_server = check(project, "--profile", server)
    assert from_server["warnings"] == [] and from_server["findings"] == from_files["findings"]


def test_a_stack_through_another_caller_is_no_call_site_match(project: Path, scala_logs: Path) -> None:
    """Move the call of `Writer.persist` one line down: the recorded stack (PipelineJob.scala:19)
    no longer fits the chain, so the call site alone does not identify the write; the plan
    shape still does (one coalesced write in the code, one in the run)."""
    job = project / "src/main/scala/sparklint/jobs/PipelineJob.scala"
    text = job.read_text(encoding="utf-8")
    job.write_text(text.replace("    Writer.persist(", "    // the events, sorted by site\n    Writer.persist("),
                   encoding="utf-8")
    findings = by_place(check(project, "--profile", str(scala_logs)))
    (facts,) = findings[WRITE]["properties"]["evidence"]["runs"]
    assert facts["matched_by"] == "plan shape"
