"""A PySpark job for the evidence of SPK004, SPK006 and SPK010 (what only a run can measure):

- `collect()` of a whole table read (SPK004): the run records the bytes each task sent to the
  driver ("Result Size"), here about half of the `spark.driver.maxResultSize` the job sets; and
  a collect of a 20-row table, whose result is small;
- `repartition(24)` before `write.partitionBy("day")` (SPK010): 24 tasks each write a file for
  each of the 20 days, 480 small files;
- an aggregated DataFrame, never cached, written and collected (SPK006), both scanning the same
  input; and a collect of three times the table, which Spark aborts past the limit (SPK004).

The writes go to literal paths under OUT_DIR (the job works there) so a run's write is tied to
the code by its target. Usage: python evidence_job.py LOG_DIR OUT_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

ROWS = 60_000


def session(log_dir: str) -> SparkSession:
    return (
        SparkSession.builder.master("local[2]")
        .appName("evidence")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", log_dir)
        .config("spark.eventLog.rolling.enabled", "false")
        .config("spark.eventLog.compression.codec", "zstd")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.maxResultSize", "8m")
        .getOrCreate()
    )


def run(spark: SparkSession) -> None:
    spark.range(0, ROWS, 1, 4).selectExpr("id", "id % 20 as day", "sha2(cast(id as string), 256) as pad") \
        .write.mode("overwrite").parquet("events")
    spark.range(0, 20, 1, 1).selectExpr("id", "cast(id as string) as name").write.mode("overwrite").parquet("names")

    events = spark.read.parquet("events")
    rows = events.collect()
    names = spark.read.parquet("names").collect()

    events.repartition(24).write.mode("overwrite").partitionBy("day").parquet("by_day")

    per_day = events.groupBy("day").agg(F.count("*").alias("n"))
    per_day.write.mode("overwrite").parquet("per_day")
    days = per_day.collect()
    print(len(rows), len(names), len(days))

    tripled = events.unionByName(events).unionByName(events)
    try:
        tripled.collect()  # about 12 MiB of results: past the 8m limit, Spark aborts the job
    except Exception as error:  # Py4J's wrapper of the SparkException
        print("maxResultSize" in str(error))


def main(argv: list[str]) -> int:
    log_dir, out_dir = (str(Path(item).resolve()) for item in argv)
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    os.chdir(out_dir)
    spark = session(log_dir)
    try:
        run(spark)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
