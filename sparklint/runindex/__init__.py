"""A run index: many runs' profiles as Parquet tables, built once and queried in place.

    summarise.py   one log -> the rows of every table (the same profile model `check --profile` reads)
    tables.py      the tables, their columns and the Parquet layout
    store.py       writing and reading an index directory (pyarrow), incremental bookkeeping
    build.py       `sparklint index build`: the local engine (a process pool)
    spark_job.py   the same summariser as a PySpark job (`--engine spark`, or spark-submit it)
    query.py       selecting runs in SQL (DuckDB) and loading only those
    cli.py         the `sparklint index` commands

pyarrow and duckdb come with `pip install 'sparklint[index]'`; without them the commands say so
in one line.
"""

from __future__ import annotations

INSTALL_HINT = "the run index needs duckdb and pyarrow: pip install 'sparklint[index]'"


class IndexUnavailable(Exception):
    """A library the index needs is not installed; the message is one line."""


def require(module: str):
    """Import `module` (duckdb, pyarrow.parquet...) or raise IndexUnavailable with the install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise IndexUnavailable(INSTALL_HINT) from None
