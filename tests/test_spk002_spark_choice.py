"""SPK002 follows Spark's own join selection: the table in rules/SPK002's document, measured here
with the PySpark the tests install. A side Spark cannot size (a local list, an RDD, a filter of
a large table) is sort-merge-joined; a side it sizes (a LocalRelation, a range, a limit, a small
file scan) is broadcast unless auto-broadcast is switched off."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "data" / "spark_choice" / "join_plans.py"

MEASURED = {
    "createDataFrame of a local list": ["SortMergeJoin"],
    "createDataFrame of an RDD": ["SortMergeJoin"],
    "a filter of a large table, tiny in fact": ["SortMergeJoin"],
    "SQL VALUES (a LocalRelation)": ["BroadcastHashJoin"],
    "spark.range(40)": ["BroadcastHashJoin"],
    "large.limit(10)": ["BroadcastHashJoin"],
    "a 40-row parquet dimension": ["BroadcastHashJoin"],
    "SQL VALUES with autoBroadcastJoinThreshold=-1": ["SortMergeJoin"],
    "spark.range(40) with autoBroadcastJoinThreshold=-1": ["SortMergeJoin"],
}


@pytest.mark.slow
def test_spark_broadcasts_the_sides_it_can_size_and_no_others(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    assert measured["plans"] == MEASURED, measured["spark"]


# ---------------------------------------------------------------- the rule follows the table

from conftest import run_cli, write_project  # noqa: E402

SCALA_JOB = """
    import org.apache.spark.sql.SparkSession
    import org.apache.spark.sql.functions._

    object Job {
      def main(args: Array[String]): Unit = {
        val spark = SparkSession.builder().getOrCreate()
        import spark.implicits._
        val big = spark.read.parquet("s3://events")
        val dim = Seq(("a", 1), ("b", 2)).toDF("k", "v")
        big.join(dim, "k").write.parquet("s3://1")
        val rdd = spark.sparkContext.parallelize(Seq(("a", 1), ("b", 2))).toDF("k", "v")
        big.join(rdd, "k").write.parquet("s3://2")
      }
    }
"""


def spk002_lines(project: Path) -> list[tuple[str, int, str]]:
    run = run_cli("check", str(project), "--no-cache", "--exit-zero", "--output-format", "json", "--select", "SPK002")
    assert run.exit_code == 0, run.stderr
    return sorted((f["location"]["path"], f["location"]["line"], f["message"]) for f in run.json()["findings"])


def test_scala_local_rows_are_broadcast_by_spark_and_rdd_rows_are_not(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"Job.scala": SCALA_JOB})
    ((path, line, message),) = spk002_lines(project)
    assert (path, line) == ("Job.scala", 12)
    assert "Spark cannot estimate the size of local data sent through an RDD" in message


@pytest.mark.parametrize(("files", "where"), [
    ({"pyproject.toml": '[tool.sparklint]\nspark-conf = { "spark.sql.autoBroadcastJoinThreshold" = -1 }\n'},
     "`[tool.sparklint] spark-conf` sets `spark.sql.autoBroadcastJoinThreshold=-1`"),
    ({"conf/spark-defaults.conf": "spark.master yarn\nspark.sql.autoBroadcastJoinThreshold  -1\n"},
     "conf/spark-defaults.conf:2 sets `spark.sql.autoBroadcastJoinThreshold=-1`"),
    ({"bin/submit.sh": "spark-submit --conf spark.sql.autoBroadcastJoinThreshold=-1 --class Job app.jar\n"},
     "`--conf` in bin/submit.sh:1 sets `spark.sql.autoBroadcastJoinThreshold=-1`"),
])
def test_a_side_spark_sizes_is_reported_where_the_project_switches_auto_broadcast_off(
        tmp_path: Path, files: dict[str, str], where: str) -> None:
    marker = files.pop("pyproject.toml", "[tool.sparklint]\n")
    project = write_project(tmp_path / "p", {"Job.scala": SCALA_JOB, **files}, marker=marker)
    found = spk002_lines(project)
    assert [(path, line) for path, line, _ in found] == [("Job.scala", 10), ("Job.scala", 12)]
    assert where in found[0][2]


def test_adaptive_execution_allowed_to_broadcast_keeps_it_silent(tmp_path: Path) -> None:
    conf = ('[tool.sparklint]\nspark-conf = { "spark.sql.autoBroadcastJoinThreshold" = -1, '
            '"spark.sql.adaptive.autoBroadcastJoinThreshold" = "10m" }\n')
    project = write_project(tmp_path / "p", {"Job.scala": SCALA_JOB}, marker=conf)
    assert [(path, line) for path, line, _ in spk002_lines(project)] == [("Job.scala", 12)]
