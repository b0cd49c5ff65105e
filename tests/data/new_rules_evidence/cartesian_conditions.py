"""What Spark plans for a join whose condition never relates its two sides (SPK007), measured
with a local session: the physical operator of each condition with Spark's broadcast threshold
(10 MiB, both 8 KiB sides fit) and with it off (-1), the rows, and whether
`spark.sql.crossJoin.enabled=false` refuses the join. Prints one JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

OPERATORS = ("CartesianProduct", "BroadcastNestedLoopJoin", "SortMergeJoin", "BroadcastHashJoin", "ShuffledHashJoin")


def strategy(frame) -> str:
    plan = frame._jdf.queryExecution().executedPlan().toString()
    return next((name for name in OPERATORS if name in plan), plan.splitlines()[0][:80])


def main(work: Path) -> None:
    spark = (SparkSession.builder.master("local[2]").appName("cartesian-conditions")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    left, right = str(work / "left"), str(work / "right")
    spark.range(0, 1000, 1, 2).selectExpr("id", "id % 10 as x").write.parquet(left)
    spark.range(0, 1000, 1, 2).selectExpr("id as other", "other % 10 as y").write.parquet(right)
    a, b = spark.read.parquet(left), spark.read.parquet(right)
    conditions = {
        "a.x > 5": lambda: a.join(b, a.x > 5),
        "lit(True)": lambda: a.join(b, F.lit(True)),
        "b.y == 1": lambda: a.join(b, b.y == 1),
        "expr('1 = 1')": lambda: a.join(b, F.expr("1 = 1")),
        "a.x > 5, left": lambda: a.join(b, a.x > 5, "left"),
        "a.id == b.other": lambda: a.join(b, a.id == b.other),
        "a.id < b.other": lambda: a.join(b, a.id < b.other),
    }
    measured: dict = {"spark": spark.version, "plans": {}}
    for threshold in ("10485760", "-1"):
        spark.conf.set("spark.sql.autoBroadcastJoinThreshold", threshold)
        measured["plans"][threshold] = {name: [strategy(build()), build().count()] for name, build in conditions.items()}
    spark.conf.unset("spark.sql.autoBroadcastJoinThreshold")
    spark.conf.set("spark.sql.crossJoin.enabled", "false")
    refused = {}
    for name in ("a.x > 5", "lit(True)", "a.id == b.other"):
        try:
            conditions[name]().count()
            refused[name] = False
        except Exception as error:  # an AnalysisException through Py4J
            refused[name] = "cartesian" in str(error).lower() or str(error)[:120]
    measured["refused_without_crossJoin_enabled"] = refused
    print(json.dumps(measured))
    spark.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
