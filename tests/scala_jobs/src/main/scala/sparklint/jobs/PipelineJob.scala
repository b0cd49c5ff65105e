package sparklint.jobs

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions._

/** The story as a JVM job: a coalesced sorted write in a writer object, a tiny literal table
  * sort-merge-joined to the events, and a grouping key where "" stands for null.
  * Usage: PipelineJob OUT_DIR ROWS */
object PipelineJob {
  def main(args: Array[String]): Unit = {
    val spark = SparkSession.builder().appName("scala-pipeline").getOrCreate()
    import spark.implicits._
    val out = args(0)
    val rows = args(1).toLong
    val events = spark.range(0, rows, 1, 4)
      .withColumn("origin_uid", when(col("id") % 10 < 7, lit(null)).otherwise(col("id") % 50))
      .withColumn("site", (col("id") % 40).cast("int"))
      .withColumn("value", rand(7))
    Writer.persist(events, out + "/events", "site")

    val regions = Seq((0, "north"), (1, "east"), (2, "south"), (3, "west")).toDF("region", "region_name")
    events.withColumn("region", col("site") % 4).join(regions, "region").groupBy("region_name").count().collect()

    val key = coalesce(col("origin_uid").cast("string"), lit(""))
    val origins = spark.range(0, 50).selectExpr("CAST(id AS STRING) AS key", "concat('origin-', id) AS origin")
    events.withColumn("key", key).join(origins, "key").groupBy("origin").agg(sum("value")).collect()
    spark.stop()
  }
}
