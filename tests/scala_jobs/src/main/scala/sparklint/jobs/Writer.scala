package sparklint.jobs

import org.apache.spark.sql.DataFrame

/** The table-writing utility five files below a job's main in the story; here one. */
object Writer {
  def persist(df: DataFrame, path: String, sortKey: String): Unit = {
    df.coalesce(2)
      .sortWithinPartitions(sortKey)
      .write
      .mode("overwrite")
      .parquet(path)
  }
}
