"""SPK003 with a run profile: the shuffle its grouping key ran is measured the way SPK201
measures skew; a skewed one raises the finding to error with the figures (and SPK201 does not
report the same stage again), an even one keeps the severity and says so, and a key whose
columns the run's scans read as numbers is dropped as a false positive.

The slow tests run one real PySpark job (VISITS_JOB, the project that is checked) on three data
sets: "" for most origin ids (skewed), distinct origin ids (even), and bigint ids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import check_in as check
from conftest import findings_by_place as by_place
from conftest import needs_engine, write_project

from sparklint.findings import CheckResult, Finding, Location, Severity
from sparklint.profile.matching import attach_evidence
from sparklint.profile.model import (
    Distribution,
    PlanNode,
    RunProfile,
    ScanColumn,
    ScanProfile,
    SqlExecutionProfile,
    StageProfile,
)
from sparklint.settings import Settings

pytestmark = needs_engine

VISITS_JOB = {
    "jobs/visits.py": '''
        """Visitors and their pages, on one of three data sets. Usage: python visits.py LOG_DIR DATA_DIR"""

        import sys

        from pyspark.sql import SparkSession
        from pyspark.sql import functions as F

        ROWS = 40_000


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
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
                .getOrCreate()
            )


        def visitors(events):
            key = F.coalesce(F.col("origin_uid"), F.col("cookie_id"), F.lit("anonymous"))
            return events.withColumn("visitor_key", key).groupBy("visitor_key").agg(F.collect_list("page")).collect()


        def sample(spark, shape):
            ids = spark.range(0, ROWS, numPartitions=4)
            if shape == "bigint":
                origin = F.when(F.col("id") % 10 < 7, F.lit(None)).otherwise(F.col("id") % 500)
                return ids.select(origin.alias("origin_uid"), F.col("id").alias("cookie_id"), F.col("id").alias("page"))
            unknown = F.col("id") % 10 < 8 if shape == "skewed" else F.lit(False)
            origin = F.when(unknown, F.lit("")).otherwise(F.concat(F.lit("u"), F.col("id").cast("string")))
            cookie = F.concat(F.lit("c"), F.col("id").cast("string"))
            return ids.select(origin.alias("origin_uid"), cookie.alias("cookie_id"), F.col("id").alias("page"))


        def main(log_dir, data_dir):
            for shape in ("skewed", "even", "bigint"):
                spark = session(f"visits-{shape}", f"{log_dir}/{shape}")
                try:
                    sample(spark, shape).write.mode("overwrite").parquet(f"{data_dir}/{shape}")
                    visitors(spark.read.parquet(f"{data_dir}/{shape}"))
                finally:
                    spark.stop()


        if __name__ == "__main__":
            main(*sys.argv[1:])
    ''',
}
GROUPING = ("SPK003", "jobs/visits.py", 29)
SHAPES = ("skewed", "even", "bigint")


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The checked project and the directory of its three runs' logs (one job, three data sets)."""
    base = tmp_path_factory.mktemp("spk003")
    project = write_project(base / "project", VISITS_JOB)
    logs = base / "logs"
    for shape in SHAPES:
        (logs / shape).mkdir(parents=True)
    subprocess.run([sys.executable, str(project / "jobs" / "visits.py"), str(logs), str(base / "data")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return project, logs


def set_options(project: Path, options: str) -> None:
    (project / "pyproject.toml").write_text(f"[tool.sparklint]\n{options}\n", encoding="utf-8")


@pytest.mark.slow
def test_a_skewed_grouping_raises_spk003_to_error_with_the_skew(visits: tuple[Path, Path]) -> None:
    project, logs = visits
    set_options(project, "")
    assert by_place(check(project))[GROUPING]["severity"] == "warning"
    finding = by_place(check(project, "--profile", str(logs / "skewed")))[GROUPING]
    assert finding["severity"] == "error"
    evidence = finding["properties"]["evidence"]
    assert (evidence["confirmed"], evidence["static_severity"]) == (True, "warning")
    (facts,) = evidence["runs"]
    assert facts["app_name"] == "visits-skewed" and facts["skewed"] is True
    assert facts["tasks"] == 8 and facts["skew"] >= 4
    assert facts["shuffle_read_max"] >= 4 * facts["shuffle_read_median"] > 0
    assert facts["shuffle_keys"] == ["visitor_key"]
    assert facts["matched_by"].startswith("call site `collect at ") and facts["matched_by"].endswith("visits.py:29`")
    run = f"run {facts['app_id']} `visits-skewed`"
    assert finding["evidence"][0].startswith(f"{run}: the grouping by `visitor_key`: stage {facts['stage_id']} "
                                             f"(8 tasks) ran skewed: it read up to ")
    assert finding["evidence"][0].endswith(f"({facts['skew']:.1f}x, at or over skew-ratio 4)")
    assert finding["evidence"][1].startswith("`origin_uid` and `cookie_id` are strings in the scan of file:")
    assert finding["evidence"][1].endswith(f"data/skewed ({run})")
    assert {(fact["name"], fact["type"]) for fact in facts["key_columns"]} == {
        ("origin_uid", "string"), ("cookie_id", "string")}


@pytest.mark.slow
def test_the_stage_spk003_explains_is_not_reported_again_as_spk201(visits: tuple[Path, Path]) -> None:
    project, logs = visits
    set_options(project, "profile-options = { skew-min-bytes = 1 }")  # small enough for SPK201 to fire
    findings = by_place(check(project, "--profile", str(logs / "skewed")))
    assert set(findings) == {GROUPING}
    alone = by_place(check(project, "--profile", str(logs / "skewed"), "--select", "SPK201"))
    assert set(alone) == {("SPK201", "jobs/visits.py", 29)}  # without SPK003 the same stage is SPK201's


@pytest.mark.slow
def test_an_evenly_spread_grouping_keeps_its_severity_and_says_so(visits: tuple[Path, Path]) -> None:
    project, logs = visits
    set_options(project, "")
    finding = by_place(check(project, "--profile", str(logs / "even")))[GROUPING]
    assert finding["severity"] == "warning"
    (facts,) = finding["properties"]["evidence"]["runs"]
    assert facts["skewed"] is False and facts["skew"] < 4
    assert finding["properties"]["evidence"]["confirmed"] is False
    assert finding["evidence"][0].startswith(f"run {facts['app_id']} `visits-even`: the grouping by `visitor_key`: "
                                             f"stage {facts['stage_id']} (8 tasks) was not skewed: it read up to ")
    assert finding["evidence"][0].endswith("x, under skew-ratio 4)")


@pytest.mark.slow
def test_a_key_over_bigint_columns_is_dropped(visits: tuple[Path, Path]) -> None:
    project, logs = visits
    set_options(project, "")
    static = by_place(check(project))[GROUPING]["properties"]["static"]
    if not static["grouping"].get("columns"):
        pytest.skip("the static side does not give the key's columns yet")
    assert GROUPING not in by_place(check(project, "--profile", str(logs / "bigint")))
    # another run of the same code that read them as strings keeps it
    both = by_place(check(project, "--profile", str(logs / "bigint"), "--profile", str(logs / "skewed")))
    assert both[GROUPING]["severity"] == "error"


@pytest.mark.slow
def test_several_runs_give_the_newest_run_and_the_skew_trend(visits: tuple[Path, Path]) -> None:
    project, logs = visits
    set_options(project, "")
    finding = by_place(check(project, "--profile", str(logs / "skewed"), "--profile", str(logs / "even")))[GROUPING]
    runs = finding["properties"]["evidence"]["runs"]
    assert [facts["app_name"] for facts in runs] == ["visits-even", "visits-skewed"]  # newest first
    assert finding["severity"] == "error"  # one run was skewed
    assert not any("`visits-skewed`" in line for line in finding["evidence"])  # older runs: in the trend
    assert finding["evidence"][-1].startswith("trend over 2 runs (worst / median / latest): stage time ")
    assert "; skew " in finding["evidence"][-1]
    trend = finding["properties"]["evidence"]["trend"]
    assert [trend[which]["skew"] for which in ("worst", "median", "latest")] == [
        runs[1]["skew"], (runs[0]["skew"] + runs[1]["skew"]) / 2, runs[0]["skew"]]


# ---------------------------------------------------------------- without Spark: a run built by hand


def grouping_finding(columns: list[dict] | None) -> Finding:
    grouping: dict = {"kind": "groupBy", "keys": ["visitor_key"]}
    if columns is not None:
        grouping["columns"] = columns
    static = {"kind": "grouping", "location": {"path": "jobs/visits.py", "line": 29}, "operators": [],
              "grouping": grouping, "leaves": [], "chain": []}
    return Finding(rule="SPK003", severity=Severity.WARNING, message="grouping key `visitor_key` ...",
                   location=Location("jobs/visits.py", 29), properties={"static": static})


def aggregate_run(scan_types: dict[str, str], app_id: str = "local-1", started_ms: int = 1) -> RunProfile:
    """One groupBy(visitor_key) as Spark 3.5/4 plans it under AQE, its 4 reading tasks skewed 10x,
    its scan reading `scan_types`."""
    def node(name: str, description: str = "", *children: PlanNode) -> PlanNode:
        return PlanNode(name, description or name, (), children)

    scan = node("Scan parquet", "FileScan parquet [origin_uid#4,cookie_id#5]")
    plan = node("AdaptiveSparkPlan", "", node("WholeStageCodegen (2)", "", node(
        "HashAggregate", "HashAggregate(keys=[visitor_key#8], functions=[count(1)])", node(
            "InputAdapter", "", node("AQEShuffleRead", "", node("ShuffleQueryStage", "", node(
                "Exchange", "Exchange hashpartitioning(visitor_key#8, 4), ENSURE_REQUIREMENTS, [plan_id=31]",
                node("WholeStageCodegen (1)", "", node("HashAggregate", "", node("Project", "", scan))))))))))
    execution = SqlExecutionProfile(
        execution_id=1, root_execution_id=None, description="collect at /ci/jobs/visits.py:29", details="",
        started_ms=started_ms, ended_ms=started_ms + 10, error="", plan=plan, job_ids=(1,), stage_ids=(2,),
        writes=(), joins=(),
        scans=(ScanProfile("Scan parquet", "", "file:/lake/visits",
                           tuple(ScanColumn(name, kind) for name, kind in scan_types.items())),))
    reads = Distribution(count=4, total=13_000, max=10_000, median=1_000, min=1_000)
    none = Distribution()
    stage = StageProfile(
        stage_id=2, attempt=0, name="collect at /ci/jobs/visits.py:29", details="", num_tasks=4, submitted_ms=started_ms,
        completed_ms=started_ms + 10, status="succeeded", failure="", job_ids=(1,), sql_execution_id=1,
        rdd_scopes=("AQEShuffleRead", "WholeStageCodegen (2)"), task_time_ms=none, run_time_ms=none, cpu_time_ms=0,
        gc_time_ms=0, input_bytes=none, input_records=0, output_bytes=none, output_records=0,
        shuffle_read_bytes=reads, shuffle_read_records=13, shuffle_write_bytes=none, shuffle_write_records=0,
        memory_spill_bytes=none, disk_spill_bytes=none, peak_execution_memory_max=0, failed_tasks=0, killed_tasks=0)
    return RunProfile(app_id=app_id, attempt_id="", app_name="visits", spark_version="3.5.1", source="log",
                      started_ms=started_ms, ended_ms=started_ms + 20, complete=True, executors=1, max_cores=2,
                      stages=(stage,), sql_executions=(execution,), problems=(), events_read=1, decoded_bytes=1)


def attach(finding: Finding, *runs: RunProfile) -> tuple[Finding, ...]:
    result = CheckResult(findings=(finding,), files_checked=1, lines_checked=1, root="/ci")
    return attach_evidence(result, runs, Settings()).findings


UNTYPED = [{"name": "origin_uid", "type": "unknown"}, {"name": "cookie_id", "type": "unknown"}]


def test_columns_read_as_numbers_drop_the_finding() -> None:
    assert attach(grouping_finding(UNTYPED), aggregate_run({"origin_uid": "bigint", "cookie_id": "decimal(20,0)"})) == ()


def test_columns_read_as_strings_say_so_and_the_skew_raises() -> None:
    (finding,) = attach(grouping_finding(UNTYPED), aggregate_run({"origin_uid": "string", "cookie_id": "bigint"}))
    assert finding.severity is Severity.ERROR
    assert finding.evidence == (
        ("run local-1 `visits`: the grouping by `visitor_key`: stage 2 (4 tasks) ran skewed: it read up to 9.8 KiB "
         "in one task against a median of 1000 B (10.0x, at or over skew-ratio 4)"),
        "`origin_uid` is a string in the scan of file:/lake/visits (run local-1 `visits`)",
    )


@pytest.mark.parametrize(("columns", "scan_types"), [
    (None, {"origin_uid": "bigint", "cookie_id": "bigint"}),  # the static side gave no columns
    ([{"name": "origin_uid", "type": "string"}], {"origin_uid": "bigint"}),  # the code says string
    (UNTYPED, {"origin_uid": "bigint"}),  # `cookie_id` was not read by any scan of the execution
    (UNTYPED, {"origin_uid": "bigint", "cookie_id": "unknown"}),  # `cookie_id#5` shows no type
    (UNTYPED, {"origin_uid": "bigint", "cookie_id": "binary"}),
])
def test_the_finding_stays_unless_every_untyped_column_is_read_as_a_number(columns, scan_types) -> None:
    (finding,) = attach(grouping_finding(columns), aggregate_run(scan_types))
    assert finding.severity is Severity.ERROR and finding.evidence[0].startswith("run local-1 `visits`: ")


def test_only_the_scans_of_a_matched_run_count() -> None:
    """A run that read the columns as numbers drops nothing when another matched run read one as a string."""
    numbers = aggregate_run({"origin_uid": "bigint", "cookie_id": "bigint"}, app_id="local-2", started_ms=5)
    strings = aggregate_run({"origin_uid": "string", "cookie_id": "bigint"}, app_id="local-1", started_ms=1)
    (finding,) = attach(grouping_finding(UNTYPED), numbers, strings)
    assert [facts["app_id"] for facts in finding.properties["evidence"]["runs"]] == ["local-2", "local-1"]


def test_a_grouping_by_other_keys_is_not_matched() -> None:
    finding = grouping_finding(UNTYPED)
    static = finding.properties["static"]
    other = Finding(**{**{name: getattr(finding, name) for name in ("rule", "severity", "message", "location")},
                       "properties": {"static": {**static, "grouping": {**static["grouping"], "keys": ["site_id"]}}}})
    (kept,) = attach(other, aggregate_run({"origin_uid": "bigint", "cookie_id": "bigint"}))
    assert kept.severity is Severity.WARNING and not kept.evidence


def test_scan_column_types_from_the_plan() -> None:
    from sparklint.profile.eventlog import (
        _output_columns,
        _scan_table,
        _scans,
        _schema_columns,
    )

    assert _schema_columns("struct<origin_uid:string,amount:decimal(10,2),tags:map<string,int>,`a b`:bigint>") == [
        ScanColumn("origin_uid", "string"), ScanColumn("amount", "decimal(10,2)"),
        ScanColumn("tags", "map<string,int>"), ScanColumn("a b", "bigint")]
    assert _output_columns("LocalTableScan [uid#1, n#2L]") == [ScanColumn("uid", "unknown"), ScanColumn("n", "bigint")]
    assert _scan_table("Scan parquet spark_catalog.default.visits") == "spark_catalog.default.visits"
    assert _scan_table("Scan parquet") == ""
    compact = {"name": "Project", "description": "Project", "metrics": [], "children": [
        {"name": "Scan parquet spark_catalog.default.visits", "metrics": [], "children": [],
         "description": "FileScan parquet spark_catalog.default.visits[origin_uid#4,n#6L] Batched: true",
         "metadata": {"ReadSchema": "struct<origin_uid:string>",
                      "Location": "InMemoryFileIndex(1 paths)[file:/lake/visits]"}}]}
    (scan,) = _scans(compact)
    assert scan == ScanProfile("Scan parquet spark_catalog.default.visits", "spark_catalog.default.visits",
                               "file:/lake/visits", (ScanColumn("origin_uid", "string"), ScanColumn("n", "bigint")))


def test_partition_keys_of_an_exchange() -> None:
    from sparklint.profile.matching import _partition_keys

    assert _partition_keys("Exchange hashpartitioning(visitor_key#8, site_id#6L, 8), ENSURE_REQUIREMENTS") == (
        "visitor_key", "site_id")
    assert _partition_keys("Exchange hashpartitioning(coalesce(a#1, b#2), 200), REPARTITION_BY_COL") == ("a", "b")
    assert _partition_keys("Exchange SinglePartition, ENSURE_REQUIREMENTS") == ()
