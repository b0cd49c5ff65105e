"""`sparklint index build SOURCE... -o DIR`: the run index commands."""

from __future__ import annotations

from pathlib import Path

import click

from sparklint.profile.codecs import DEFAULT_LIMIT
from sparklint.runindex import IndexUnavailable
from sparklint.runindex.store import IndexFormatError


@click.group("index")
def index_command() -> None:
    """Build a run index: many runs' profiles as Parquet tables that `check --profile DIR` and
    `sparklint profile DIR` query in place."""


@index_command.command("build")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The index directory (created, or added to).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="local: a process pool on this machine; spark: a PySpark job, one task per log.")
@click.option("--master", help="The Spark master for --engine spark (default: local[*], or what spark-submit set).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes of the local engine [default: cores].")
@click.option("--max-log-bytes", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="Bytes of JSON read from one log at most.")
@click.option("-q", "--quiet", is_flag=True, help="No warnings, only errors.")
def build_command(sources: tuple[str, ...], output: Path, engine: str, master: str | None, jobs: int | None,
                  max_log_bytes: int, quiet: bool) -> None:
    """Index the event logs SOURCE... (files, rolling log directories, log directories, History
    Server URLs; under --engine spark also any Hadoop URI such as s3a:// or hdfs://)."""
    from sparklint.runindex.build import build_index

    try:
        if engine == "spark":
            from sparklint.runindex.spark_job import build_with_spark

            report = build_with_spark(list(sources), output, master=master, max_log_bytes=max_log_bytes)
        else:
            report = build_index(sources, output, jobs=jobs, max_log_bytes=max_log_bytes)
    except (IndexUnavailable, IndexFormatError) as error:
        raise click.ClickException(str(error)) from None
    if not quiet:
        for warning in report.warnings:
            click.echo(f"sparklint: warning: {' '.join(warning.split())}", err=True)
    click.echo(f"sparklint: {output}: {report.line()}", err=True)
    if not report.logs_found:
        raise click.ClickException("no event log found in " + ", ".join(sources))
