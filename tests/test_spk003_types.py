"""SPK003 as real code writes the story's key: a `coalesce` over columns whose types no code
states is reported (ids usually are strings); one over columns the code proves numeric, boolean
or dates is not. Types come from schemas (StructType, DDL, case classes), casts and functions.
Each case is a small project: lines marked `expect: SPKnnn` must be reported, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_marked, check_files

def findings_of(root: Path, files: dict[str, str]) -> list[dict]:
    return check_files(root, files, "--select", "SPK003")["findings"]


PYTHON_CASES: dict[str, dict[str, str]] = {
    "the story: columns of unknown type, grouped in another module": {
        "keys.py": """
            from pyspark.sql import functions as F

            def with_visitor_key(df):
                return df.withColumn("visitor_key", F.coalesce(F.col("origin_uid"), F.col("cookie_id"), F.col("device_id")))
        """,
        "job.py": """
            from keys import with_visitor_key

            def main(spark):
                events = with_visitor_key(spark.read.table("raw.events"))
                events.groupBy("visitor_key").count().write.parquet("s3://out")  # expect: SPK003
        """,
    },
    "column names as strings, nvl, ifnull and nvl2(x, x, y)": {
        "job.py": """
            from pyspark.sql import functions as F

            def main(spark):
                df = spark.read.table("raw.events")
                df.groupBy(F.coalesce("origin_uid", "cookie_id")).count().show()  # expect: SPK003
                df.groupBy(F.nvl(F.col("a"), F.col("b"))).count().show()  # expect: SPK003
                df.groupBy(F.ifnull(F.col("c"), F.col("d"))).count().show()  # expect: SPK003
                df.groupBy(F.nvl2(F.col("e"), F.col("e"), F.col("f"))).count().show()  # expect: SPK003
        """,
    },
    "when(x.isNull(), y).otherwise(x) built one step earlier": {
        "job.py": """
            from pyspark.sql import functions as F

            def main(spark):
                df = spark.read.table("raw.events")
                keyed = df.withColumn("k", F.when(F.col("uid").isNull(), F.col("cookie")).otherwise(F.col("uid")))
                keyed.groupBy("k").count().show()  # expect: SPK003
        """,
    },
    "strings made one step earlier: trim of a cast": {
        "job.py": """
            from pyspark.sql import functions as F
            from pyspark.sql.types import StringType

            def main(spark):
                df = spark.read.table("raw.events").withColumn("uid", F.trim(F.col("uid_raw").cast(StringType())))
                keyed = df.withColumn("k", F.coalesce(F.col("uid"), F.col("cookie")))
                keyed.groupBy("k").count().show()  # expect: SPK003
        """,
    },
    "schema in another module says the ids are strings": {
        "schemas.py": """
            from pyspark.sql.types import LongType, StringType, StructField, StructType

            CLICKS = StructType([
                StructField("origin_uid", StringType(), True),
                StructField("cookie_id", StringType(), True),
                StructField("n", LongType(), True),
            ])
        """,
        "job.py": """
            from pyspark.sql import functions as F
            import schemas

            def main(spark):
                clicks = spark.read.schema(schemas.CLICKS).json("s3://clicks")
                clicks.groupBy(F.coalesce(F.col("origin_uid"), F.col("cookie_id"))).count().show()  # expect: SPK003
        """,
    },
    "numeric keys known by a schema, a DDL string and casts stay silent": {
        "schemas.py": """
            from pyspark.sql.types import LongType, StructField, StructType

            MEMBERS = StructType([StructField("member_id", LongType()), StructField("partner_id", LongType())])
        """,
        "job.py": """
            from pyspark.sql import functions as F
            from pyspark.sql.types import LongType
            import schemas

            def main(spark):
                members = spark.read.schema(schemas.MEMBERS).parquet("s3://members")
                members.groupBy(F.coalesce(F.col("member_id"), F.col("partner_id"))).count().show()
                cards = spark.read.schema("card_id BIGINT, account_id BIGINT").csv("s3://cards")
                cards.groupBy(F.coalesce(F.col("card_id"), F.col("account_id"))).count().show()
                rows = spark.createDataFrame([(1, 2)], "store_id INT, region_id INT")
                rows.groupBy(F.coalesce("store_id", "region_id")).count().show()
                events = spark.read.table("raw.events")
                events.groupBy(F.coalesce(F.col("a").cast("bigint"), F.col("b").cast(LongType()))).count().show()
                dated = events.withColumn("d", F.coalesce(F.to_date("shipped"), F.to_date("ordered")))
                dated.groupBy("d").count().show()
        """,
    },
    "join keys: on=[...], a condition, and a key filled with an empty string": {
        "job.py": """
            from pyspark.sql import functions as F

            def main(spark):
                left = spark.read.table("a").withColumn("k", F.coalesce(F.col("x"), F.col("y")))
                right = spark.read.table("b")
                left.join(right, on=["k"]).show()  # expect: SPK003
                left.join(right, (left["k"] == right["k"]) & (left["d"] == right["d"])).show()  # expect: SPK003
                filled = spark.read.table("c").fillna("", subset=["account"])
                filled.join(right, "account").show()  # expect: SPK003
                blanked = spark.read.table("c").withColumn("account", F.when(F.col("account").isNull(), ""))
                blanked.join(right, "account", "left").show()  # expect: SPK003
        """,
    },
    "filling before a plain grouping changes nothing and is silent": {
        "job.py": """
            def main(spark):
                spark.read.table("c").fillna("").groupBy("account").count().show()
                spark.read.table("c").fillna(0, subset=["account"]).join(spark.read.table("d"), "account").show()
        """,
    },
    "normalisations silence it; a filter joined by | with isNotNull does not": {
        "job.py": """
            from pyspark.sql import functions as F

            def main(spark):
                df = spark.read.table("raw.events")
                df.groupBy(F.coalesce(F.nullif(F.col("a"), F.lit("")), F.nullif(F.col("b"), F.lit("")))).count().show()
                df.groupBy(F.coalesce(F.when(F.length(F.trim(F.col("a"))) > 0, F.col("a")), F.nullif(F.col("b"), F.lit("")))).count().show()
                kept = df.filter(F.col("a").isNotNull() | (F.col("a") != ""))
                kept.groupBy(F.coalesce(F.col("a"), F.nullif(F.col("b"), F.lit("")))).count().show()  # expect: SPK003
        """,
    },
}


@pytest.mark.parametrize("case", sorted(PYTHON_CASES))
def test_python(tmp_path: Path, case: str) -> None:
    assert_marked(tmp_path / "p", PYTHON_CASES[case], "--select", "SPK003")


SCALA_CASES: dict[str, dict[str, str]] = {
    "the story in Scala, and a window partition over a key built two steps before": {
        "src/main/scala/acme/Keys.scala": """
            package acme

            import org.apache.spark.sql.DataFrame
            import org.apache.spark.sql.functions._
            import org.apache.spark.sql.expressions.Window

            object Keys {
              def withVisitorKey(df: DataFrame): DataFrame = {
                import df.sparkSession.implicits._
                df.withColumn("visitor_key", coalesce($"origin_uid", $"cookie_id", $"device_id"))
              }

              def ranked(df: DataFrame): DataFrame = {
                val keyed = withVisitorKey(df).withColumn("day", to_date(col("ts")))
                keyed.withColumn("n", row_number().over(Window.partitionBy("visitor_key").orderBy("ts")))  // expect: SPK003
              }

              def counted(df: DataFrame): DataFrame =
                withVisitorKey(df).groupBy("visitor_key").count()  // expect: SPK003
            }
        """,
    },
    "case classes, casts and StructType schemas with numbers stay silent": {
        "src/main/scala/acme/Members.scala": """
            package acme

            import org.apache.spark.sql.{DataFrame, SparkSession}
            import org.apache.spark.sql.functions._
            import org.apache.spark.sql.types._

            case class Member(memberId: Long, partnerId: Option[Long], name: String)

            object Members {
              val Schema = StructType(Seq(StructField("card_id", LongType, nullable = true), StructField("account_id", LongType)))

              def byMember(spark: SparkSession): DataFrame = {
                import spark.implicits._
                val members = spark.read.parquet("s3://members").as[Member]
                members.groupBy(coalesce(col("memberId"), col("partnerId"))).count()
              }

              def byLiteralMember(spark: SparkSession): DataFrame = {
                import spark.implicits._
                Seq(Member(1L, Some(2L), "a")).toDS().groupBy(coalesce(col("memberId"), col("partnerId"))).count()
              }

              def byCard(spark: SparkSession): DataFrame =
                spark.read.schema(Schema).csv("s3://cards").groupBy(coalesce(col("card_id"), col("account_id"))).count()

              def byCast(df: DataFrame): DataFrame =
                df.groupBy(coalesce(col("a").cast(LongType), col("b").cast("int"))).count()

              def byName(spark: SparkSession): DataFrame = {
                import spark.implicits._
                spark.read.parquet("s3://members").as[Member]
                  .groupBy(coalesce(col("name"), col("memberId").cast("string"))).count()  // expect: SPK003
              }
            }
        """,
    },
    "Seq join keys, na.fill and when(x.isNull, y).otherwise(x)": {
        "src/main/scala/acme/Joins.scala": """
            package acme

            import org.apache.spark.sql.DataFrame
            import org.apache.spark.sql.functions._

            object Joins {
              def keyed(df: DataFrame): DataFrame =
                df.withColumn("k", when(col("uid").isNull, col("cookie")).otherwise(col("uid")))

              def joined(left: DataFrame, right: DataFrame): DataFrame =
                keyed(left).join(right, Seq("k"), "inner")  // expect: SPK003

              def filled(left: DataFrame, right: DataFrame): DataFrame =
                left.na.fill("", Seq("account")).join(right, Seq("account"))  // expect: SPK003

              def condition(left: DataFrame, right: DataFrame): DataFrame = {
                val l = keyed(left)
                l.join(right, l("k") === right("k"))  // expect: SPK003
              }
            }
        """,
    },
}


@pytest.mark.parametrize("case", sorted(SCALA_CASES))
def test_scala(tmp_path: Path, case: str) -> None:
    files = {"build.sbt": 'name := "t"\n', **SCALA_CASES[case]}
    assert_marked(tmp_path / "p", files, "--select", "SPK003")


def test_the_message_says_what_the_types_rest_on(tmp_path: Path) -> None:
    unknown = findings_of(tmp_path / "a", PYTHON_CASES["the story: columns of unknown type, grouped in another module"])
    assert "no code states the column types: if these are string ids" in unknown[0]["message"]
    assert unknown[0]["properties"]["static"]["grouping"]["columns"] == [
        {"name": "origin_uid", "type": "unknown"}, {"name": "cookie_id", "type": "unknown"},
        {"name": "device_id", "type": "unknown"}]
    known = findings_of(tmp_path / "b", PYTHON_CASES["schema in another module says the ids are strings"])
    assert "(`origin_uid` is a string in `schemas.CLICKS`)" in known[0]["message"]
