"""SPK002 from run profiles when one join ran in several SQL executions: a joined DataFrame
written twice plans its sort-merge join twice, and both executions map to the one static join
they come from; their evidence is merged per static join and reported once, with every run
(the newest in full, older runs one line each, and the trend). The run's recorded broadcast
thresholds (`spark.sql.autoBroadcastJoinThreshold`) are part of the evidence.

The slow tests run one real PySpark job (ENRICH_JOB, the project that is checked) twice: a
parquet event table joined to a 40-row parquet country dimension with auto-broadcast disabled,
the joined DataFrame written as parquet and as JSON."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from conftest import check_in as check
from conftest import findings_by_place as by_place
from conftest import needs_engine, write_project

from sparklint.findings import CheckResult, Finding, Location, Severity
from sparklint.profile.eventlog import EventLogParser
from sparklint.profile.matching import attach_evidence
from sparklint.profile.model import (
    JoinProfile,
    JoinSide,
    PlanNode,
    RunProfile,
    SparkProperty,
    SqlExecutionProfile,
    run_from_dict,
    to_dict,
)
from sparklint.settings import Settings

pytestmark = needs_engine

ENRICH_JOB = {
    "jobs/enrich.py": '''
        """Events enriched with a 40-row country dimension, written twice. Usage: python enrich.py LOG_DIR DATA_DIR"""

        import sys

        from pyspark.sql import SparkSession
        from pyspark.sql import functions as F


        def session(name, log_dir):
            return (
                SparkSession.builder.master("local[2]")
                .appName(name)
                .config("spark.eventLog.enabled", "true")
                .config("spark.eventLog.dir", log_dir)
                .config("spark.eventLog.compress", "false")
                .config("spark.eventLog.rolling.enabled", "false")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.autoBroadcastJoinThreshold", "-1")
                .getOrCreate()
            )


        def enrich(spark, data_dir):
            events = spark.read.parquet(f"{data_dir}/events")
            countries = spark.read.parquet(f"{data_dir}/countries")
            return events.join(countries, "country_id")


        def prepare(spark, data_dir, rows):
            ids = spark.range(0, rows, numPartitions=4)
            ids.select("id", (F.col("id") % 40).alias("country_id")).write.mode("overwrite").parquet(f"{data_dir}/events")
            names = F.concat(F.lit("country-"), F.col("id").cast("string")).alias("name")
            countries = spark.range(0, 40, numPartitions=1).select(F.col("id").alias("country_id"), names)
            countries.write.mode("overwrite").parquet(f"{data_dir}/countries")


        def main(log_dir, data_dir):
            for name, rows in (("enrich-monday", 200_000), ("enrich-tuesday", 100_000)):
                spark = session(name, log_dir)
                try:
                    prepare(spark, f"{data_dir}/{name}", rows)
                    enriched = enrich(spark, f"{data_dir}/{name}")
                    enriched.write.mode("overwrite").parquet(f"{data_dir}/{name}/enriched")
                    enriched.write.mode("overwrite").json(f"{data_dir}/{name}/enriched_json")
                finally:
                    spark.stop()


        if __name__ == "__main__":
            main(*sys.argv[1:])
    ''',
}
JOIN = ("SPK002", "jobs/enrich.py", 28)
THRESHOLD_LINE = "the run set spark.sql.autoBroadcastJoinThreshold=-1"


@pytest.fixture(scope="module")
def enrich(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The checked project and the directory of its two runs' logs (enrich-monday, then enrich-tuesday)."""
    base = tmp_path_factory.mktemp("spk002")
    project = write_project(base / "project", ENRICH_JOB)
    logs = base / "logs"
    logs.mkdir()
    subprocess.run([sys.executable, str(project / "jobs" / "enrich.py"), str(logs), str(base / "data")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return project, logs


def test_the_join_line_holds_the_join() -> None:
    text = textwrap.dedent(ENRICH_JOB["jobs/enrich.py"]).lstrip("\n").splitlines()
    assert text[JOIN[2] - 1].strip() == 'return events.join(countries, "country_id")'


@pytest.mark.slow
def test_one_join_written_twice_is_one_finding_with_both_executions(enrich: tuple[Path, Path]) -> None:
    project, logs = enrich
    assert JOIN not in by_place(check(project))  # a parquet read: the code cannot prove the side small
    report = check(project, "--profile", str(logs), "--app-name", "enrich-tuesday")
    assert report["warnings"] == []
    spk002 = [item for item in report["findings"] if item["rule"] == "SPK002"]
    assert [(item["location"]["path"], item["location"]["line"]) for item in spk002] == [JOIN[1:]]
    (finding,) = spk002
    assert finding["severity"] == "warning"
    assert finding["message"].startswith("join without a broadcast hint, and its right side was measured small (")
    assert finding["message"].endswith(", 40 rows): Spark ran a SortMergeJoin that shuffles and sorts both sides")

    evidence = finding["properties"]["evidence"]
    assert evidence["runtime_only"] and evidence["confirmed"]
    (facts,) = evidence["runs"]
    assert facts["app_name"] == "enrich-tuesday"
    assert len(facts["sql_executions"]) == 2 and facts["sql_executions"] == sorted(facts["sql_executions"])
    assert [item["sql_execution"] for item in facts["executions"]] == facts["sql_executions"]
    assert all((item["strategy"], item["left_rows"], item["right_rows"]) == ("SortMergeJoin", 100_000, 40)
               for item in facts["executions"])
    assert all(item["matched_by"] == "plan shape" for item in facts["executions"])  # PySpark writes: no call site
    assert 0 < facts["small_side_bytes"] < 16 * 1024  # the story's "16 KiB table"
    assert facts["broadcast_thresholds"] == {"spark.sql.autoBroadcastJoinThreshold": "-1"}

    first, second = facts["sql_executions"]
    lines = finding["evidence"]
    assert len(lines) == 3 and lines[2] == THRESHOLD_LINE
    for line, execution in zip(lines, (first, second)):
        assert line.startswith(f"run {facts['app_id']} `enrich-tuesday`, SQL execution {execution}: Spark ran a SortMergeJoin; ")
        assert line.endswith(" (100000 rows), right side " + _size(facts["small_side_bytes"]) + " (40 rows)")


@pytest.mark.slow
def test_two_runs_give_one_finding_with_both_runs_and_the_trend(enrich: tuple[Path, Path]) -> None:
    project, logs = enrich
    spk002 = [item for item in check(project, "--profile", str(logs))["findings"] if item["rule"] == "SPK002"]
    assert [(item["location"]["path"], item["location"]["line"]) for item in spk002] == [JOIN[1:]]
    (finding,) = spk002
    evidence = finding["properties"]["evidence"]
    assert [facts["app_name"] for facts in evidence["runs"]] == ["enrich-tuesday", "enrich-monday"]  # newest first
    assert all(len(facts["executions"]) == 2 for facts in evidence["runs"])
    assert [facts["left_rows"] for facts in evidence["runs"]] == [100_000, 200_000]
    small = evidence["runs"][0]["small_side_bytes"]
    trend = evidence["trend"]
    assert trend["runs"] == 2 and trend["regression"] is None
    assert [trend[which]["small_side_bytes"] for which in ("worst", "median", "latest")] == [small, small, small]

    newest, older = evidence["runs"]
    lines = finding["evidence"]
    assert lines[:3] == lines[:2] + [THRESHOLD_LINE]  # the newest run speaks in full
    assert lines[1].startswith(f"run {newest['app_id']} `enrich-tuesday`, SQL execution {newest['sql_executions'][1]}: ")
    assert not any(older["app_id"] in line for line in lines)  # an older run is in the trend, not a line
    assert lines[3].startswith("trend over 2 runs (worst / median / latest): ")
    assert lines[3].endswith(f"small side {_size(small)} / {_size(small)} / {_size(small)}")
    assert len(lines) == 4


def _size(value: int) -> str:
    from sparklint.profile.summary import format_bytes

    return format_bytes(value)


# ---------------------------------------------------------------- without Spark


def join_run(*executions: tuple[int, str, int], app_id: str = "local-1", started_ms: int = 1,
             properties: tuple[SparkProperty, ...] = ()) -> RunProfile:
    """A run whose executions each ran one join: (execution id, strategy, small side bytes), on
    `country_id`, the right side small."""
    def sql(execution_id: int, strategy: str, small: int) -> SqlExecutionProfile:
        description = f"{strategy} [country_id#6L], [country_id#7L], Inner"
        join = JoinProfile(strategy, description, JoinSide(4_800_000, 200_000, "Exchange"), JoinSide(small, 40, "Exchange"))
        plan = PlanNode(strategy, description, (), ())
        return SqlExecutionProfile(
            execution_id=execution_id, root_execution_id=execution_id, description="parquet at NativeMethodAccessorImpl.java:0",
            details="", started_ms=started_ms, ended_ms=started_ms + 1, error="", plan=plan, job_ids=(), stage_ids=(),
            writes=(), joins=(join,))
    return RunProfile(app_id=app_id, attempt_id="", app_name="enrich", spark_version="4.0.0", source="log",
                      started_ms=started_ms, ended_ms=started_ms + 10, complete=True, executors=1, max_cores=2, stages=(),
                      sql_executions=tuple(sql(*item) for item in executions), problems=(), events_read=1,
                      decoded_bytes=1, spark_properties=properties)


def join_op(line: int, keys: tuple[str, ...] = ("country_id",)) -> dict:
    return {"kind": "join", "location": {"path": "jobs/enrich.py", "line": line}, "chain": [],
            "join": {"how": None, "keys": list(keys)}}


def attach(runs: tuple[RunProfile, ...], operations: tuple[dict, ...], findings: tuple[Finding, ...] = ()) -> tuple[Finding, ...]:
    result = CheckResult(findings=findings, files_checked=1, lines_checked=1, root="/ci", operations=operations)
    return attach_evidence(result, runs, Settings()).findings


def test_every_execution_of_one_static_join_is_merged_into_one_finding() -> None:
    run = join_run((2, "SortMergeJoin", 1600), (3, "SortMergeJoin", 1600), (4, "BroadcastHashJoin", 1600),
                   properties=(SparkProperty("spark.sql.autoBroadcastJoinThreshold", "-1"),))
    (finding,) = attach((run,), (join_op(28),))
    assert (finding.rule, finding.location, finding.severity) == ("SPK002", Location("jobs/enrich.py", 28), Severity.WARNING)
    assert finding.evidence == (
        "run local-1 `enrich`, SQL execution 2: Spark ran a SortMergeJoin; left side 4.6 MiB (200000 rows), right side 1.6 KiB (40 rows)",
        "run local-1 `enrich`, SQL execution 3: Spark ran a SortMergeJoin; left side 4.6 MiB (200000 rows), right side 1.6 KiB (40 rows)",
        "the run set spark.sql.autoBroadcastJoinThreshold=-1",
    )  # the broadcast execution is no evidence of a missing hint
    (facts,) = finding.properties["evidence"]["runs"]
    assert facts["sql_executions"] == [2, 3] and facts["matched_by"] == "plan shape"


def test_a_join_of_one_execution_keeps_its_one_line() -> None:
    (finding,) = attach((join_run((2, "SortMergeJoin", 1600)),), (join_op(28),))
    assert finding.evidence == (
        "run local-1 `enrich`: Spark ran a SortMergeJoin; left side 4.6 MiB (200000 rows), right side 1.6 KiB (40 rows)",)
    (facts,) = finding.properties["evidence"]["runs"]
    assert "executions" not in facts and facts["broadcast_thresholds"] == {}


def test_two_static_joins_on_the_same_keys_get_no_runtime_finding() -> None:
    run = join_run((2, "SortMergeJoin", 1600), (3, "SortMergeJoin", 1600))
    assert attach((run,), (join_op(28), join_op(41))) == ()


def test_one_static_join_reached_through_two_chains_is_one_join() -> None:
    run = join_run((2, "SortMergeJoin", 1600), (3, "SortMergeJoin", 1600))
    first = {**join_op(28), "chain": [{"path": "jobs/a.py", "line": 3, "message": "a() calls `enrich(...)`"}]}
    second = {**join_op(28), "chain": [{"path": "jobs/b.py", "line": 5, "message": "b() calls `enrich(...)`"}]}
    (finding,) = attach((run,), (first, second))
    assert finding.location == Location("jobs/enrich.py", 28) and len(finding.evidence) == 2


def test_runs_are_merged_newest_first_with_a_trend() -> None:
    older = join_run((2, "SortMergeJoin", 1000), (3, "SortMergeJoin", 1000), app_id="local-1", started_ms=1)
    newer = join_run((7, "SortMergeJoin", 2000), (8, "SortMergeJoin", 2000), app_id="local-2", started_ms=50)
    (finding,) = attach((older, newer), (join_op(28),))
    assert "measured small (2.0 KiB, 40 rows)" in finding.message  # the newest run's
    assert [facts["app_id"] for facts in finding.properties["evidence"]["runs"]] == ["local-2", "local-1"]
    trend = finding.properties["evidence"]["trend"]
    assert [trend[which]["small_side_bytes"] for which in ("worst", "median", "latest")] == [2000, 1500, 2000]
    assert finding.evidence[2].startswith("trend over 2 runs (worst / median / latest): ")
    assert finding.evidence[2].endswith("small side 2.0 KiB / 1.5 KiB / 2.0 KiB")


def test_a_static_spk002_gains_every_execution_as_evidence() -> None:
    """The static rule reported the join: no runtime finding beside it, and its evidence covers both executions."""
    static = {**join_op(28), "right_leaves": [{"kind": "range", "value": 40}]}
    finding = Finding(rule="SPK002", severity=Severity.WARNING, message="join without a broadcast hint ...",
                      location=Location("jobs/enrich.py", 28), properties={"static": static})
    run = join_run((2, "SortMergeJoin", 1600), (3, "SortMergeJoin", 1600),
                   properties=(SparkProperty("spark.sql.autoBroadcastJoinThreshold", "-1"),))
    (updated,) = attach((run,), (static,), (finding,))
    assert updated.severity is Severity.ERROR  # confirmed: a sort-merge join with a side under broadcast-max-bytes
    assert [line.split(":")[0] for line in updated.evidence] == [
        "run local-1 `enrich`, SQL execution 2", "run local-1 `enrich`, SQL execution 3",
        "the run set spark.sql.autoBroadcastJoinThreshold=-1"]
    assert updated.properties["evidence"]["runs"][0]["sql_executions"] == [2, 3]


def test_the_log_records_the_broadcast_thresholds_of_the_run_and_of_an_execution() -> None:
    parser = EventLogParser("log")
    events = [
        {"Event": "SparkListenerApplicationStart", "App Name": "enrich", "App ID": "local-9", "Timestamp": 1},
        {"Event": "SparkListenerEnvironmentUpdate", "JVM Information": {},
         "Spark Properties": {"spark.sql.autoBroadcastJoinThreshold": "-1", "spark.app.name": "enrich"},
         "Hadoop Properties": {}, "System Properties": {}, "Classpath Entries": {}},
        {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart", "executionId": 0,
         "description": "parquet at NativeMethodAccessorImpl.java:0", "details": "", "time": 2,
         "modifiedConfigs": {"spark.sql.adaptive.autoBroadcastJoinThreshold": "10MB", "spark.sql.shuffle.partitions": "4"},
         "sparkPlanInfo": {"nodeName": "LocalTableScan", "simpleString": "LocalTableScan [id#0L]", "children": [],
                           "metadata": {}, "metrics": []}},
        {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart", "executionId": 1,
         "description": "json at NativeMethodAccessorImpl.java:0", "details": "", "time": 3,
         "modifiedConfigs": {"spark.sql.autoBroadcastJoinThreshold": "1048576"},
         "sparkPlanInfo": {"nodeName": "LocalTableScan", "simpleString": "LocalTableScan [id#0L]", "children": [],
                           "metadata": {}, "metrics": []}},
    ]
    for event in events:
        parser.feed_line(orjson.dumps(event) + b"\n")
    run = parser.finish()
    assert run.spark_properties == (SparkProperty("spark.sql.autoBroadcastJoinThreshold", "-1"),)
    first, second = run.sql_executions
    assert first.modified_properties == (SparkProperty("spark.sql.adaptive.autoBroadcastJoinThreshold", "10MB"),)
    assert run.spark_property("spark.sql.autoBroadcastJoinThreshold") == "-1"
    assert run.spark_property("spark.sql.autoBroadcastJoinThreshold", second) == "1048576"  # the session's later value wins
    assert run.spark_property("spark.sql.adaptive.autoBroadcastJoinThreshold") is None
    assert run_from_dict(orjson.loads(orjson.dumps(to_dict(run)))) == run
