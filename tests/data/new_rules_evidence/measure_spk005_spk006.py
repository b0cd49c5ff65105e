"""What Spark really does for SPK005 and SPK006, measured with a local session. Prints one JSON
line.

SPK006: rows read from storage and shuffle stages run (or skipped) by each action on one
DataFrame, uncached and cached, and by jobs on RDDs that share a shuffled RDD, from the status
tracker and the status store, by job group.
SPK005: the analysed plan of N `withColumn` calls in a loop (one `Project` per call) against one
`withColumns`/`select`, and the time each takes to build (reported, not asserted)."""

from __future__ import annotations

import json
import sys
import time
from functools import reduce
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from measure import in_group  # the sibling script: run as a script, this folder is on sys.path


def stages_of(spark, group: str) -> dict:
    """Rows read from files, and stages that ran or were skipped, by the jobs of `group`."""
    tracker = spark.sparkContext.statusTracker()
    store = spark.sparkContext._jsc.sc().statusStore()
    stages = sorted({stage for job in tracker.getJobIdsForGroup(group) for stage in tracker.getJobInfo(job).stageIds})
    read = shuffle_written = ran = skipped = 0
    for stage in stages:
        try:
            attempt = store.lastStageAttempt(stage)
        except Exception:  # a skipped stage has no attempt
            skipped += 1
            continue
        if attempt.status().toString() == "SKIPPED":
            skipped += 1
            continue
        ran += 1
        read += attempt.inputRecords()
        shuffle_written += attempt.shuffleWriteRecords()
    return {"jobs": len(tracker.getJobIdsForGroup(group)), "stages_run": ran, "stages_skipped": skipped,
            "rows_read": read, "shuffle_rows_written": shuffle_written}


def recomputation(spark, work: Path) -> dict:
    table = str(work / "parquet")
    spark.range(0, 800000, 1, 8).selectExpr("id", "id % 1000 as k").write.parquet(table)
    out: dict = {}

    def run(prefix: str, df, actions) -> None:
        for name, action in actions:
            group = f"{prefix}:{name}"
            in_group(spark, group, lambda: action(df))
            out[group] = stages_of(spark, group)

    write = lambda name: (lambda df: df.write.mode("overwrite").parquet(str(work / name)))  # noqa: E731
    show = ("show", lambda df: df.show(5))
    both = [show, ("count", lambda df: df.count()), ("write", write("w1")), ("collect", lambda df: df.collect()),
            ("collect-again", lambda df: df.collect())]
    run("aggregated", spark.read.parquet(table).groupBy("k").count(), both)
    run("cached", spark.read.parquet(table).groupBy("k").count().cache(), [
        ("count", lambda df: df.count()), ("write", write("w2")), ("collect", lambda df: df.collect())])
    run("read-only", spark.read.parquet(table).where("k < 500"), [
        show, ("count", lambda df: df.count()), ("write", write("w3"))])
    # pyspark.ml.connect's classifier counts on "the shuffling result from the repartition" being
    # reused by a second query over the repartitioned DataFrame: two `head()` queries over it
    run("repartitioned", spark.read.parquet(table).select("id", "k").repartition(4), [
        ("agg-head", lambda df: df.agg(F.count(F.lit(1)), F.countDistinct("k")).head()),
        ("select-head", lambda df: df.select("id").head())])
    # RDD jobs: a second job on an RDD that shares a shuffled RDD skips its map stage; a second
    # job on the RDD before the shuffle reads the input again.
    pairs = spark.read.parquet(table).rdd.map(lambda row: (row.k, 1))
    counts = pairs.reduceByKey(lambda a, b: a + b)
    for group, action in (("rdd:collect", counts.collect), ("rdd:derived-collect", counts.mapValues(lambda v: v + 1).collect),
                          ("rdd:source-count", pairs.count)):
        in_group(spark, group, action)
        out[group] = stages_of(spark, group)
    return out


def analysis(spark, columns: int) -> dict:
    base = spark.range(10).toDF("c0")
    names = [f"c{i}" for i in range(1, columns + 1)]

    def timed(build):
        started = time.perf_counter()
        df = build()
        plan = df._jdf.queryExecution().analyzed()
        return time.perf_counter() - started, plan.toString().count("Project [")

    loop_seconds, loop_projects = timed(lambda: reduce(lambda df, n: df.withColumn(n, F.col("c0") + 1), names, base))
    many_seconds, many_projects = timed(lambda: base.withColumns({n: F.col("c0") + 1 for n in names}))
    select_seconds, select_projects = timed(lambda: base.select("*", *[(F.col("c0") + 1).alias(n) for n in names]))
    return {"loop_projects": loop_projects, "withColumns_projects": many_projects, "select_projects": select_projects,
            "loop_seconds": round(loop_seconds, 3), "withColumns_seconds": round(many_seconds, 3),
            "select_seconds": round(select_seconds, 3)}


def main(work: Path) -> None:
    spark = (SparkSession.builder.master("local[2]").appName("spk005-spk006-evidence")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    measured: dict = {"spark": spark.version, "recomputation": recomputation(spark, work)}
    analysis(spark, 20)  # warm up the analyser's code paths
    measured["analysis"] = {str(n): analysis(spark, n) for n in (50, 200, 400)}
    print(json.dumps(measured))
    spark.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
