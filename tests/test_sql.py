"""Spark SQL in strings: `spark.sql(...)` lowered into the same model, so the rules read it.

Annotated projects (semgrep style): a `-- # expect: SPKnnn` SQL comment marks the line inside the
string where the finding must be; every other line must stay silent. Locations are checked to
the column, since a finding in SQL points at its token inside the Python or Scala file.
"""

from __future__ import annotations

from pathlib import Path

from conftest import assert_marked, check_files

PYTHON_QUERIES = """
    PARTS = 2

    # The story's write, in SQL: a coalesce hint before a partitioned insert.
    HOURLY = f\"\"\"
    INSERT OVERWRITE TABLE lake.visits PARTITION (dt)
    SELECT /*+ COALESCE({PARTS}) */ visitor, count(*) AS visits, dt  -- # expect: SPK001
    FROM keyed
    GROUP BY visitor, dt  -- # expect: SPK003
    \"\"\"

    WIDE = \"SELECT /*+ REPARTITION(200) */ visitor, dt FROM keyed  -- # expect: SPK010\"
"""

PYTHON_JOB = """
    from pyspark.sql import SparkSession
    from jobs.queries import HOURLY, WIDE


    def register_keys(spark):
        spark.table("raw.clicks").createOrReplaceTempView("clicks")
        spark.sql(\"\"\"
            CREATE OR REPLACE TEMP VIEW keyed AS
            SELECT coalesce(origin_uid, device_id) AS visitor, dt FROM clicks
        \"\"\")


    def main():
        spark = SparkSession.builder.getOrCreate()
        sites = spark.createDataFrame([("a", 1), ("b", 2)], ["site", "n"])
        sites.createOrReplaceTempView("sites")
        register_keys(spark)
        spark.sql(HOURLY)
        spark.sql(WIDE).write.partitionBy("dt").parquet("s3://lake/wide")
        joined = spark.sql("SELECT * FROM raw.clicks c JOIN sites s ON c.site = s.site")  # expect: SPK002
        joined.write.parquet("s3://lake/joined")
        hinted = spark.sql("SELECT /*+ BROADCAST(s) */ * FROM raw.clicks c JOIN sites s ON c.site = s.site")
        hinted.write.parquet("s3://lake/hinted")
        spark.sql("SELECT nullif(origin_uid, '') AS k, count(*) FROM raw.clicks GROUP BY 1").show()
        spark.sql("SELECT coalesce(retries, 0) AS r, count(*) FROM raw.clicks GROUP BY r").show()
        spark.sql("SELEC broken FROM").show()  # not SQL sqlglot reads: skipped, not SPK000


    if __name__ == "__main__":
        main()
"""


def test_the_story_in_python_sql_strings_across_modules(tmp_path: Path) -> None:
    report = assert_marked(tmp_path / "p", {"jobs/__init__.py": "", "jobs/queries.py": PYTHON_QUERIES,
                                            "jobs/job.py": PYTHON_JOB})
    findings = {finding["rule"]: finding for finding in report["findings"]}
    coalesce = findings["SPK001"]
    assert coalesce["location"]["column"] == 12  # `COALESCE` inside the f-string
    assert "`INSERT OVERWRITE lake.visits`" in coalesce["message"]
    assert coalesce["chain"][0]["message"] == "the `__main__` block calls `main(...)`"
    key = findings["SPK003"]
    assert key["location"]["column"] == 10  # `visitor` in `GROUP BY visitor`
    # The key was built in another module's SQL, behind a temp view registered from a DataFrame.
    (defined,) = [r for r in key["related"] if "defined here" in r["message"]]
    assert (defined["location"]["path"], defined["location"]["line"], defined["location"]["column"]) == ("jobs/job.py", 9, 16)
    assert "`coalesce(origin_uid, device_id)`" in key["message"]
    # sparklint rewrites code, never SQL text: these findings offer no `--fix`.
    assert [finding["autofix"] for finding in report["findings"]] == [None] * 4


SCALA_QUERIES = """
    package jobs

    object Queries {
      val Parts = 2
      val Hourly: String =
        s\"\"\"INSERT OVERWRITE TABLE lake.visits PARTITION (dt)
           |SELECT /*+ COALESCE($Parts) */ visitor, count(*) AS visits, dt  -- // expect: SPK001
           |FROM keyed
           |GROUP BY visitor, dt  -- // expect: SPK003
           |\"\"\".stripMargin
    }
"""

SCALA_JOB = """
    package jobs

    import org.apache.spark.sql.SparkSession

    object Job {
      def registerKeys(spark: SparkSession): Unit = {
        spark.sql(\"\"\"CREATE OR REPLACE TEMP VIEW keyed AS
                    |SELECT ifnull(origin_uid, device_id) AS visitor, dt FROM raw.clicks\"\"\".stripMargin)
      }

      def main(args: Array[String]): Unit = {
        val spark = SparkSession.builder.getOrCreate()
        registerKeys(spark)
        spark.sql(Queries.Hourly)
        spark.sql("SELECT /*+ REPARTITION(200) */ visitor FROM keyed").write.parquet("s3://lake/wide")
        spark.sql("SELECT /*+ MAPJOIN(s) */ * FROM raw.clicks c JOIN raw.sites s ON c.site = s.site").write.parquet("s3://j")
        spark.sql(s"SELECT nvl(trim(a), 'x') AS k FROM raw.t WHERE trim(a) != '' GROUP BY k").show()
      }
    }
"""


def test_the_story_in_scala_sql_strings_with_strip_margin(tmp_path: Path) -> None:
    files = {"build.sbt": 'name := "x"\n', "src/main/scala/jobs/Queries.scala": SCALA_QUERIES,
             "src/main/scala/jobs/Job.scala": SCALA_JOB}
    report = assert_marked(tmp_path / "p", files)
    findings = {finding["rule"]: finding for finding in report["findings"]}
    assert findings["SPK001"]["location"]["column"] == 20  # after the margin `       |SELECT /*+ `
    assert "`ifnull(origin_uid, device_id)`" in findings["SPK003"]["message"]


def test_sql_a_spark_side_broadcasts_itself_and_an_unknown_query_stay_silent(tmp_path: Path) -> None:
    report = check_files(tmp_path / "p", {"job.py": """
        def main(spark, query):
            spark.sql("SELECT * FROM big b JOIN (SELECT * FROM dims LIMIT 10) d ON b.k = d.k").write.parquet("s3://a")
            spark.sql(query).coalesce(2).write.parquet("s3://b")  # the query is unknown; the coalesce is not
            spark.sql(f"SELECT * FROM {query} t").write.parquet("s3://c")
    """})
    assert [(f["rule"], f["location"]["line"]) for f in report["findings"]] == [("SPK001", 3)]
    assert not report["warnings"]


def test_columns_after_interpolated_holes_inside_a_strip_margin_line(tmp_path: Path) -> None:
    line = '         |SELECT /*+ REPARTITION($Parts) */ coalesce(a, b) AS k, dt FROM $T GROUP BY coalesce(a, b), dt""".stripMargin)'
    source = "\n".join([
        "package a", "", "object J {", "  val Parts = 2", '  val T = "raw.clicks"',
        "  def main(args: Array[String]): Unit = {",
        "    val spark = org.apache.spark.sql.SparkSession.builder.getOrCreate()",
        "    spark.sql(",
        '      s"""INSERT OVERWRITE TABLE out.t PARTITION (dt)',
        line, "  }", "}", ""])
    report = check_files(tmp_path / "p", {"build.sbt": 'name := "x"\n', "src/main/scala/a/J.scala": source})
    columns = {finding["rule"]: finding["location"]["column"] for finding in report["findings"]}
    assert columns == {"SPK001": line.index("REPARTITION") + 1, "SPK003": line.index("GROUP BY coalesce") + 10}
