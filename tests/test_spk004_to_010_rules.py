"""SPK004 (collect-to-driver), SPK007 (cartesian-join), SPK008 (count-for-emptiness),
SPK009 (schema-inference-on-read), SPK010 (partitioned-write-scatter):
annotated projects in both languages, reached across files; the `test-paths` setting; and what
real PySpark does, which the rules' messages claim."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, assert_marked, check_files, measurement, run_cli, write_project

from sparklint.checks.common import is_test_path
from sparklint.settings import DEFAULT_TEST_PATHS

CASES = {
    "collect of a read, two files away": {
        "jobs/main.py": """
            from lib.local import rows, bounded

            def main(spark):
                orders = spark.read.parquet("s3://orders")
                rows(orders.where("amount > 10"))
                rows(spark.createDataFrame([(1,)], ["id"]))
                bounded(orders)

            if __name__ == "__main__":
                main(None)
        """,
        "lib/local.py": """
            import pyspark.sql.functions as F

            def rows(df):
                return df.collect()  # expect: SPK004

            def bounded(df):
                a = df.limit(5).collect()
                b = df.select(F.max("amount")).collect()
                c = df.groupBy().agg(F.sum("amount")).collect()
                d = df.select("status").distinct().collect()
                e = df.take(3)
                f = df.rdd.map(lambda r: (r[0], 1)).reduceByKey(lambda a, b: a + b).collect()
                return a, b, c, d, e, f
        """,
    },
    "toPandas and toLocalIterator of tables": {
        "job.py": """
            def main(spark):
                spark.table("sales.orders").toPandas()  # expect: SPK004
                for row in spark.read.json("s3://x", schema="id INT").toLocalIterator():  # expect: SPK004
                    print(row)
                spark.sql("SELECT 1 AS one").collect()
        """,
    },
    "unknown origin is silent": {
        "lib.py": """
            def dump(df):
                return df.collect()
        """,
    },
    "count compared with zero, across files": {
        "jobs/main.py": """
            from lib.gates import gate

            def main(spark):
                df = spark.read.parquet("s3://x")  # expect: SPK006
                if df.count() == 0:  # expect: SPK008
                    return
                while 0 < df.count():  # expect: SPK008
                    print("waiting")
                if df.count() >= 1 and df.count() != 2:  # expect: SPK008
                    print("some")
                gate(df)
        """,
        "lib/gates.py": """
            def gate(df):
                if not df.rdd.count():  # expect: SPK008
                    return
                n = df.count()
                if n == 0:
                    return
                if df.count() > 10:
                    print("big")
                if df.head(1):
                    print("some")
        """,
    },
    "count in an elif, evaluated only where the conditions before it fail": {
        "jobs/publish.py": """
            import sys

            def publish(df, mode):
                if mode == "full":
                    df.write.parquet("s3://full")
                elif df.count() == 0:  # expect: SPK008
                    print("nothing")

            def main(spark):
                publish(spark.read.parquet("s3://x"), sys.argv[1])
                publish(spark.read.parquet("s3://y"), "full")
        """,
    },
    "an RDD's join matches keys; a DataFrame's join without a condition is a product": {
        "jobs/joins.py": """
            def main(spark):
                sc = spark.sparkContext
                clicks = sc.textFile("s3://clicks").map(lambda line: (line.split(",")[0], 1))
                users = sc.textFile("s3://users").map(lambda line: (line.split(",")[0], line))
                clicks.join(users).saveAsTextFile("s3://joined")
                left = spark.read.parquet("s3://left")
                right = spark.read.parquet("s3://right")
                left.join(right).write.parquet("s3://product")  # expect: SPK007
        """,
        "src/main/scala/jobs/Joins.scala": """
            package jobs

            import org.apache.spark.sql.SparkSession

            object Joins {
              def main(args: Array[String]): Unit = {
                val sc = SparkSession.builder().getOrCreate().sparkContext
                val clicks = sc.textFile("s3://clicks").map(l => (l.split(",")(0), 1L))
                val users = sc.textFile("s3://users").map(l => (l.split(",")(0), l))
                clicks.join(users).saveAsTextFile("s3://joined")
              }
            }
        """,
    },
    "a module written for Snowpark, whose DataFrames look like Spark's, is silent (capitalone/datacompy)": {
        "compare/snow.py": """
            from snowflake.snowpark import Session
            from snowflake.snowpark.functions import col

            def suffixed(df, suffix):
                for name in df.columns:
                    df = df.withColumnRenamed(name, name + suffix)
                return df

            def main():
                session = Session.builder.create()
                orders = suffixed(session.table("ORDERS"), "_L")
                if orders.where(col("AMOUNT_L") < 0).count() > 0:
                    raise ValueError("negative amounts")
                print(orders.collect())
        """,
        "compare/spark.py": """
            from pyspark.sql import SparkSession
            from pyspark.sql.functions import col

            def suffixed(df, suffix):
                for name in df.columns:  # expect: SPK005
                    df = df.withColumnRenamed(name, name + suffix)
                return df

            def main():
                spark = SparkSession.builder.getOrCreate()
                orders = suffixed(spark.table("orders"), "_l")
                if orders.where(col("amount_l") < 0).count() > 0:  # expect: SPK008
                    raise ValueError("negative amounts")
                print(orders.collect())  # expect: SPK004
        """,
    },
    "count on unknown Python values is silent": {
        "lib.py": """
            def gate(query):
                if query.count() == 0:
                    return
        """,
    },
    "inference on reads across files": {
        "jobs/main.py": """
            from lib.readers import read_csv, read_json

            def main(spark):
                read_csv(spark, "s3://a").write.parquet("s3://b")
                read_json(spark, "s3://c").write.parquet("s3://d")
                spark.read.csv("s3://e", inferSchema=True)  # expect: SPK009
                spark.read.options(inferSchema="true").csv("s3://e")  # expect: SPK009
                spark.read.load("s3://f", format="json")  # expect: SPK009
                spark.read.csv("s3://g", "id INT", inferSchema=True)
                spark.read.json("s3://h", samplingRatio=0.1)
                spark.read.option("samplingRatio", "1.0").json("s3://i")  # expect: SPK009
                spark.read.csv("s3://j", header=True)
                spark.readStream.json("s3://k")
                spark.read.json(spark.sparkContext.parallelize(['{"a": 1}']))
                spark.read.json(spark.sparkContext.textFile("s3://l"))  # expect: SPK009
        """,
        "lib/readers.py": """
            def read_csv(spark, path):
                return spark.read.format("csv").option("inferSchema", True).load(path)  # expect: SPK009

            def read_json(spark, path, schema=None):
                return spark.read.json(path, schema=schema)  # expect: SPK009
        """,
    },
}

CASES["a per-partition aggregate by mapPartitions is bounded (mahmoudparsian/pyspark-algorithms)"] = {
    "jobs/minmax.py": """
        def minmax(partition):
            try:
                first = next(partition)
            except StopIteration:
                return [(1, -1, 0)]
            count = 1
            for _ in partition:
                count += 1
            return [(first, first, count)]

        def passthrough(partition):
            for row in partition:
                yield row

        def every_row(partition):
            return [row for row in partition]

        def main(spark):
            rdd = spark.sparkContext.textFile("s3://numbers")  # expect: SPK006
            rdd.mapPartitions(minmax).collect()
            rdd.mapPartitions(lambda it: [sum(1 for _ in it)]).collect()
            rdd.mapPartitionsWithIndex(lambda index, it: [(index, 1)]).collect()
            rdd.mapPartitions(passthrough).collect()  # expect: SPK004
            rdd.mapPartitions(every_row).collect()  # expect: SPK004
            rdd.mapPartitions(lambda it: it).collect()  # expect: SPK004
    """,
}
CASES["JSON written in Scala code, as a list or cons cells (spark-examples/spark-scala-examples)"] = {
    "src/main/scala/jobs/ReadJson.scala": """
        package jobs

        import org.apache.spark.sql.SparkSession

        object ReadJson {
          def main(args: Array[String]): Unit = {
            val spark = SparkSession.builder.getOrCreate()
            import spark.implicits._
            spark.read.json(spark.sparkContext.parallelize(\"\"\" {"Zipcode":704} \"\"\" :: Nil)).show()
            spark.read.json(spark.sparkContext.parallelize("{}" :: "{}" :: Nil)).show()
            spark.read.json(Seq("{}").toDS()).show()
            spark.read.json(spark.sparkContext.parallelize(List("{}", "{}"))).show()
            spark.read.json(spark.sparkContext.parallelize(args.head :: args.toList)).show()  // expect: SPK009
            spark.read.json("s3://x").show()  // expect: SPK009
          }
        }
    """,
}
CASES["scatter before a partitioned write, across files"] = {
    "jobs/main.py": """
        import pyspark.sql.functions as F
        from lib.sink import write_daily, write_own

        def main(spark, n):
            df = spark.read.parquet("s3://x")
            write_daily(df.repartition(200))  # expect: SPK010
            write_daily(df.repartition(64, "user_id"))  # expect: SPK010
            write_daily(df.repartition("day"))
            write_daily(df.repartition(300, F.col("day")))
            write_daily(df.repartition(n))
            write_daily(df.repartition(200).groupBy("day", "user_id").count())
            df.repartition(200).write.parquet("s3://unpartitioned")
            df.repartition(200).writeTo("lake.t").append()
            write_own(df)
    """,
    "lib/sink.py": """
        def write_daily(df):
            df.write.partitionBy("day").mode("append").parquet("s3://daily")

        def write_own(df):
            df.repartition(500).write.partitionBy(["day", "hour"]).parquet("s3://hourly")  # expect: SPK010
    """,
}
CASES["joins without a condition, across files"] = {
    "jobs/main.py": """
        from pyspark.sql import functions as F
        from lib.pairs import pair

        def main(spark):
            a = spark.read.parquet("s3://a")
            b = spark.table("db.b")
            pair(a, b)
            pair(a, spark.range(10))
            pair(a, F.broadcast(b))
            pair(a, b.limit(5))
            pair(spark.createDataFrame([(1,), (2,)], ["x"]), b)
            a.join(b).write.parquet("s3://c")  # expect: SPK007
            a.join(b, "id").write.parquet("s3://d")
            a.join(b, a.id == b.id, "left").write.parquet("s3://e")
            a.join(b, how="cross").write.parquet("s3://f")  # expect: SPK007
    """,
    "lib/pairs.py": """
        def pair(left, right):
            return left.crossJoin(right).write.parquet("s3://pairs")  # expect: SPK007
    """,
}
CASES["joins whose condition never relates the sides, across files"] = {
    "jobs/main.py": """
        from pyspark.sql import functions as F
        from pyspark.sql.functions import col, expr
        from lib.pairs import keep_big, unrelated

        def main(spark):
            a = spark.read.parquet("s3://a")
            b = spark.table("db.b")
            a.join(b, a.x > 5).write.parquet("s3://c1")  # expect: SPK007
            a.join(b, F.lit(True)).write.parquet("s3://c2")  # expect: SPK007
            a.join(b, b.y == 1).write.parquet("s3://c3")  # expect: SPK007
            a.join(b, expr("1 = 1"), "left").write.parquet("s3://c4")  # expect: SPK007
            a.join(b, [a["x"] > 5, b["y"] < 3]).write.parquet("s3://c5")  # expect: SPK007
            keep_big(a, b)
            unrelated(a, b, a.x.isNotNull() & (a.x < 9))
            # traps: the condition relates the sides, or a side cannot be told
            a.join(b, a.id == b.id).write.parquet("s3://t1")
            a.join(b, a.id < b.other).write.parquet("s3://t2")
            a.join(b, (a.x > 5) & (a.id == b.id)).write.parquet("s3://t3")
            a.join(b, (a.x > 5) | (b.y > 1)).write.parquet("s3://t4")
            a.join(b, col("x") > 5).write.parquet("s3://t5")
            a.join(b, expr("x = 1")).write.parquet("s3://t6")
            a.join(b, F.col("a.x") == F.col("b.x")).write.parquet("s3://t7")
            a.join(a.where(a.x > 1), a.x > 5).write.parquet("s3://t8")
            a.join(b, a.x > 5, "left_semi").write.parquet("s3://t9")
            a.join(b, a.x > 5, "leftanti").write.parquet("s3://t10")
            a.join(b, a.x > 5, spark.conf.get("join.type")).write.parquet("s3://t10b")
            a.join(b, F.max("x") > 5).write.parquet("s3://t10c")
            # traps: SQL text (sqlglot reads a join without ON, a LATERAL one too, as ON TRUE)
            spark.sql("SELECT * FROM db.big JOIN LATERAL explode(arr) t(v)").write.parquet("s3://t10d")
            spark.sql("SELECT * FROM db.big b JOIN db.other o ON 1 = 1").write.parquet("s3://t10e")
            # traps: a side known to be small
            a.join(F.broadcast(b), a.x > 5).write.parquet("s3://t11")
            a.join(b.limit(10), a.x > 5).write.parquet("s3://t12")
            a.join(spark.range(7), a.x > 5).write.parquet("s3://t13")
    """,
    "lib/pairs.py": """
        def keep_big(left, right):
            return left.join(right, left.amount > 1000).write.parquet("s3://big")  # expect: SPK007

        def unrelated(left, right, condition):
            return left.join(right, condition).write.parquet("s3://unrelated")  # expect: SPK007
    """,
}
CASES["a condition built in one place from different DataFrames is two calling contexts"] = {
    "job.py": """
        from lib.pairs import cond, keep

        def main(spark):
            a = spark.read.parquet("s3://a")
            b = spark.table("db.b")
            keep(a, b, cond(spark.table("db.c")))  # a column of neither side: silent
            keep(a, b, cond(a))  # the same condition, of the left side: not a memoised repeat

        if __name__ == "__main__":
            main(None)
    """,
    "lib/__init__.py": "",
    "lib/pairs.py": """
        def cond(df):
            return df.x > 5

        def keep(left, right, condition):
            left.join(right, condition).write.parquet("s3://k")  # expect: SPK007
    """,
}
CASES["small N is SPK001's"] = {
    "job.py": """
        def main(spark):
            spark.read.parquet("s3://x").repartition(8).write.partitionBy("day").parquet("s3://y")  # expect: SPK001
    """,
}

SCALA_CASES = {
    "scala: joins whose condition never relates the sides, across files": {
        "src/main/scala/jobs/Pairs.scala": """
            package jobs

            import org.apache.spark.sql.{DataFrame, SparkSession}
            import org.apache.spark.sql.functions._

            object Pairs {
              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                import spark.implicits._
                val a = spark.read.parquet("s3://a")
                val b = spark.table("db.b")
                a.join(b, a("x") === 1).write.parquet("s3://c1") // expect: SPK007
                a.join(b, lit(true)).write.parquet("s3://c2") // expect: SPK007
                a.join(b, b.col("y") > 3 && b("y") < 9).write.parquet("s3://c3") // expect: SPK007
                a.join(b, expr("1 = 1"), "left").write.parquet("s3://c4") // expect: SPK007
                keepBig(a, b)
                a.join(b, a("id") === b("id")).write.parquet("s3://t1")
                a.join(b, $"x" === 1).write.parquet("s3://t2")
                a.join(b, col("x") === 1).write.parquet("s3://t3")
                a.join(b, a("x") === 1 && a("id") === b("id")).write.parquet("s3://t4")
                a.join(b, Seq("id")).write.parquet("s3://t5")
                a.join(broadcast(b), a("x") === 1).write.parquet("s3://t6")
                a.join(b, a("x") === 1, "left_semi").write.parquet("s3://t7")
                a.join(b, Stream("key"), "left").write.parquet("s3://t8")
              }

              def keepBig(left: DataFrame, right: DataFrame): Unit =
                left.join(right, left("amount") > 1000).write.parquet("s3://big") // expect: SPK007
            }
        """,
    },
    "scala: collect, count and inference across files": {
        "src/main/scala/jobs/Main.scala": """
            package jobs

            import org.apache.spark.sql.SparkSession
            import lib.Helpers

            object Main {
              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                import spark.implicits._
                val orders = spark.read.option("inferSchema", "true").csv("s3://orders") // expect: SPK009, SPK006
                Helpers.dump(orders)
                Helpers.gate(orders)
                val typed = spark.read.schema("id INT").json("s3://events")
                typed.limit(10).collect().foreach(println)
                if (typed.count() > 0) { // expect: SPK008
                  println("events")
                }
                Helpers.daily(orders.repartition(200)) // expect: SPK010
                Helpers.daily(orders.repartition($"day"))
              }
            }
        """,
        "src/main/scala/lib/Helpers.scala": """
            package lib

            import org.apache.spark.sql.DataFrame

            object Helpers {
              def dump(df: DataFrame): Unit = df.select("id").collect.foreach(println) // expect: SPK004

              def daily(df: DataFrame): Unit = df.write.partitionBy("day").parquet("s3://daily")

              def gate(df: DataFrame): Unit = {
                if (df.count == 0) { // expect: SPK008
                  println("empty")
                }
                val n = df.count
                if (n > 0) {
                  println(n)
                }
                if (df.isEmpty) {
                  println("empty")
                }
              }
            }
        """,
    },
}


@pytest.mark.parametrize("name", sorted(CASES) + sorted(SCALA_CASES))
def test_case(name: str, tmp_path: Path) -> None:
    assert_marked(tmp_path / "project", {**CASES, **SCALA_CASES}[name])


TEST_CODE = {
    "tests/test_job.py": """
        def test_rows(spark):
            df = spark.read.option("inferSchema", "true").csv("data/x.csv")
            rows = df.collect()
            if df.count() == 0:
                print("empty")
    """,
    "src/test/scala/JobSpec.scala": """
        import org.apache.spark.sql.SparkSession

        object JobSpec {
          def run(spark: SparkSession): Unit = {
            spark.read.json("data/x.json").collect()
            spark.read.parquet("data/y").coalesce(1).write.parquet("out")
          }
        }
    """,
}


def _found(report: dict) -> set[tuple[str, int, str]]:
    return {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]}


def test_job_cost_rules_are_silent_in_test_code_by_default(tmp_path: Path) -> None:
    # SPK008 is not a job-cost rule: an emptiness test by count is slow in a test too
    assert _found(check_files(tmp_path / "project", TEST_CODE)) == {("tests/test_job.py", 4, "SPK008")}


def test_empty_test_paths_reports_test_code_too(tmp_path: Path) -> None:
    files = {**TEST_CODE, "pyproject.toml": "[tool.sparklint]\ntest-paths = []\n"}
    write_project(tmp_path / "project", files)
    run = run_cli("check", "--output-format", "json", "--exit-zero", "--no-cache", str(tmp_path / "project"))
    assert _found(run.json()) == {
        ("tests/test_job.py", 2, "SPK009"), ("tests/test_job.py", 2, "SPK006"), ("tests/test_job.py", 3, "SPK004"),
        ("tests/test_job.py", 4, "SPK008"),
        ("src/test/scala/JobSpec.scala", 5, "SPK009"), ("src/test/scala/JobSpec.scala", 5, "SPK004"),
        ("src/test/scala/JobSpec.scala", 6, "SPK001"),
    }


def test_a_collect_in_job_code_of_data_read_in_a_test_is_not_reported(tmp_path: Path) -> None:
    files = {
        "lib/local.py": """
            def rows(df):
                return df.collect()
        """,
        "tests/test_local.py": """
            from lib.local import rows

            def test_rows(spark):
                assert rows(spark.read.parquet("data/x")) == []
        """,
    }
    assert _found(check_files(tmp_path / "project", files)) == set()


def test_a_collect_after_a_filter_says_it_brings_the_rows_that_pass_it(tmp_path: Path) -> None:
    files = {
        "src/main/scala/repo/Metrics.scala": """
            package repo

            import org.apache.spark.sql.SparkSession
            import org.apache.spark.sql.functions.col

            class Metrics(spark: SparkSession) {
              def byKey(key: String) = spark.table("metrics").filter(col("key") === key).collect()
              def all() = spark.table("metrics").collect()
            }
        """,
    }
    messages = {f["location"]["line"]: (f["message"], [step["message"] for step in f["chain"]])
                for f in check_files(tmp_path / "project", files)["findings"]}
    filtered, plain = messages[7], messages[8]
    assert "brings every row that passes its filters into the driver" in filtered[0]
    assert "`collect()` sends every row that passes its filters to the driver" in filtered[1]
    assert "brings every row into the driver" in plain[0] and "filters" not in " ".join(plain[1])


def test_test_paths_must_be_a_list_of_strings(tmp_path: Path) -> None:
    write_project(tmp_path / "project", {"job.py": "", "pyproject.toml": "[tool.sparklint]\ntest-paths = 3\n"})
    run = run_cli("check", "--no-cache", str(tmp_path / "project"))
    assert run.exit_code == 2 and "test-paths" in run.stderr


@pytest.mark.parametrize("path, expected", [
    ("tests/a.py", True), ("pkg/tests/x/y.py", True), ("test_a.py", True), ("a/b_test.py", True),
    ("src/test/scala/A.scala", True), ("a/FooSpec.scala", True), ("a/BarSuite.scala", True),
    ("jobs/main.py", False), ("contest.py", False), ("latest/a.py", False), ("src/main/A.scala", False),
    ("testing/a.py", False),
])
def test_default_test_paths(path: str, expected: bool) -> None:
    assert is_test_path(path, DEFAULT_TEST_PATHS) is expected


# ---------------------------------------------------------------- what Spark does

SCRIPT = REPO_ROOT / "tests" / "data" / "new_rules_evidence" / "measure.py"


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict:
    return measurement(SCRIPT, tmp_path_factory)


@pytest.mark.slow
def test_schema_inference_reads_the_whole_input_before_the_query(measured: dict) -> None:
    """SPK009: the read alone runs a job over every partition (CSV: after a 1-task header job);
    with a schema, no job runs until an action."""
    jobs = measured["read_jobs"]
    assert jobs["csv-schema"] == [] and jobs["json-schema"] == []
    assert jobs["csv-infer"][-1] == jobs["csv-scan"][0] > 1
    assert jobs["json-infer"] == jobs["json-scan"] and jobs["json-scan"][0] > 1


@pytest.mark.slow
def test_count_reads_every_row_where_isempty_and_head_read_a_batch(measured: dict) -> None:
    """SPK008: `count()` reads all 800,000 rows; `isEmpty()` one batch per partition (the
    parquet reader's 4,096 rows), `head(1)` one batch."""
    rows = measured["emptiness_rows"]
    assert rows["count"] == 800_000
    assert rows["isEmpty"] <= rows["count"] / 10 and rows["head1"] <= rows["isEmpty"]


@pytest.mark.slow
def test_collect_of_a_large_result_fails_on_max_result_size_and_limit_does_not(measured: dict) -> None:
    """SPK004: every row travels to the driver, and past `spark.driver.maxResultSize` the job fails."""
    assert measured["collected_rows"] == "maxResultSize"
    assert measured["limited_rows"] == 20


@pytest.mark.slow
def test_a_round_robin_repartition_writes_a_file_per_task_and_partition_value(measured: dict) -> None:
    """SPK010: 12 partitions, 5 day values: 60 files round-robin or hashed by another column,
    5 when repartitioned by the partition column."""
    assert measured["partitioned_files"] == {"round-robin": 60, "by-column": 5, "by-other-column": 60}


@pytest.mark.slow
def test_a_join_without_a_condition_is_a_cartesian_product(measured: dict) -> None:
    """SPK007: two 1,000-row reads joined with no condition give 1,000,000 rows, broadcast
    (nested loop) under the threshold, a cartesian product without it."""
    assert measured["cartesian"] == {"10485760": ["BroadcastNestedLoopJoin", 1_000_000],
                                     "-1": ["CartesianProduct", 1_000_000]}


CONDITIONS_SCRIPT = REPO_ROOT / "tests" / "data" / "new_rules_evidence" / "cartesian_conditions.py"


@pytest.fixture(scope="module")
def condition_plans(tmp_path_factory) -> dict:
    pytest.importorskip("pyspark")
    work = tmp_path_factory.mktemp("conditions")
    run = subprocess.run([sys.executable, str(CONDITIONS_SCRIPT), str(work)], capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_condition_that_never_relates_the_sides_plans_a_cartesian_product(condition_plans: dict) -> None:
    """SPK007's new case, with two 1,000-row parquet reads (8 KiB each): a condition on one side
    only (or none) is pushed into the sides and the join runs as a BroadcastNestedLoopJoin under
    Spark's broadcast threshold, a CartesianProduct without it (an outer join: a nested loop
    either way); the rows are every pair that passes the filter. An equi-join is a hash or
    sort-merge join; a range condition relating the sides is a nested loop too (SPK007 leaves it:
    it relates the sides)."""
    plans = condition_plans["plans"]
    product = {"a.x > 5": 400_000, "lit(True)": 1_000_000, "b.y == 1": 100_000, "expr('1 = 1')": 1_000_000}
    for name, rows in product.items():
        assert plans["10485760"][name] == ["BroadcastNestedLoopJoin", rows]
        assert plans["-1"][name] == ["CartesianProduct", rows]
    assert plans["10485760"]["a.x > 5, left"] == plans["-1"]["a.x > 5, left"] == ["BroadcastNestedLoopJoin", 400_600]
    assert plans["10485760"]["a.id == b.other"] == ["BroadcastHashJoin", 1000]
    assert plans["-1"]["a.id == b.other"] == ["SortMergeJoin", 1000]
    assert plans["-1"]["a.id < b.other"] == ["CartesianProduct", 499_500]


@pytest.mark.slow
def test_cross_join_enabled_false_refuses_a_condition_that_never_relates_the_sides(condition_plans: dict) -> None:
    """`spark.sql.crossJoin.enabled` is true by default since Spark 3.0; set to false, Spark
    refuses such a join ("Detected implicit cartesian product"), and still runs an equi-join."""
    assert condition_plans["refused_without_crossJoin_enabled"] == {"a.x > 5": True, "lit(True)": True,
                                                                   "a.id == b.other": False}
