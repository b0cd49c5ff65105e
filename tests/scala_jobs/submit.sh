#!/bin/sh
# How the pipeline is submitted: auto-broadcast is switched off for the whole job, so Spark
# sort-merge-joins even the small sides it could size itself.
exec spark-submit --master "${MASTER:-local[2]}" --class sparklint.jobs.PipelineJob \
  --conf spark.sql.autoBroadcastJoinThreshold=-1 \
  --conf spark.sql.shuffle.partitions=8 \
  target/scala-pipeline.jar "$@"
