"""Which join Spark plans for a small side of each kind, joined to a side too large to broadcast.

Run with real PySpark: `python join_plans.py WORKDIR` prints one JSON object, small side -> the
join operators of the final physical plan (after adaptive execution ran the query).
"""

import json
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def final_joins(df) -> list[str]:
    df.write.format("noop").mode("overwrite").save()  # run it, so adaptive execution settles
    plan = df._jdf.queryExecution().executedPlan().toString()
    return sorted({name for name in ("BroadcastHashJoin", "SortMergeJoin", "ShuffledHashJoin",
                                     "BroadcastNestedLoopJoin") if name in plan})


def main(workdir: str) -> None:
    spark = SparkSession.builder.master("local[2]").appName("join-plans").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    large_path, dim_path = f"{workdir}/large", f"{workdir}/dim"
    (spark.range(400_000).withColumn("k", F.col("id") % 40).withColumn("pad", F.sha2(F.col("id").cast("string"), 256))
     .write.mode("overwrite").parquet(large_path))
    spark.range(40).withColumnRenamed("id", "k").withColumn("name", F.concat(F.lit("n"), F.col("k")))\
        .write.mode("overwrite").parquet(dim_path)
    large = spark.read.parquet(large_path)
    rows = [(k, f"n{k}") for k in range(40)]
    sides = {
        "createDataFrame of a local list": lambda: spark.createDataFrame(rows, "k long, name string"),
        "createDataFrame of an RDD": lambda: spark.createDataFrame(spark.sparkContext.parallelize(rows), "k long, name string"),
        # all columns kept: Spark's estimate is then the large scan's size, as for most real filters
        "a filter of a large table, tiny in fact": lambda: large.filter(F.col("id") < 40),
        "SQL VALUES (a LocalRelation)": lambda: spark.sql(
            "SELECT * FROM VALUES " + ", ".join(f"({k}L, 'n{k}')" for k in range(40)) + " AS t(k, name)"),
        "spark.range(40)": lambda: spark.range(40).withColumnRenamed("id", "k"),
        "large.limit(10)": lambda: large.limit(10).select("k"),
        "a 40-row parquet dimension": lambda: spark.read.parquet(dim_path),
    }
    plans = {name: final_joins(large.join(side(), "k")) for name, side in sides.items()}
    spark.conf.set("spark.sql.autoBroadcastJoinThreshold", "-1")
    plans["SQL VALUES with autoBroadcastJoinThreshold=-1"] = final_joins(large.join(sides["SQL VALUES (a LocalRelation)"](), "k"))
    plans["spark.range(40) with autoBroadcastJoinThreshold=-1"] = final_joins(large.join(sides["spark.range(40)"](), "k"))
    print(json.dumps({"spark": spark.version, "plans": plans}))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
