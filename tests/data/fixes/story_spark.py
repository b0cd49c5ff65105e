"""The story's key and join, before and after `sparklint check --fix --unsafe-fixes`, run with real
PySpark: `python story_spark.py ORIGINAL FIXED WORKDIR` prints one JSON object with, for each copy
of fixtures/story_py, the join operators of the country join's final plan and how the visitor key
groups 1000 logged-out visitors (each with its own cookie id, an origin id of "").
"""

import importlib
import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

LOGGED_OUT = 1000


def final_joins(df) -> list[str]:
    df.write.format("noop").mode("overwrite").save()  # run it, so adaptive execution settles
    plan = df._jdf.queryExecution().executedPlan().toString()
    return sorted({name for name in ("BroadcastHashJoin", "SortMergeJoin", "ShuffledHashJoin") if name in plan})


def load(project: str, module: str):
    """`module` of one copy of the story: each copy is imported under its own package path."""
    for name in [name for name in sys.modules if name == "sitevisits" or name.startswith("sitevisits.")]:
        del sys.modules[name]
    sys.path.insert(0, project)
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(project)


def measure(spark, project: str, events_path: str) -> dict:
    steps = load(project, "sitevisits.pipeline.steps")
    visitors = load(project, "sitevisits.keys.visitors")
    joined = steps.add_country(spark, spark.read.parquet(events_path))
    logged_out = spark.createDataFrame([("", f"cookie-{n}", f"device-{n}") for n in range(LOGGED_OUT)],
                                       "origin_uid string, cookie_uid string, device_id string")
    keys = visitors.with_visitor_key(logged_out).groupBy(visitors.VISITOR_KEY).count()
    largest = keys.agg(F.max("count")).first()[0]
    empty = keys.filter(F.col(visitors.VISITOR_KEY) == "").agg(F.sum("count")).first()[0] or 0
    return {"join": final_joins(joined), "largest_key_rows": largest, "empty_key_rows": empty}


def main(original: str, fixed: str, workdir: str) -> None:
    spark = SparkSession.builder.master("local[2]").appName("story-fixes").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    events_path = f"{workdir}/events"
    (spark.range(400_000).withColumn("country_code", F.element_at(F.array(*map(F.lit, ["DE", "FR", "NL", "XX"])),
                                                                  (F.col("id") % 4 + 1).cast("int")))
     .withColumn("pad", F.sha2(F.col("id").cast("string"), 256))
     .write.mode("overwrite").parquet(events_path))
    print(json.dumps({"spark": spark.version, "original": measure(spark, original, events_path),
                      "fixed": measure(spark, fixed, events_path)}))
    spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
