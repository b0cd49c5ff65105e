"""What sparklint knows of the Spark API, in PySpark and Scala spellings alike."""

from __future__ import annotations

# Modules whose members are Spark SQL functions (`F.coalesce`, `functions.broadcast`, bare
# `coalesce` after `import org.apache.spark.sql.functions._`).
FUNCTIONS_MODULES = (
    "pyspark.sql.functions",
    "pyspark.sql.connect.functions",
    "org.apache.spark.sql.functions",
)
WINDOW_CLASSES = (
    "pyspark.sql.window.Window",
    "pyspark.sql.Window",
    "org.apache.spark.sql.expressions.Window",
)
SESSION_CLASSES = ("pyspark.sql.SparkSession", "pyspark.sql.session.SparkSession", "org.apache.spark.sql.SparkSession")
DELTA_TABLE_CLASSES = ("delta.tables.DeltaTable", "io.delta.tables.DeltaTable", "delta.DeltaTable")

# DataFrame methods that return a DataFrame, by what they do to partitioning.
NARROW = frozenset({
    "select", "selectExpr", "filter", "where", "withColumn", "withColumns", "withColumnRenamed",
    "withColumnsRenamed", "drop", "alias", "as", "cache", "persist", "unpersist", "checkpoint",
    "localCheckpoint", "sample", "dropna", "fillna", "replace", "toDF", "union", "unionAll",
    "unionByName", "limit", "map", "flatMap", "mapPartitions", "mapInPandas", "mapInArrow",
    "withWatermark", "observe", "toJSON", "mapValues", "flatMapValues", "filterNot", "to",
    "withMetadata", "offset", "transform", "mapPartitionsWithIndex", "keyBy", "zipWithIndex",
    "pipe", "glom", "randomSplit", "describe", "summary", "na", "dropDuplicatesWithinWatermark",
})
SHUFFLING = frozenset({
    "rebalance", "repartition", "repartitionByRange", "groupBy", "groupby", "rollup", "cube", "agg", "distinct",
    "dropDuplicates", "drop_duplicates", "orderBy", "sort", "join", "crossJoin", "intersect",
    "intersectAll", "subtract", "except", "exceptAll", "reduceByKey", "groupByKey", "sortBy",
    "sortByKey", "aggregateByKey", "combineByKey", "partitionBy", "cogroup", "joinWith", "aggregate",
})
SORTS_WITHIN_PARTITIONS = frozenset({"sortWithinPartitions"})
GLOBAL_SORTS = frozenset({"orderBy", "sort"})
FILTERS = frozenset({"filter", "where"})

# Libraries with DataFrames of their own whose methods are named as Spark's (`withColumn`,
# `groupBy`, `collect`, a session's `table` and `createDataFrame`): a module that imports one
# and not pyspark gets no Spark DataFrame guessed from a method name on an unknown value.
LOOKALIKE_ENGINES = ("snowflake.snowpark",)

# Methods that, called on a value of unknown type, prove it is a DataFrame: spelled the Spark
# way and found in no common Python or Scala library with that meaning (but `coalesce` of no
# partition count, and `groupBy` by a function, a Scala collection's: `Interpreter.unknown_method`).
DATAFRAME_ONLY = frozenset({
    "withColumn", "withColumns", "withColumnRenamed", "withColumnsRenamed", "repartition",
    "repartitionByRange", "sortWithinPartitions", "writeTo", "dropDuplicates", "selectExpr",
    "crossJoin", "unionByName", "hint", "withWatermark", "createOrReplaceTempView",
    "createOrReplaceGlobalTempView", "localCheckpoint", "groupBy", "coalesce",
})

# Actions that compute without writing.
ACTIONS = frozenset({
    "show", "count", "collect", "take", "first", "head", "tail", "toPandas", "foreach",
    "foreachPartition", "toLocalIterator", "isEmpty", "printSchema", "explain", "reduce",
    "collectAsList", "takeAsList", "countByKey", "countByValue",
})

# `df.write` builder methods that configure, and sinks that write.
WRITER_CONFIG = frozenset({
    "mode", "format", "option", "options", "partitionBy", "bucketBy", "sortBy", "clusterBy",
    "using", "partitionedBy", "tableProperty", "overwrite_partitions_option",
})
WRITER_SINKS = frozenset({
    "save", "parquet", "orc", "json", "csv", "text", "saveAsTable", "insertInto", "jdbc", "avro",
    "xml", "delta",
})
WRITE_TO_SINKS = frozenset({"append", "overwrite", "overwritePartitions", "create", "createOrReplace", "replace"})
RDD_SINKS = frozenset({
    "saveAsTextFile", "saveAsObjectFile", "saveAsSequenceFile", "saveAsHadoopFile",
    "saveAsNewAPIHadoopFile", "saveAsPickleFile", "saveAsHadoopDataset", "saveAsNewAPIHadoopDataset",
})
MERGE_BUILDER = frozenset({
    "whenMatched", "whenMatchedUpdate", "whenMatchedUpdateAll", "whenMatchedDelete",
    "whenNotMatched", "whenNotMatchedInsert", "whenNotMatchedInsertAll",
    "whenNotMatchedBySource", "whenNotMatchedBySourceUpdate", "whenNotMatchedBySourceDelete",
    "withSchemaEvolution", "update", "updateAll", "insert", "insertAll", "delete",
})

READER_FORMATS = frozenset({"parquet", "orc", "json", "csv", "text", "table", "load", "jdbc", "avro", "delta", "xml", "textFile"})

# Column functions whose result is the first non-null argument.
NULL_COALESCING = frozenset({"coalesce", "nvl", "ifnull"})
STRING_FUNCTIONS = frozenset({
    "concat", "concat_ws", "lower", "upper", "trim", "ltrim", "rtrim", "substring", "substr",
    "regexp_replace", "regexp_extract", "lpad", "rpad", "initcap", "translate", "format_string",
    "sha2", "md5", "sha1", "base64", "split_part", "left", "right", "uuid",
})
STRING_TYPES = frozenset({"string", "stringtype", "varchar", "char"})

# Join hints that mean the user chose the strategy.
JOIN_HINTS = frozenset({
    "broadcast", "broadcastjoin", "mapjoin", "shuffle_hash", "shuffle_merge", "merge",
    "shuffle_replicate_nl",
})


def normalise_join_type(how: str) -> str | None:
    """Spark's join type names, folded to inner/cross/left/right/full/semi/anti."""
    key = how.lower().replace("_", "")
    return {
        "inner": "inner", "cross": "cross", "left": "left", "leftouter": "left",
        "right": "right", "rightouter": "right", "full": "full", "outer": "full",
        "fullouter": "full", "semi": "semi", "leftsemi": "semi", "anti": "anti", "leftanti": "anti",
    }.get(key)


def broadcastable_sides(join_type: str) -> tuple[str, ...]:
    """Which side Spark can broadcast for a join type (a broadcast hash join builds its hash
    table on the broadcast side, which must not be the preserved side of an outer join)."""
    return {
        "inner": ("left", "right"),
        "cross": ("left", "right"),
        "left": ("right",),
        "semi": ("right",),
        "anti": ("right",),
        "right": ("left",),
        "full": (),
    }.get(join_type, ())
