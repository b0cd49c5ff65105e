"""Two archive writers of the same shape: a plan fingerprint cannot tell them apart at run time,
a call site can (see `archive_daily`)."""

import sys


def archive_daily(df, path):
    df.sparkSession.sparkContext.setLocalProperty("callSite.short", f"parquet at {__file__}:{sys._getframe().f_lineno + 1}")
    df.coalesce(2).write.mode("overwrite").parquet(path)
    df.sparkSession.sparkContext.setLocalProperty("callSite.short", None)


def archive_hourly(df, path):
    df.coalesce(2).write.mode("overwrite").parquet(path)
