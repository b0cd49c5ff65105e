"""Name resolution and dataflow across files, semgrep-style: each case is a small project whose
lines carry `# expect: SPKnnn` where a finding must be, and nothing else may be reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_marked, check_files, run_cli, write_project

CASES: dict[str, dict[str, str]] = {
    "aliased dotted import and module constant": {
        "lake/__init__.py": "",
        "lake/sink.py": """
            PARTS = 2

            def save(df, path):
                df.coalesce(PARTS).write.parquet(path)  # expect: SPK001
        """,
        "job.py": """
            import lake.sink as sink

            def main(spark):
                sink.save(spark.read.parquet("s3://in"), "s3://out")
        """,
    },
    "plain dotted import": {
        "lake/__init__.py": "",
        "lake/sink.py": """
            def save(df, parts):
                df.coalesce(parts).write.parquet("s3://out")  # expect: SPK001
        """,
        "job.py": """
            import lake.sink

            def main(spark):
                lake.sink.save(spark.table("raw.events"), 3)
        """,
    },
    "relative imports and a re-export in __init__": {
        "app/__init__.py": "",
        "app/lake/__init__.py": "from .tables import write_table\n",
        "app/lake/tables.py": """
            from . import compact

            def write_table(df, table):
                compact.write(df, table)
        """,
        "app/lake/compact.py": """
            from ..settings import WRITE_TASKS

            def write(df, table):
                df.coalesce(WRITE_TASKS // 2).writeTo(table).append()  # expect: SPK001
        """,
        "app/settings.py": "WRITE_TASKS = 8\n",
        "app/jobs/__init__.py": "",
        "app/jobs/run.py": """
            from app.lake import write_table

            def run(spark):
                write_table(spark.table("raw.x"), "lake.y")
        """,
    },
    "class constant through self and a constructor argument": {
        "sinks.py": """
            class Exporter:
                PARTS = 4

                def __init__(self, spark, files=1):
                    self.spark = spark
                    self.files = files

                def export(self, df):
                    df.coalesce(self.PARTS).write.json("s3://a")  # expect: SPK001

                def single(self, df):
                    self._write(df.coalesce(self.files))  # expect: SPK001

                def _write(self, df):
                    df.write.csv("s3://b")
        """,
        "job.py": """
            from sinks import Exporter

            def main(spark):
                df = spark.read.parquet("s3://in")
                Exporter(spark).export(df)
                Exporter(spark, files=2).single(df)
        """,
    },
    "value returned across files then written elsewhere": {
        "shrink.py": """
            def shrink(df, n=2):
                return df.filter("x > 0").coalesce(n)  # expect: SPK001
        """,
        "write.py": """
            def publish(df):
                df.write.mode("overwrite").partitionBy("day").parquet("s3://out")
        """,
        "job.py": """
            from shrink import shrink
            from write import publish

            def main(spark):
                publish(shrink(spark.read.parquet("s3://in")))
        """,
    },
    "transform with a helper": {
        "job.py": """
            def narrow(df):
                return df.coalesce(1)  # expect: SPK001

            def main(spark):
                spark.read.parquet("s3://in").transform(narrow).write.parquet("s3://out")
        """,
    },
    "unknown partition counts and shuffles after coalesce stay silent": {
        "job.py": """
            import os
            import sys

            def main(spark):
                df = spark.read.parquet("s3://in")
                df.coalesce(int(sys.argv[1])).write.parquet("s3://a")
                df.coalesce(int(os.environ["PARTS"])).write.parquet("s3://b")
                df.coalesce(2).repartition(200).write.parquet("s3://c")
                df.coalesce(2).groupBy("k").count().write.parquet("s3://d")
                df.coalesce(2).orderBy("k").write.parquet("s3://e")
                df.coalesce(400).write.parquet("s3://f")
                df.coalesce(2).count()
        """,
    },
    "F.coalesce is a column expression": {
        "job.py": """
            import pyspark.sql.functions as F
            from pyspark.sql.functions import coalesce, col, lit

            def main(spark):
                df = spark.read.parquet("s3://in")
                df.select(F.coalesce(F.col("a"), F.lit(0)).alias("a")).write.parquet("s3://out")
                df.withColumn("b", coalesce(col("b"), lit(""))).write.parquet("s3://out2")
        """,
    },
    "src layout": {
        "src/shop/__init__.py": "",
        "src/shop/io.py": """
            def save(df):
                df.coalesce(1).write.csv("s3://out")  # expect: SPK001
        """,
        "src/shop/job.py": """
            from shop.io import save

            if __name__ == "__main__":
                from pyspark.sql import SparkSession
                spark = SparkSession.builder.getOrCreate()
                save(spark.read.json("s3://in"))  # expect: SPK009
        """,
    },
    "small sides and join types": {
        "job.py": """
            import pyspark.sql.functions as F

            def main(spark):
                big = spark.read.parquet("s3://events")
                dim = spark.createDataFrame([("a", 1), ("b", 2)], ["k", "v"])
                big.join(dim, "k").write.parquet("s3://1")  # expect: SPK002
                dim.join(big, "k").write.parquet("s3://2")  # expect: SPK002
                dim.join(big, "k", "left").write.parquet("s3://3")
                big.join(dim, "k", how="left_anti").write.parquet("s3://4")  # expect: SPK002
                big.join(dim.hint("broadcast"), "k").write.parquet("s3://5")
                big.join(F.broadcast(dim), "k").write.parquet("s3://6")
                big.join(dim, "k", "full_outer").write.parquet("s3://7")
                big.join(spark.range(100).withColumnRenamed("id", "k"), "k").write.parquet("s3://8")  # Spark sizes a range
                big.join(spark.table("dim.country"), "k").write.parquet("s3://9")
                big.join(big.limit(5), "k").write.parquet("s3://10")  # and a limit: it broadcasts them
                big.join(dim.join(big, "k"), "k").write.parquet("s3://11")  # expect: SPK002
        """,
    },
    "sides Spark sizes itself count once the job switches auto-broadcast off": {
        "job.py": """
            from pyspark.sql import SparkSession

            def main():
                spark = SparkSession.builder.config("spark.sql.autoBroadcastJoinThreshold", "-1").getOrCreate()
                big = spark.read.parquet("s3://events")
                big.join(spark.range(100).withColumnRenamed("id", "k"), "k").write.parquet("s3://8")  # expect: SPK002
                big.join(big.limit(5), "k").write.parquet("s3://10")  # expect: SPK002
        """,
    },
    "auto-broadcast switched off by a test's own session is no setting of the jobs (microsoft/hyperspace)": {
        "jobs/prune.py": """
            from pyspark.sql import SparkSession

            def prune(removed_ids):
                spark = SparkSession.builder.getOrCreate()
                removed = spark.range(100).withColumnRenamed("id", "k")
                spark.read.parquet("s3://events").join(removed, "k", "left_anti").write.parquet("s3://kept")
        """,
        "tests/test_plans.py": """
            from pyspark.sql import SparkSession

            def test_sort_merge_plans_only():
                spark = SparkSession.builder.getOrCreate()
                spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
                assert spark.range(3).count() == 3
        """,
        "tests/spark-defaults.conf": "spark.sql.autoBroadcastJoinThreshold -1\n",
    },
    "empty-string keys: windows, joins, when/otherwise; normalised and numeric keys stay silent": {
        "keys.py": """
            import pyspark.sql.functions as F
            from pyspark.sql.window import Window

            KEY = "visitor"

            def keyed(df):
                return df.withColumn(KEY, F.coalesce("uid", F.col("cookie"), F.lit("anon")))

            def by_when(df):
                uid = F.col("uid")
                return df.withColumn("k2", F.when(uid.isNull(), F.col("cookie")).otherwise(uid))

            def main(spark):
                df = keyed(spark.read.parquet("s3://in"))
                w = Window.partitionBy(KEY).orderBy("ts")  # expect: SPK003
                df.withColumn("n", F.row_number().over(w)).write.parquet("s3://a")
                df.join(spark.table("x"), KEY).write.parquet("s3://b")  # expect: SPK003
                by_when(df).groupBy("k2").count().write.parquet("s3://c")  # expect: SPK003
                clean = df.filter(F.col("uid") != "").filter(F.col("cookie") != "")
                clean.withColumn("k3", F.coalesce("uid", "cookie", F.lit("anon"))).groupBy("k3").count().show()
                df.withColumn("k4", F.coalesce(F.col("n1"), F.lit(0))).groupBy("k4").count().show()
                df.withColumn("k5", F.coalesce(F.nullif("uid", F.lit("")), F.lit("anon"))).dropDuplicates(["k5"]).show()
                # before a literal fallback only, "" is one constant key like the fallback: no added skew
                df.groupBy(F.coalesce(F.col("region"), F.lit("unknown")).alias("region")).count().show()
        """,
    },
    "a job-cost finding whose chain starts in a test is the test's (mrpowers-io/spark-daria)": {
        "src/main/scala/daria/ParquetCompactor.scala": """
            package daria

            import org.apache.spark.sql.{SaveMode, SparkSession}

            class ParquetCompactor(dirname: String, numOutputFiles: Int) {
              def run(spark: SparkSession): Unit =
                spark.read.parquet(dirname).coalesce(numOutputFiles).write.mode(SaveMode.Append).parquet(dirname)
            }

            class Nightly(dirname: String, numOutputFiles: Int) {
              def run(spark: SparkSession): Unit =
                spark.read.parquet(dirname).coalesce(numOutputFiles).write.parquet(dirname + "-out")  // expect: SPK001
            }

            object NightlyJob {
              def main(args: Array[String]): Unit =
                new Nightly(args(0), numOutputFiles = 2).run(SparkSession.builder.getOrCreate())
            }

            // only a test builds it, but the library's own default says 10 (awslabs/deequ)
            class HdfsStateProvider(location: String, numPartitionsForHistogram: Int = 10) {
              def persist(frequencies: org.apache.spark.sql.DataFrame): Unit =
                frequencies.coalesce(numPartitionsForHistogram).write.parquet(location)  // expect: SPK001
            }
        """,
        "src/test/scala/daria/ParquetCompactorTest.scala": """
            package daria

            import org.apache.spark.sql.SparkSession
            import org.scalatest.funsuite.AnyFunSuite

            class ParquetCompactorTest extends AnyFunSuite {
              lazy val spark: SparkSession = SparkSession.builder().master("local").getOrCreate()

              test("compacts") { new ParquetCompactor("/tmp/p", numOutputFiles = 10).run(spark) }
              test("nightly") { new Nightly("/tmp/n", numOutputFiles = 1).run(spark) }
            }
        """,
        "lib/compact.py": """
            def compact(df, files, out):
                df.coalesce(files).write.parquet(out)

            class Sink:
                def __init__(self, out, files=1):
                    self.out = out
                    self.files = files

                def write(self, df):
                    df.coalesce(self.files).write.parquet(self.out)  # expect: SPK001
        """,
        "tests/test_compact.py": """
            from lib.compact import compact

            def test_compact(spark):
                compact(spark.read.parquet("/tmp/in"), 1, "/tmp/out")
        """,
    },
    "a test's own rows are no small side of the job's join (digital-land/pyspark-jobs)": {
        "src/jobs/transform.py": """
            def join_organisation(df, organisation_df):
                return df.join(organisation_df, df.organisation == organisation_df.organisation, "left")

            def join_codes(df, codes):
                return df.join(codes, "code", "left")  # expect: SPK002

            def run(spark, path):
                organisations = spark.read.option("header", "true").csv("s3://organisations.csv")
                codes = spark.createDataFrame([("a", 1)], ["code", "label"])
                events = spark.read.parquet(path)
                join_codes(join_organisation(events, organisations), codes).write.parquet("s3://out")
        """,
        "tests/test_transform.py": """
            from src.jobs.transform import join_organisation

            def test_point_preserved(spark):
                df = spark.read.parquet("s3://sample")
                organisations = spark.createDataFrame([{"organisation": "x", "entity": "100"}])
                rows = join_organisation(df, organisations).collect()
                assert len(rows) == 1
        """,
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(tmp_path: Path, name: str) -> None:
    assert_marked(tmp_path / "project", CASES[name])


def test_small_tables_from_configuration(tmp_path: Path) -> None:
    """Spark sizes a table scan itself and broadcasts a small one: a table listed as small
    matters where the job switches auto-broadcast off."""
    job = """
        def main(spark):
            spark.table("raw.events").join(spark.table("dim.country"), "k").write.parquet("s3://o")  # expect: SPK002
    """
    listed = '[tool.sparklint.missing-broadcast-hint]\nsmall-tables = ["dim.*"]\n'
    silent = check_files(tmp_path / "a", {"pyproject.toml": listed, "job.py": job})
    assert silent["findings"] == []
    disabled = '[tool.sparklint]\nspark-conf = { "spark.sql.autoBroadcastJoinThreshold" = "-1" }\n'
    report = assert_marked(tmp_path / "b", {"pyproject.toml": disabled + listed, "job.py": job})
    assert "table `dim.country` is listed in `small-tables`" in report["findings"][0]["message"]


def test_max_partitions_option(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": "[tool.sparklint.coalesce-before-write]\nmax-partitions = 64\n",
        "job.py": """
            def main(spark):
                spark.table("raw.events").coalesce(40).write.parquet("s3://o")  # expect: SPK001
        """,
    }
    assert_marked(tmp_path / "p", files)


def test_noqa_on_a_statement_and_unused_noqa(tmp_path: Path) -> None:
    files = {
        "job.py": """
            def main(spark):
                df = spark.table("raw.events")  # expect: SPK006
                (df.coalesce(1)
                   .write.csv("s3://single"))  # noqa: SPK001
                df.write.parquet("s3://x")  # noqa: SPK001  # expect: SPK100
                df.write.parquet("s3://y")  # noqa: E501
        """,
    }
    assert_marked(tmp_path / "p", files)


def test_bad_files_are_reported_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {
        "good.py": """
            def main(spark):
                spark.table("raw.events").coalesce(1).write.csv("s3://o")
        """,
        "broken.py": "def f(:\n    pass\n",
    })
    (root / "latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    run = run_cli("check", "--output-format", "json", "--exit-zero", "--no-cache", str(root))
    assert run.exit_code == 0
    found = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in run.json()["findings"]}
    assert found == {("good.py", 2, "SPK001"), ("broken.py", 1, "SPK000"), ("latin1.py", 1, "SPK000")}
    messages = {f["location"]["path"]: f["message"] for f in run.json()["findings"]}
    assert "not valid UTF-8" in messages["latin1.py"]


def test_a_method_chain_deeper_than_pythons_recursion_limit(tmp_path: Path) -> None:
    chain = "df" + '.filter("x > 0")' * 1200
    files = {"job.py": f'def main(spark):\n    df = spark.table("t")\n    out = {chain}\n    out.coalesce(1).write.csv("s3://x")  # expect: SPK001\n'}
    assert_marked(tmp_path / "p", files)


def test_keys_normalised_by_a_udf_or_an_unresolved_helper_stay_silent(tmp_path: Path) -> None:
    files = {"job.py": """
        import pyspark.sql.functions as F
        from pyspark.sql.types import StringType
        from company.udfs import blank_to_null

        clean = F.udf(lambda v: v or None, StringType())

        def main(spark):
            df = spark.table("raw.visits")
            df.withColumn("k", F.coalesce(clean("uid"), F.lit("anon"))).groupBy("k").count().show()
            df.withColumn("k2", F.coalesce(blank_to_null("uid"), F.lit("anon"))).groupBy("k2").count().show()
    """}
    assert_marked(tmp_path / "p", files)


def test_scala_project_wildcard_wins_over_spark_functions_wildcard(tmp_path: Path) -> None:
    files = {
        "build.sbt": "",
        "src/main/scala/com/acme/common/Syntax.scala": """
            package com.acme.common

            import org.apache.spark.sql.Column
            import org.apache.spark.sql.functions._

            object Syntax {
              def blankToNull(name: String): Column = when(trim(col(name)) =!= "", col(name))
            }
        """,
        "src/main/scala/com/acme/x/Job.scala": """
            package com.acme.x

            import org.apache.spark.sql.SparkSession
            import org.apache.spark.sql.functions._
            import com.acme.common.Syntax._

            object Job {
              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                val df = spark.read.table("t")
                  .withColumn("k", coalesce(blankToNull("a"), blankToNull("b"), lit("unknown")))
                  .withColumn("raw", coalesce(col("a"), col("b"), lit("unknown")))
                df.groupBy(col("k")).count().write.saveAsTable("o")
                df.groupBy(col("raw")).count().write.saveAsTable("p") // expect: SPK003
              }
            }
        """,
    }
    report = check_files(tmp_path / "p", files)
    found = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]}
    assert found == {("src/main/scala/com/acme/x/Job.scala", 14, "SPK003")}


def test_scala_files_of_one_module_name_resolve_their_own_imports(tmp_path: Path) -> None:
    # Two sbt modules each with a package object of `com.acme.lake` (Spark has ten copies of
    # `org.apache.spark.package`): one imports the fast `save`, the other the slow one.
    package = """
        package com.acme

        import org.apache.spark.sql.DataFrame
        import com.acme.io.{speed}.save

        package object lake {{
          def persist{speed}(df: DataFrame): Unit = save(df, "{table}")
        }}
    """
    files = {
        "build.sbt": "",
        "core/src/main/scala/com/acme/io/Slow.scala": """
            package com.acme.io

            import org.apache.spark.sql.DataFrame

            object Slow {
              def save(df: DataFrame, table: String): Unit = df.coalesce(1).write.saveAsTable(table) // expect: SPK001
            }
        """,
        "core/src/main/scala/com/acme/io/Fast.scala": """
            package com.acme.io

            import org.apache.spark.sql.DataFrame

            object Fast {
              def save(df: DataFrame, table: String): Unit = df.write.saveAsTable(table)
            }
        """,
        "core/src/main/scala/com/acme/lake/package.scala": package.format(speed="Fast", table="fast"),
        "jobs/src/main/scala/com/acme/lake/package.scala": package.format(speed="Slow", table="slow"),
        "jobs/src/main/scala/com/acme/jobs/Nightly.scala": """
            package com.acme.jobs

            import org.apache.spark.sql.SparkSession
            import com.acme.lake._

            object Nightly {
              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                val df = spark.read.table("events")
                persistFast(df)
                persistSlow(df)
              }
            }
        """,
    }
    report = assert_marked(tmp_path / "p", files)
    [finding] = report["findings"]
    steps = [step["location"]["path"] for step in finding["chain"]]
    assert steps[0] == "jobs/src/main/scala/com/acme/jobs/Nightly.scala"
    assert "jobs/src/main/scala/com/acme/lake/package.scala" in steps


def test_noqa_inside_a_string_is_no_suppression(tmp_path: Path) -> None:
    files = {"job.py": '''
        """Mentions `# noqa: SPK001` in prose: neither a suppression nor an unused one."""

        def main(spark):
            spark.table("raw.events").coalesce(1).write.csv("s3://o")  # expect: SPK001
            print("# noqa: SPK002")
    '''}
    assert_marked(tmp_path / "p", files)


AUDIT_CASES: dict[str, dict[str, str]] = {
    # Found by running sparklint on public Spark repositories; minimal code of our own.
    "a coalesce on one branch of an if or a conditional expression still reaches the write": {
        "job.py": """
            def export(df, single):
                if single:
                    out = df.coalesce(1)  # expect: SPK001
                else:
                    out = df
                out.write.parquet("s3://a")

            def export2(df, single):
                out = df.coalesce(1) if single else df  # expect: SPK001
                out.write.parquet("s3://b")
        """,
    },
    "a side small on one path only is not provably small": {
        "job.py": """
            def lookup(spark, enabled):
                if not enabled:
                    return spark.createDataFrame([("x", 1)], ["k", "v"])
                return spark.table("ref.lookup")

            def countries(spark, local):
                rows = spark.createDataFrame([("DE", "Germany")], ["k", "v"]) if local else spark.table("dim.c")
                return rows

            def main(spark, enabled, local):
                events = spark.table("raw.events")
                events.join(lookup(spark, enabled), "k").write.parquet("s3://a")
                events.join(countries(spark, local), "k").write.parquet("s3://b")
        """,
    },
    "an empty literal side and a join without equality keys are no shuffle joins": {
        "job.py": """
            def main(spark, schema):
                events = spark.table("raw.events")
                empty = spark.createDataFrame([], schema)
                events.join(empty, "k").write.parquet("s3://a")
                tiny = spark.createDataFrame([("a", 1)], ["k", "v"])
                events.join(tiny, (events.k == tiny.k) | (events.alt == tiny.k), "left").write.parquet("s3://b")
                events.join(tiny).write.parquet("s3://c")
                events.join(tiny, [events.k == tiny.k], "left").write.parquet("s3://d")  # expect: SPK002
        """,
    },
    "literal data through parallelize and a session kept on self": {
        "job.py": """
            class Loader:
                def __init__(self, spark):
                    self.spark = spark

                def enrich(self, events):
                    codes = self.spark.createDataFrame([("DE", "Germany")], ["cc", "name"])
                    return events.join(codes, "cc", "left")  # expect: SPK002

                def sample(self):
                    self.spark.range(10).repartition(1).write.parquet("s3://tiny")

            def run(spark):
                events = spark.read.parquet("s3://e")
                rdd = spark.sparkContext.parallelize([("DE", "Germany")])
                codes = spark.createDataFrame(rdd, ["cc", "name"])
                return events.join(codes, "cc", "left")  # expect: SPK002
        """,
    },
    "a loop over an empty literal collection never runs": {
        "job.py": """
            def merge_all(base, others):
                out = base
                for other in others:
                    out = out.join(other, "k")
                return out

            def main(spark):
                tiny = spark.createDataFrame([("a", 1)], ["k", "v"])
                merge_all(tiny, []).write.parquet("s3://a")
        """,
    },
}


@pytest.mark.parametrize("name", sorted(AUDIT_CASES))
def test_audit_case(tmp_path: Path, name: str) -> None:
    assert_marked(tmp_path / "project", AUDIT_CASES[name])


def test_a_writer_configured_on_its_own_line_is_still_sorted(tmp_path: Path) -> None:
    files = {"job.py": """
        def main(spark):
            writer = spark.table("raw.events").coalesce(2).write  # expect: SPK001
            writer.partitionBy("day")
            writer.parquet("s3://out")
    """}
    report = assert_marked(tmp_path / "p", files)
    assert report["findings"][0]["severity"] == "error"


def test_scala_writer_chosen_by_an_if_expression(tmp_path: Path) -> None:
    files = {
        "build.sbt": "",
        "src/main/scala/acme/Tables.scala": """
            package acme

            import org.apache.spark.sql.DataFrame

            object Tables {
              def save(data: DataFrame, single: Boolean, path: String): Unit = {
                val writer = if (single) data.coalesce(1).write else data.write
                writer.mode("overwrite").format("parquet").save(path)
              }
            }
        """,
    }
    report = check_files(tmp_path / "p", files)
    found = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]}
    assert found == {("src/main/scala/acme/Tables.scala", 7, "SPK001")}
