"""SPK005 (withcolumn-in-loop) and SPK006 (recomputed-without-cache): annotated projects in both
languages, reached across files; the option and `test-paths`; and what real PySpark does, which
the rules' messages claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO_ROOT, assert_marked, check_files, measurement

SELECT = ("--select", "SPK005,SPK006")

CASES = {
    "spk005: a loop over an unknown collection calls a helper in another file": {
        "jobs/main.py": """
            from functools import reduce

            import pyspark.sql.functions as F
            from lib.columns import add_flag, rename_one, widen

            def main(spark, names):
                df = spark.read.parquet("s3://events")
                for name in names:  # expect: SPK005
                    df = add_flag(df, name)
                for old in df.columns:  # expect: SPK005
                    df = rename_one(df, old)
                df = reduce(lambda acc, c: acc.drop(c), names, df)  # expect: SPK005
                df = reduce(rename_one, df.columns, df)  # expect: SPK005
                for i in range(40):  # expect: SPK005
                    df = df.withColumn(f"c{i}", F.lit(i))
                widen(df, ["a", "b"])
                widen(df, df.columns)
                return df

            if __name__ == "__main__":
                main(None, None)
        """,
        "lib/columns.py": """
            import pyspark.sql.functions as F

            def add_flag(df, name):
                return df.withColumn(f"is_{name}", F.col(name).isNotNull())

            def rename_one(df, old):
                return df.withColumnRenamed(old, old.lower())

            def widen(df, names):
                for name in names:  # expect: SPK005
                    df = df.withColumn(name + "_x", F.col(name))
                return df
        """,
    },
    "spk005: few literal elements, batched calls, and DataFrames not carried are silent": {
        "job.py": """
            import pyspark.sql.functions as F

            def main(spark, names):
                df = spark.read.parquet("s3://events")
                for c in ["a", "b", "c", "d", "e"]:
                    df = df.withColumn(c, F.lit(1))
                for i in range(3):
                    df = df.drop(f"c{i}")
                for c in ["a", "b", "c", "d", "e", "f"]:  # expect: SPK005
                    df = df.withColumnRenamed(c, c.upper())
                df = df.withColumns({n: F.lit(1) for n in names})
                df = df.select("*", *[F.lit(1).alias(n) for n in names])
                df = df.drop(*names)
                for n in names:
                    df.withColumn(n, F.lit(1)).write.parquet(f"s3://out/{n}")
                parts = [df.withColumn(n, F.lit(1)) for n in names]
                for n in names:
                    df = df.filter(F.col(n).isNotNull())
                for field in df.schema:
                    if field.name == "CTLG_NAME":
                        df = df.withColumn("CTLG_NAME", F.lit("hive"))
                for n in names:  # expect: SPK005
                    df = df.withColumn("total", F.col("total") + F.col(n))
                return df, parts
        """,
    },
    "spk005: scala foldLeft, foreach on a var and for, across files": {
        "src/main/scala/jobs/Main.scala": """
            package jobs

            import org.apache.spark.sql.SparkSession
            import org.apache.spark.sql.functions._
            import lib.Columns

            object Main {
              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                val raw = spark.read.parquet("s3://events")
                val names = raw.columns.toSeq
                val wide = names.foldLeft(raw)((acc, c) => Columns.flag(acc, c)) // expect: SPK005
                var renamed = wide
                names.foreach { c => renamed = renamed.withColumnRenamed(c, c.toLowerCase) } // expect: SPK005
                for (c <- names) { renamed = renamed.drop(c) } // expect: SPK005
                val few = Seq("a", "b").foldLeft(raw)((acc, c) => acc.withColumn(c, lit(1)))
                val many = raw.withColumns(names.map(c => c -> lit(1)).toMap)
                Columns.widen(raw, Seq("x", "y"))
                renamed.write.parquet("s3://out")
              }
            }
        """,
        "src/main/scala/lib/Columns.scala": """
            package lib

            import org.apache.spark.sql.DataFrame
            import org.apache.spark.sql.functions._

            object Columns {
              def flag(df: DataFrame, c: String): DataFrame = df.withColumn("is_" + c, col(c).isNotNull)

              def widen(df: DataFrame, names: Seq[String]): DataFrame = {
                var out = df
                for (c <- names) { out = out.withColumn(c + "_x", col(c)) }
                out
              }
            }
        """,
    },
    "spk006: an aggregate used twice, through helpers called twice (one of them memoised)": {
        "jobs/main.py": """
            import pyspark.sql.functions as F
            from pyspark.sql import Window
            from lib.sinks import publish, report

            def main(spark):
                orders = spark.read.parquet("s3://orders")
                daily = orders.groupBy("day").agg(F.sum("amount").alias("total"))  # expect: SPK006
                print(daily.count())
                daily.write.parquet("s3://daily")
                clients = orders.join(spark.table("crm.clients"), "client_id")  # expect: SPK006
                publish(clients, "s3://a")
                publish(clients, "s3://b")
                ranked = orders.withColumn("rank", F.row_number().over(Window.partitionBy("day").orderBy("amount")))  # expect: SPK006
                ranked.show()
                ranked.write.parquet("s3://ranked")
                distinct = orders.select("client_id").distinct()  # expect: SPK006
                report(distinct)
                report(distinct)

            if __name__ == "__main__":
                main(None)
        """,
        "lib/sinks.py": """
            def publish(df, path):
                df.write.mode("overwrite").parquet(path)

            def report(df):
                print(df.count())
        """,
    },
    "spk006: one use per path, cached, literal, plan reuse and limited actions are silent": {
        "job.py": """
            import pyspark.sql.functions as F

            def main(spark, full):
                one = spark.read.parquet("s3://orders").groupBy("day").count()
                if full:
                    one.write.parquet("s3://a")
                else:
                    one.show()
                cached = spark.table("sales.orders").groupBy("client").count().cache()
                cached.count()
                cached.write.parquet("s3://b")
                persisted = spark.read.parquet("s3://returns").distinct().persist()
                persisted.collect()
                persisted.write.parquet("s3://c")
                checked = spark.read.parquet("s3://refunds").distinct().checkpoint()
                checked.count()
                checked.write.parquet("s3://refunds_out")
                small = spark.createDataFrame([(1, "a"), (2, "b")], ["id", "name"]).groupBy("name").count()
                small.count()
                small.collect()
                twice = spark.read.parquet("s3://status").groupBy("status").count()
                twice.collect()
                twice.collect()
                peek = spark.read.parquet("s3://clicks")
                peek.show()
                peek.write.parquet("s3://d")
                either = spark.read.parquet("s3://views")
                total = either.count() if full else either.write.parquet("s3://e")
                once = spark.read.parquet("s3://once").groupBy("k").count()
                once.write.parquet("s3://f")
                return total
        """,
    },
    "spk005: a library helper over its own parameters, no caller in the project": {
        "lib/shaping.py": """
            import pyspark.sql.functions as F

            def add_all(df, names):
                for name in names:  # expect: SPK005
                    df = df.withColumn(name, F.lit(None))
                return df

            def rename_all(df, names):
                out = df
                for name in names:  # expect: SPK005
                    if name.startswith("_"):
                        out = out.withColumnRenamed(name, name[1:])
                return out

            def drop_all(frame, names):
                for name in names:  # `drop` of an unknown value: pandas has one too
                    frame = frame.drop(name)
                return frame

            def not_carried(df, other, names):
                for name in names:
                    df = other.withColumnRenamed(name, name.lower())
                return df
        """,
    },
    "spk006: a plain read used whole twice, and used differently": {
        "job.py": """
            def main(spark):
                orders = spark.read.parquet("s3://orders")  # expect: SPK006
                print(orders.count())
                orders.write.parquet("s3://copy")
                clicks = spark.table("raw.clicks")
                clicks.select("a").write.parquet("s3://a")
                clicks.where("b > 0").write.parquet("s3://b")
                events = spark.read.parquet("s3://events")
                events.limit(10).collect()
                events.write.parquet("s3://events_copy")
        """,
    },
    "spk006: RDD jobs reuse the shuffle files of the RDDs they share, not their reads": {
        "job.py": """
            def main(spark):
                sc = spark.sparkContext
                words = sc.textFile("s3://words").flatMap(lambda line: line.split())  # expect: SPK006
                counts = words.map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b)
                counts.collect()
                counts.map(lambda kv: (kv[1], kv[0])).sortByKey().collect()
                print(words.count())
        """,
    },
    "spk006: two tables read through one helper are two DataFrames, even built alike": {
        "jobs/copy.py": """
            from lib.jdbc import read_table, write_table

            def main(spark, url):
                dbs = read_table(spark, url, "DBS")
                tbls = read_table(spark, url, "TBLS")
                write_table(dbs, url, "DBS")
                write_table(tbls, url, "TBLS")
                joined = dbs.join(tbls, "DB_ID")  # expect: SPK006
                write_table(joined, url, "JOINED")
                write_table(joined, url, "JOINED_COPY")
        """,
        "lib/jdbc.py": """
            def read_table(spark, url, name):
                return spark.read.format("jdbc").option("url", url).option("dbtable", "%s.%s" % ("hive", name)).load()

            def write_table(df, url, name):
                df.write.jdbc(url=url, table=name)
        """,
    },
    "spk006: a retry loop writes once": {
        "job.py": """
            import time

            def main(spark):
                daily = spark.read.parquet("s3://orders").groupBy("day").count()
                for attempt in range(3):
                    try:
                        daily.write.mode("overwrite").parquet("s3://daily")
                        break
                    except Exception:
                        time.sleep(2 ** attempt)
        """,
    },
    "spk006: a use once per element of a loop, and a loop that builds its own DataFrame": {
        "job.py": """
            import pyspark.sql.functions as F

            def main(spark, countries):
                sales = spark.read.parquet("s3://sales").groupBy("country", "day").count()  # expect: SPK006
                for country in countries:
                    sales.where(F.col("country") == country).write.parquet(f"s3://by/{country}")
                for country in countries:
                    spark.read.parquet(f"s3://raw/{country}").groupBy("day").count().write.parquet(f"s3://d/{country}")
                [sales.where(F.col("country") == c).count() for c in countries]
        """,
    },
    "spk006: scala, a join used by a write and a count, across files": {
        "src/main/scala/jobs/Main.scala": """
            package jobs

            import org.apache.spark.sql.SparkSession
            import lib.Sinks

            object Main {
              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                val orders = spark.read.parquet("s3://orders")
                val enriched = orders.join(spark.table("crm.clients"), "client_id") // expect: SPK006
                Sinks.save(enriched, "s3://enriched")
                println(enriched.count())
                val cached = orders.groupBy("day").count().cache()
                Sinks.save(cached, "s3://daily")
                println(cached.count())
                val once = orders.distinct()
                if (args.isEmpty) Sinks.save(once, "s3://once") else once.show()
              }
            }
        """,
        "src/main/scala/lib/Sinks.scala": """
            package lib

            import org.apache.spark.sql.DataFrame

            object Sinks {
              def save(df: DataFrame, path: String): Unit = df.write.mode("overwrite").parquet(path)
            }
        """,
    },
    "spk006: an if arm that constants rule out never runs (databrickslabs/tempo)": {
        "jobs/daily.py": """
            VERBOSE = False

            def horizon(df):
                spans = df.groupBy("k").count()  # expect: SPK006
                print(spans.first(), spans.count())

            def resample(df, fill=None, checks=True):
                if fill is True and checks is True:
                    horizon(df)
                return df

            def daily(spark):
                df = spark.read.parquet("s3://events")
                horizon(df)
                resample(df).write.parquet("s3://out")
                totals = df.groupBy("day").count()
                if VERBOSE:
                    totals.show()
                if not VERBOSE and 1 > 2:
                    totals.show()
                totals.write.parquet("s3://totals")

            def debug(spark, show=False):
                totals = spark.read.parquet("s3://x").groupBy("day").count()  # expect: SPK006
                if show:
                    totals.show()
                totals.write.parquet("s3://y")

            def main(spark):
                debug(spark, show=True)
        """,
        "src/main/scala/jobs/Daily.scala": """
            package jobs

            import org.apache.spark.sql.SparkSession

            object Daily {
              val Verbose = false

              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                val totals = spark.read.parquet("s3://events").groupBy("day").count()
                if (Verbose && args.nonEmpty) totals.show()
                if (!Verbose) totals.write.parquet("s3://totals")
                else { totals.show(); totals.write.parquet("s3://totals") }
              }
            }
        """,
    },
    "spk006: a loop over range(a, b) runs with its numbers, never with b": {
        "jobs/ranges.py": """
            def never(spark):
                df = spark.read.parquet("s3://x").groupBy("k").count()
                for i in range(1, 3):
                    if i == 3:
                        df.show()
                df.write.parquet("s3://y")

            def last(spark):
                df = spark.read.parquet("s3://x").groupBy("k").count()  # expect: SPK006
                for i in range(1, 3):
                    if i == 2:
                        df.show()
                df.write.parquet("s3://y")
        """,
    },
    "spk006: scala, a collection's groupBy by a function is no Dataset (awslabs/deequ)": {
        "src/main/scala/jobs/Runner.scala": """
            package jobs

            object Runner {
              def results(analyzers: Seq[Analyzer], states: States): Context =
                analyzers
                  .groupBy { _.groupingColumns().sorted }
                  .map { case (_, group) => states.run(group) }
                  .reduce { _ ++ _ }

              def twice(analyzers: Seq[Analyzer], states: States): Unit = {
                println(results(analyzers, states))
                println(results(analyzers, states).metricMap.size)
                val byKey = analyzers.groupBy(keyOf)
                byKey.map { case (k, v) => k -> v.size }.reduce { (a, b) => a }
                byKey.map { case (k, v) => k -> v.size }.reduce { (a, b) => b }
              }

              def keyOf(analyzer: Analyzer): String = analyzer.name

              def daily(events: Events): Unit = {
                val perDay = events.groupBy("day").count() // expect: SPK006
                perDay.write.parquet("s3://daily")
                println(perDay.count())
              }
            }
        """,
    },
    "spk005: a list grown in a loop of unknown length has unknown length, one grown by hand its items": {
        "jobs/flags.py": """
            import pyspark.sql.functions as F

            def appended(df, names):
                columns = []
                for name in names:
                    columns.append("is_" + name)
                for c in columns:  # expect: SPK005
                    df = df.withColumn(c, F.lit(True))
                return df

            def concatenated(df, names):
                columns = []
                for name in names:
                    columns = columns + ["is_" + name]
                for c in columns:  # expect: SPK005
                    df = df.withColumn(c, F.lit(True))
                return df

            def five(df):
                columns = ["a"]
                columns.append("b")
                columns.extend(["c", "d"])
                columns.insert(0, "e")
                for c in columns:
                    df = df.withColumn(c, F.lit(True))
                return df

            def six(df):
                columns = ["a", "b"]
                columns.append("c")
                columns.extend(["d", "e"])
                columns.insert(0, "f")
                for c in columns:  # expect: SPK005
                    df = df.withColumn(c, F.lit(True))
                return df

            def main(spark, names):
                raw = spark.read.parquet("s3://raw")
                appended(raw, names).write.parquet("s3://a")
                concatenated(raw, names).write.parquet("s3://b")
                five(raw).write.parquet("s3://c")
                six(raw).write.parquet("s3://d")
        """,
    },
    "spk005: a dict filled by d[k] = v keeps its keys": {
        "jobs/fill.py": """
            import pyspark.sql.functions as F

            def six_keys(df):
                names = {}
                for key in ("a", "b", "c", "d", "e", "f"):
                    names[key] = "is_" + key
                for key, name in names.items():  # expect: SPK005
                    df = df.withColumn(name, F.lit(key))
                return df

            def five_keys(df):
                names = {}
                names["a"] = "is_a"
                names["b"] = "is_b"
                names["c"] = "is_c"
                names["d"] = "is_d"
                names["e"] = "is_e"
                names["a"] = "is_f"
                for key, name in names.items():
                    df = df.withColumn(name, F.lit(key))
                return df

            def main(spark):
                raw = spark.read.parquet("s3://raw")
                six_keys(raw).write.parquet("s3://six")
                five_keys(raw).write.parquet("s3://five")
        """,
    },
    "spk006: builders that collect their parts in a list build two DataFrames (databrickslabs/dbldatagen)": {
        "jobs/__init__.py": "",
        "jobs/specs.py": """
            import pyspark.sql.functions as F


            class Spec:
                def __init__(self, spark, rows):
                    self.spark = spark
                    self.rows = rows
                    self.columns = []

                def with_column(self, name, expression):
                    self.columns.append((name, expression))
                    return self

                def build(self):
                    df = self.spark.read.parquet(self.rows)
                    for name, expression in self.columns:
                        df = df.withColumn(name, F.expr(expression))
                    return df
        """,
        "jobs/main.py": """
            import pyspark.sql.functions as F
            from pyspark.sql import SparkSession

            from jobs.specs import Spec


            def flagged(df):
                return df.withColumn("flag", F.lit(1)).groupBy("flag").count()


            def main():
                spark = SparkSession.builder.getOrCreate()
                users = Spec(spark, "s3://in").with_column("name", "uuid()").build()
                orders = Spec(spark, "s3://in").with_column("amount", "rand()").build()
                flagged(users).write.parquet("s3://users")
                flagged(orders).write.parquet("s3://orders")


            if __name__ == "__main__":
                main()
        """,
    },
    "spk006: a helper called twice alike makes two DataFrames, and recomputes a DataFrame given to both": {
        "jobs/main.py": """
            import sys

            from pyspark.sql import SparkSession


            def totals(spark, path):
                return spark.read.parquet(path).groupBy("day").count()


            def relabelled(df, label):
                return df.withColumnRenamed("count", label).groupBy("day").count()

            def save_daily(df):
                df.groupBy("day").count().write.mode("append").parquet("s3://daily")  # expect: SPK006


            def main(first, second):
                spark = SparkSession.builder.getOrCreate()
                totals(spark, first).write.parquet("s3://first")
                totals(spark, second).write.parquet("s3://second")
                shared = spark.read.parquet("s3://shared").groupBy("day").count()  # expect: SPK006
                relabelled(shared, first).write.parquet("s3://a")
                relabelled(shared, second).write.parquet("s3://b")
                events = spark.read.parquet("s3://events")
                save_daily(events)  # the same helper given the same DataFrame: computed twice
                save_daily(events)


            if __name__ == "__main__":
                main(sys.argv[1], sys.argv[2])
        """,
    },
    "spk006: scala, a helper called twice alike makes two DataFrames; a Seq grown in a loop": {
        "src/main/scala/jobs/Main.scala": """
            package jobs

            import org.apache.spark.sql.{DataFrame, SparkSession}
            import org.apache.spark.sql.functions._

            object Main {
              def totals(spark: SparkSession, path: String): DataFrame =
                spark.read.parquet(path).groupBy("day").count()

              def relabelled(df: DataFrame, label: String): DataFrame =
                df.withColumnRenamed("count", label).groupBy("day").count()

              def flagged(df: DataFrame, names: Seq[String]): DataFrame = {
                var columns = Seq[String]()
                for (name <- names) { columns = columns :+ ("is_" + name) }
                columns.foldLeft(df)((acc, c) => acc.withColumn(c, lit(true))) // expect: SPK005
              }

              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                totals(spark, args(0)).write.parquet("s3://first")
                totals(spark, args(1)).write.parquet("s3://second")
                val shared = spark.read.parquet("s3://shared").groupBy("day").count() // expect: SPK006
                relabelled(shared, args(0)).write.parquet("s3://a")
                relabelled(shared, args(1)).write.parquet("s3://b")
                flagged(spark.read.parquet("s3://raw"), args.toSeq).write.parquet("s3://flags")
              }
            }
        """,
    },
    "spk006: an elif that constants decide runs alone; uses in an arm that returns reach the caller": {
        "jobs/publish.py": """
            def publish(df, mode):
                if mode == "full":
                    df.write.parquet("s3://full")
                elif mode == "preview":
                    df.collect()

            def save(df, overwrite):
                if overwrite:
                    df.write.mode("overwrite").parquet("s3://c")
                    return True
                return False

            def main(spark, flag):
                neither = spark.read.parquet("s3://a").groupBy("k").count()
                publish(neither, "other")
                neither.write.parquet("s3://a2")
                previewed = spark.read.parquet("s3://b").groupBy("k").count()  # expect: SPK006
                publish(previewed, "preview")
                previewed.write.parquet("s3://b2")
                kept = spark.read.parquet("s3://c").groupBy("k").count()  # expect: SPK006
                save(kept, flag)
                kept.write.parquet("s3://c2")
        """,
    },
    "spk006: scala, an else if that constants decide runs alone; an if/else as a method's body is used": {
        "src/main/scala/jobs/Publish.scala": """
            package jobs

            import org.apache.spark.sql.{DataFrame, SparkSession}

            object Publish {
              def publish(df: DataFrame, mode: String): Unit = {
                if (mode == "full") {
                  df.write.parquet("s3://full")
                } else if (mode == "preview") {
                  df.collect()
                }
              }

              def save(df: DataFrame, overwrite: Boolean): Unit =
                if (overwrite) df.write.mode("overwrite").parquet("s3://c") else df.collect()

              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                val neither = spark.read.parquet("s3://a").groupBy("k").count()
                publish(neither, "other")
                neither.write.parquet("s3://a2")
                val previewed = spark.read.parquet("s3://b").groupBy("k").count() // expect: SPK006
                publish(previewed, "preview")
                previewed.write.parquet("s3://b2")
                val kept = spark.read.parquet("s3://c").groupBy("k").count() // expect: SPK006
                save(kept, args.isEmpty)
                kept.write.parquet("s3://c2")
              }
            }
        """,
    },
    "spk006: cache() or persist() as a statement caches the DataFrame it is called on (microsoft/hyperspace)": {
        "jobs/totals.py": """
            from pyspark.sql import SparkSession

            def cached():
                spark = SparkSession.builder.getOrCreate()
                totals = spark.read.parquet("s3://in").groupBy("user").count()
                totals.cache()
                print(totals.count())
                totals.write.parquet("s3://out")

            def persisted(level):
                spark = SparkSession.builder.getOrCreate()
                totals = spark.read.parquet("s3://in").groupBy("user").count()
                totals.persist(level)
                print(totals.count())
                totals.write.parquet("s3://out")

            def checkpointed():
                spark = SparkSession.builder.getOrCreate()
                totals = spark.read.parquet("s3://in").groupBy("user").count()  # expect: SPK006
                totals.checkpoint()
                print(totals.count())
                totals.write.parquet("s3://out")
        """,
        "src/main/scala/jobs/Totals.scala": """
            package jobs

            import org.apache.spark.sql.{DataFrame, SparkSession}
            import org.apache.spark.storage.StorageLevel

            object Totals {
              def save(indexData: DataFrame): Unit = {
                indexData.cache
                indexData.count()
                indexData.repartition(8).write.parquet("s3://index")
                indexData.unpersist()
              }

              def main(args: Array[String]): Unit = {
                val spark = SparkSession.builder().getOrCreate()
                val totals = spark.read.parquet("s3://in").groupBy("user").count()
                totals.persist(StorageLevel.MEMORY_AND_DISK)
                println(totals.count())
                totals.write.parquet("s3://out")
                save(spark.read.parquet("s3://in").groupBy("day").count())
                val plain = spark.read.parquet("s3://in").groupBy("hour").count() // expect: SPK006
                println(plain.count())
                plain.write.parquet("s3://hours")
              }
            }
        """,
    },
    "spk006: a helper that reads and writes, called twice alike, computes two DataFrames (microsoft/hyperspace)": {
        "jobs/publish.py": """
            import sys

            from pyspark.sql import SparkSession

            def publish(spark, source, target):
                spark.read.parquet(source).groupBy("day").count().write.parquet(target)

            def publish_twice(spark, source):
                daily = spark.read.parquet(source).groupBy("day").count()  # expect: SPK006
                daily.write.parquet("s3://a")
                daily.write.parquet("s3://b")

            def main():
                spark = SparkSession.builder.getOrCreate()
                publish(spark, sys.argv[1], sys.argv[2])
                publish(spark, sys.argv[3], sys.argv[4])
                publish_twice(spark, sys.argv[1])
                publish_twice(spark, sys.argv[3])

            if __name__ == "__main__":
                main()
        """,
        "src/main/scala/jobs/Compactor.scala": """
            package jobs

            import org.apache.spark.sql.{DataFrame, SparkSession}

            class Compactor(spark: SparkSession) {
              private def save(df: DataFrame, out: String): Unit = df.repartition(64).write.parquet(out)

              def compact(dropped: Seq[Long], files: Seq[String], out: String): Unit = {
                import spark.implicits._
                val kept = spark.read.parquet(files: _*).join(dropped.toDF("id"), Seq("id"), "left_anti")
                save(kept, out)
              }
            }
        """,
        "src/test/scala/jobs/CompactorSuite.scala": """
            package jobs

            import org.apache.spark.sql.SparkSession
            import org.scalatest.funsuite.AnyFunSuite

            class CompactorSuite extends AnyFunSuite {
              lazy val spark: SparkSession = SparkSession.builder().master("local[2]").getOrCreate()
              def inputs(): Seq[String] = new java.io.File("/tmp/in").list().toSeq

              test("one id") { new Compactor(spark).compact(Seq(1L), inputs(), "/tmp/out") }
              test("two ids") { new Compactor(spark).compact(Seq(1L, 2L), inputs(), "/tmp/out") }
            }
        """,
    },
    "spk006: an RDD's foreach with a function is an action (spark-examples/spark-scala-examples)": {
        "src/main/scala/jobs/WordCount.scala": """
            package jobs

            import org.apache.spark.sql.SparkSession

            object WordCount {
              def main(args: Array[String]): Unit = {
                val sc = SparkSession.builder().getOrCreate().sparkContext
                val words = sc.textFile("s3://text").flatMap(line => line.split(" "))  // expect: SPK006
                words.foreach(word => println(word))
                words.map(word => (word, 1)).reduceByKey(_ + _).saveAsTextFile("s3://counts")
                val names = Seq("a", "b")
                names.foreach(name => sc.textFile(s"s3://$name").count())
              }
            }
        """,
    },
    "spk006: a helper's branch that constant text rules out is no use (digital-land/pyspark-jobs)": {
        "jobs/utils.py": """
            def show_df(df, n=5, env=None):
                if env and env.lower() in ["development", "staging"]:
                    df.show(n)

            def peek(df, env):
                if env.strip().upper() not in ("PROD",) and "dev" in env:
                    df.show(1)
        """,
        "jobs/job.py": """
            from jobs.utils import peek, show_df

            def quiet(spark):
                df = spark.read.parquet("s3://in").distinct()
                show_df(df, 5, "local")
                show_df(df, 5, "production")
                peek(df, " prod ")
                df.write.parquet("s3://out")

            def loud(spark):
                df = spark.read.parquet("s3://in").distinct()  # expect: SPK006
                show_df(df, 5, "Staging")
                df.write.parquet("s3://out")

            def devel(spark):
                df = spark.read.parquet("s3://in").distinct()  # expect: SPK006
                peek(df, "dev-1")
                df.write.parquet("s3://out")
        """,
        "src/main/scala/jobs/Show.scala": """
            package jobs

            import org.apache.spark.sql.{DataFrame, SparkSession}

            object Show {
              def showDf(df: DataFrame, env: String): Unit = {
                if (Seq("development", "staging").contains(env.toLowerCase.trim)) df.show(5)
              }

              def quiet(spark: SparkSession): Unit = {
                val df = spark.read.parquet("s3://in").distinct()
                showDf(df, "local")
                showDf(df, "prod")
                df.write.parquet("s3://out")
              }

              def loud(spark: SparkSession): Unit = {
                val df = spark.read.parquet("s3://in").distinct()  // expect: SPK006
                showDf(df, " Staging ")
                df.write.parquet("s3://out")
              }
            }
        """,
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name: str, tmp_path: Path) -> None:
    assert_marked(tmp_path / "project", CASES[name], *SELECT)


def test_the_literal_size_threshold_is_an_option(tmp_path: Path) -> None:
    files = {
        "job.py": """
            import pyspark.sql.functions as F

            def main(spark):
                df = spark.read.parquet("s3://events")
                for c in ["a", "b", "c"]:
                    df = df.withColumn(c, F.lit(1))
                return df
        """,
    }
    assert check_files(tmp_path / "default", files, *SELECT)["findings"] == []
    files["pyproject.toml"] = "[tool.sparklint.withcolumn-in-loop]\nmax-literal-elements = 2\n"
    report = check_files(tmp_path / "two", files, *SELECT)
    assert [(f["rule"], f["location"]["line"]) for f in report["findings"]] == [("SPK005", 5)]
    assert "each of its 3 elements" in report["findings"][0]["message"]


def test_messages_say_what_runs_again(tmp_path: Path) -> None:
    report = check_files(tmp_path / "project", CASES["spk006: an aggregate used twice, through helpers called twice (one of them memoised)"],
                         *SELECT)
    messages = {f["location"]["line"]: f["message"] for f in report["findings"]}
    related = {f["location"]["line"]: [(r["location"]["path"], r["location"]["line"]) for r in f["related"]]
               for f in report["findings"]}
    assert messages[7] == ("this DataFrame is computed by `count()`, then again by the write `parquet(...)`, with no "
                           "cache: the second time Spark runs its shuffle (an aggregation) again")
    assert "the write `parquet(...)`, then again by the write `parquet(...)`" in messages[10]
    assert "runs its shuffle (a window)" in messages[13]
    # the memoised second `report(distinct)` is a use seen from its call
    assert related[16] == [("lib/sinks.py", 5), ("jobs/main.py", 18)]


TEST_CODE = {
    "tests/test_job.py": """
        import pyspark.sql.functions as F

        def test_daily(spark, names):
            daily = spark.read.parquet("data/x").groupBy("day").count()
            print(daily.count())
            daily.write.parquet("out")
            df = daily
            for n in names:
                df = df.withColumn(n, F.lit(1))
    """,
}


def test_spk006_is_a_job_cost_rule_and_spk005_reports_in_tests_too(tmp_path: Path) -> None:
    """A test recomputing its small data costs nothing worth a finding; a plan that nests a
    projection per column is slow to analyse in a test as much as in a job."""
    report = check_files(tmp_path / "project", TEST_CODE, *SELECT)
    assert [(f["rule"], f["location"]["line"]) for f in report["findings"]] == [("SPK005", 8)]
    files = {**TEST_CODE, "pyproject.toml": "[tool.sparklint]\ntest-paths = []\n"}
    report = check_files(tmp_path / "opted-in", files, *SELECT)
    assert sorted((f["rule"], f["location"]["line"]) for f in report["findings"]) == [("SPK005", 8), ("SPK006", 4)]


def test_an_rdd_finding_says_only_the_read_runs_again(tmp_path: Path) -> None:
    case = CASES["spk006: RDD jobs reuse the shuffle files of the RDDs they share, not their reads"]
    [finding] = check_files(tmp_path / "project", case, *SELECT)["findings"]
    assert finding["message"] == ("this RDD is computed by `collect()`, then again by `count()`, with no cache: "
                                  "the second time Spark reads its input from storage again")


def test_bad_input_does_not_crash(tmp_path: Path) -> None:
    files = {
        "job.py": """
            from functools import reduce

            def main(spark, xs):
                df = spark.read.parquet("s3://x")
                reduce(lambda acc, c: acc.withColumn(c, 1))
                reduce(None, xs, df)
                reduce(lambda acc: acc, xs, df)
                for x in reduce(lambda a, b: a, xs, df):
                    df = df.drop(x)
                xs.foldLeft(df)(lambda: None)
        """,
        "Job.scala": """
            object Job {
              def run(df: org.apache.spark.sql.DataFrame, xs: Seq[String]) = {
                xs.foldLeft(df)
                xs.foldLeft(df)(_.withColumn(_, null))
                xs.foldLeft()((a, b) => a)
              }
            }
        """,
    }
    check_files(tmp_path / "project", files, *SELECT)


# ---------------------------------------------------------------- what Spark does

SCRIPT = REPO_ROOT / "tests" / "data" / "new_rules_evidence" / "measure_spk005_spk006.py"


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict:
    return measurement(SCRIPT, tmp_path_factory)


@pytest.mark.slow
def test_each_action_on_an_uncached_aggregate_reads_and_shuffles_again(measured: dict) -> None:
    """SPK006: `show()`, `count()`, a write and `collect()` of one aggregated DataFrame each read
    all 800,000 rows and shuffle them again; a second `collect()` of the same DataFrame runs its
    own plan again and skips the map stage (shuffle files reused)."""
    runs = measured["recomputation"]
    for action in ("show", "count", "write", "collect"):
        assert runs[f"aggregated:{action}"]["rows_read"] == 800_000
        assert runs[f"aggregated:{action}"]["shuffle_rows_written"] >= 2_000
    again = runs["aggregated:collect-again"]
    assert again["rows_read"] == 0 and again["shuffle_rows_written"] == 0 and again["stages_skipped"] >= 1


@pytest.mark.slow
def test_a_cached_aggregate_is_computed_once(measured: dict) -> None:
    runs = measured["recomputation"]
    assert runs["cached:count"]["rows_read"] >= 800_000
    assert runs["cached:write"]["rows_read"] < 100 and runs["cached:collect"]["rows_read"] < 100
    assert runs["cached:write"]["shuffle_rows_written"] == 0


@pytest.mark.slow
def test_a_plain_read_is_read_again_but_show_reads_one_batch(measured: dict) -> None:
    runs = measured["recomputation"]
    assert runs["read-only:count"]["rows_read"] == runs["read-only:write"]["rows_read"] == 800_000
    assert runs["read-only:show"]["rows_read"] <= 8_192


@pytest.mark.slow
def test_two_queries_over_one_repartitioned_dataframe_both_shuffle(measured: dict) -> None:
    """A repartitioned DataFrame is not reused by another query: `agg(...).head()` and
    `select(...).head()` over it each read the 800,000 rows and shuffle them (pyspark.ml.connect's
    classifier expects the repartition's shuffle to be reused: it is not)."""
    runs = measured["recomputation"]
    for query in ("agg-head", "select-head"):
        assert runs[f"repartitioned:{query}"]["rows_read"] == 800_000
        assert runs[f"repartitioned:{query}"]["shuffle_rows_written"] >= 800_000


@pytest.mark.slow
def test_rdd_jobs_reuse_a_shared_shuffle_but_read_again_before_it(measured: dict) -> None:
    """SPK006 on RDDs: a second job over a reduced RDD skips the map stage (nothing read); a job
    on the RDD before the shuffle reads all 800,000 rows again."""
    runs = measured["recomputation"]
    assert runs["rdd:collect"]["rows_read"] == 800_000
    assert runs["rdd:derived-collect"]["rows_read"] == 0 and runs["rdd:derived-collect"]["stages_skipped"] >= 1
    assert runs["rdd:source-count"]["rows_read"] == 800_000


@pytest.mark.slow
def test_a_withcolumn_loop_nests_one_projection_per_call(measured: dict) -> None:
    """SPK005: N `withColumn` calls leave N nested `Project` nodes in the analysed plan (plus the
    one of `toDF`); `withColumns` and one `select` leave one. Times are in the rule document."""
    for n, plan in measured["analysis"].items():
        assert plan["loop_projects"] == int(n) + 1
        assert plan["withColumns_projects"] == plan["select_projects"] == 2
