"""The table-writing utility of the story: a `coalesce(2)` before a sorted write."""


def persist(df, path, sort_key):
    df.coalesce(2).sortWithinPartitions(sort_key).write.mode("overwrite").parquet(path)
