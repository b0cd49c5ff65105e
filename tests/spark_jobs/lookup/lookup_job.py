"""A PySpark job for what only a run can show, and for exact call sites:

- a sort-merge join whose right side is a filtered table read: the code cannot prove it small,
  the run measures it (40 rows), so SPK002 is reported from the evidence at the join's line;
- two archive writes of the same shape (lake/archive.py): only the one that sets the
  `callSite.short` local property before its write is matched, exactly, by file and line.

Usage: python lookup_job.py LOG_DIR OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lake.archive import archive_daily, archive_hourly  # noqa: E402

ROWS = 60_000


def session(log_dir: str) -> SparkSession:
    return (
        SparkSession.builder.master("local[2]")
        .appName("lookup")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", log_dir)
        .config("spark.eventLog.rolling.enabled", "false")
        .config("spark.eventLog.compression.codec", "zstd")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        .getOrCreate()
    )


def run(spark: SparkSession, out_dir: str) -> None:
    events = spark.range(0, ROWS, numPartitions=4).withColumn("site", (F.col("id") % 40).cast("int"))
    events.write.mode("overwrite").parquet(f"{out_dir}/sites")
    sites = spark.read.parquet(f"{out_dir}/sites").where(F.col("id") < 40).select("site", F.lit("s").alias("label"))
    events.join(sites, "site").groupBy("label").count().collect()

    archive_daily(events, f"{out_dir}/daily")
    archive_hourly(events, f"{out_dir}/hourly")


def main(argv: list[str]) -> int:
    log_dir, out_dir = argv
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    spark = session(log_dir)
    try:
        run(spark, out_dir)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
