"""The table-writing utilities of the story: a `coalesce(2)` before a sorted write, and a
`coalesce(1)` before an export."""


def persist(df, path, sort_key):
    df.coalesce(2).sortWithinPartitions(sort_key).write.mode("overwrite").parquet(path)


def export(df, path):
    df.coalesce(1).write.mode("overwrite").json(path)
