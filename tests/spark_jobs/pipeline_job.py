"""A small PySpark pipeline with the three problems sparklint looks for, run for real to make
event logs: a `coalesce(2)` before a sorted write (lake/sink.py), a tiny lookup table
sort-merge-joined to a bigger one, and a grouping key where "" stands for null (skew).

Usage: python pipeline_job.py LOG_DIR OUT_DIR VARIANT [VARIANT...]
VARIANT is plain, lz4, lzf, snappy, zstd (a single file in that codec) or rolling (Spark 4's
default layout: an eventlog_v2_* directory of zstd parts, cut every 2 MiB).
Each variant runs the same job as its own Spark application in one JVM.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lake.sink import export, persist  # noqa: E402

ROWS = 120_000
FORCE_SPILL_AFTER = 20_000  # rows a sorter holds before it must spill: real spill, small data


def event_count() -> int:
    """How many events to make; like a real input's size, static analysis cannot know it."""
    return int(os.environ.get("PIPELINE_ROWS", ROWS))


def session(variant: str, log_dir: str) -> SparkSession:
    builder = (
        SparkSession.builder.master("local[2]")
        .appName(f"pipeline-{variant}")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", log_dir)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        .config("spark.shuffle.spill.numElementsForceSpillThreshold", str(FORCE_SPILL_AFTER))
    )
    if variant == "plain":
        builder = builder.config("spark.eventLog.compress", "false").config("spark.eventLog.rolling.enabled", "false")
    elif variant == "rolling":
        builder = (
            builder.config("spark.eventLog.compress", "true")
            .config("spark.eventLog.compression.codec", "zstd")
            .config("spark.eventLog.rolling.enabled", "true")
            .config("spark.eventLog.rolling.maxFileSize", "2m")
        )
    else:
        builder = (
            builder.config("spark.eventLog.compress", "true")
            .config("spark.eventLog.compression.codec", variant)
            .config("spark.eventLog.rolling.enabled", "false")
        )
    return builder.getOrCreate()


def run_pipeline(spark: SparkSession, out_dir: str, rolling: bool) -> None:
    events = (
        spark.range(0, event_count(), numPartitions=4)
        .withColumn("origin_uid", F.when(F.col("id") % 10 < 7, F.lit(None)).otherwise(F.col("id") % 50))
        .withColumn("site", (F.col("id") % 40).cast("int"))
        .withColumn("value", F.rand(7))
    )
    persist(events, f"{out_dir}/events", "site")
    export(events.select("site", "value"), f"{out_dir}/export")

    regions = spark.createDataFrame([(0, "north"), (1, "east"), (2, "south"), (3, "west")], ["region", "region_name"])
    events.withColumn("region", F.col("site") % 4).join(regions, "region").groupBy("region_name").count().collect()

    key = F.coalesce(F.col("origin_uid").cast("string"), F.lit(""))
    origins = spark.createDataFrame([(str(i), f"origin-{i}") for i in range(50)] + [("", "unknown")], ["key", "origin"])
    events.withColumn("key", key).join(origins, "key").groupBy("origin").agg(F.sum("value")).collect()

    if rolling:  # enough task events to cut the log into more than one part
        spark.range(0, 6000, numPartitions=700).selectExpr("id % 7 AS k").groupBy("k").count().collect()


def main(argv: list[str]) -> int:
    log_dir, out_dir, *variants = argv
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    for variant in variants:
        variant_logs = Path(log_dir) / variant
        variant_logs.mkdir(parents=True, exist_ok=True)
        spark = session(variant, str(variant_logs))
        try:
            run_pipeline(spark, f"{out_dir}/{variant}", rolling=variant == "rolling")
        finally:
            spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
