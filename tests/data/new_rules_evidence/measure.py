"""What Spark really does for SPK004, SPK008 and SPK009, measured with a local session: jobs
and tasks run (from the status tracker, by job group) and whether a collect fails on
`spark.driver.maxResultSize`. Prints one JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyspark.sql import SparkSession


def tasks_of(spark, group: str) -> list[int]:
    """Tasks of each job run in `group`, in job order (a job's tasks: those of its stages)."""
    tracker = spark.sparkContext.statusTracker()
    jobs = sorted(tracker.getJobIdsForGroup(group))
    counts = []
    for job in jobs:
        info = tracker.getJobInfo(job)
        counts.append(sum(tracker.getStageInfo(stage).numTasks for stage in info.stageIds if tracker.getStageInfo(stage)))
    return counts


def input_records(spark, group: str) -> int:
    tracker = spark.sparkContext.statusTracker()
    stages = {stage for job in tracker.getJobIdsForGroup(group) for stage in tracker.getJobInfo(job).stageIds}
    store = spark.sparkContext._jsc.sc().statusStore()
    return sum(store.lastStageAttempt(stage).inputRecords() for stage in stages)


def in_group(spark, group: str, action):
    spark.sparkContext.setJobGroup(group, group)
    try:
        return action()
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)


def main(work: Path) -> None:
    spark = (SparkSession.builder.master("local[2]").appName("new-rules-evidence")
             .config("spark.driver.maxResultSize", "1m").config("spark.ui.enabled", "false")
             .config("spark.sql.files.maxPartitionBytes", "4096").config("spark.sql.files.openCostInBytes", "0")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    measured: dict = {"spark": spark.version}

    csv, js = str(work / "csv"), str(work / "json")
    rows = spark.range(0, 4000, 1, 8).selectExpr("id", "cast(id * 2 as string) as name")
    rows.write.option("header", "true").csv(csv)
    rows.write.json(js)
    schema = "id BIGINT, name STRING"

    in_group(spark, "csv-infer", lambda: spark.read.option("header", "true").option("inferSchema", "true").csv(csv))
    in_group(spark, "csv-schema", lambda: spark.read.schema(schema).option("header", "true").csv(csv))
    in_group(spark, "csv-scan", lambda: spark.read.schema(schema).option("header", "true").csv(csv).foreach(lambda _: None))
    in_group(spark, "json-infer", lambda: spark.read.json(js))
    in_group(spark, "json-schema", lambda: spark.read.schema(schema).json(js))
    in_group(spark, "json-scan", lambda: spark.read.schema(schema).json(js).foreach(lambda _: None))
    measured["read_jobs"] = {group: tasks_of(spark, group) for group in
                             ("csv-infer", "csv-schema", "csv-scan", "json-infer", "json-schema", "json-scan")}

    # rows read from the files, from the status store (py4j) of the stages of each action's jobs
    table = str(work / "parquet")
    spark.range(0, 800000, 1, 8).selectExpr("id", "id % 7 as k").write.parquet(table)
    data = spark.read.parquet(table)
    rows_read = {}
    for name, action in (("count", data.count), ("isEmpty", data.isEmpty), ("head1", lambda: data.head(1))):
        in_group(spark, name, action)
        rows_read[name] = input_records(spark, name)
    measured["emptiness_rows"] = rows_read

    wide = spark.range(0, 200000, 1, 8).selectExpr("id", "sha2(cast(id as string), 256) as pad")
    try:
        measured["collected_rows"] = len(wide.collect())
    except Exception as error:  # Py4J wraps the SparkException
        measured["collected_rows"] = "maxResultSize" if "maxResultSize" in str(error) else str(error)[:200]
    measured["limited_rows"] = len(wide.limit(20).collect())
    # SPK010: files written per partition value, after a round-robin and a by-column repartition
    days = spark.range(0, 50000, 1, 4).selectExpr("id", "id % 5 as day")
    files = {}
    for name, frame in (("round-robin", days.repartition(12)), ("by-column", days.repartition(12, "day")),
                        ("by-other-column", days.repartition(12, "id"))):
        out = work / f"scatter-{name}"
        frame.write.partitionBy("day").parquet(str(out))
        files[name] = len(list(out.rglob("*.parquet")))
    measured["partitioned_files"] = files

    # SPK007: a join without a condition is a cartesian product, whatever the strategy
    left, right = str(work / "left"), str(work / "right")
    spark.range(0, 1000, 1, 2).write.parquet(left)
    spark.range(0, 1000, 1, 2).withColumnRenamed("id", "other").write.parquet(right)
    products = {}
    for threshold in ("10485760", "-1"):
        spark.conf.set("spark.sql.autoBroadcastJoinThreshold", threshold)
        joined = spark.read.parquet(left).join(spark.read.parquet(right))
        plan = joined._jdf.queryExecution().executedPlan().toString()
        strategy = next((name for name in ("CartesianProduct", "BroadcastNestedLoopJoin") if name in plan), plan[:80])
        products[threshold] = [strategy, joined.count()]
    spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
    measured["cartesian"] = products
    print(json.dumps(measured))
    spark.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
