"""Run index: build throughput (MB of logs per second, both engines) and the time of
`sparklint check --profile INDEX` on indexes of 1,000 and 10,000 runs.

Build: --logs runs derived from tests/data/eventlogs/plain (tests/derived_runs.py: new app ids,
shifted times), written zstd-compressed as Spark 4 writes them, indexed by the local engine
(--jobs workers) and by the Spark engine (local[--jobs]); the figure is the logs' bytes on disk
and the JSON they hold over the build's wall time (Spark's start-up not counted).

Query: indexes of N runs made from the same template at the model level (each run re-keyed and
shifted a minute, spread over 20 applications and 30 days), then the real CLI in a subprocess:
`check tests/spark_jobs --profile INDEX --app-name pipeline-plain --last 5`, the same with
`--last 50`, and without a filter (the newest 100), against the check without a profile.

    .venv/bin/python benchmarks/bench_index.py --logs 200 --jobs 2 --runs 1000 10000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from derived_runs import TEMPLATE, template_events, write_derived_runs  # noqa: E402

MB = 1_000_000
APPS = 20


def make_logs(directory: Path, count: int) -> int:
    import zstandard

    plain = directory / "plain"
    write_derived_runs(plain, count, events=template_events())
    compressor = zstandard.ZstdCompressor(level=1)
    total = 0
    for path in sorted(plain.iterdir()):
        target = directory / "zstd" / (path.name + ".zstd")
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(compressor.compress(path.read_bytes()))
        total += target.stat().st_size
    shutil.rmtree(plain)
    return total


def time_build(logs: Path, jobs: int, engine: str, work: Path) -> tuple[float, int, int]:
    from sparklint.runindex.build import build_index

    output = work / f"index-{engine}"
    shutil.rmtree(output, ignore_errors=True)
    if engine == "local":
        report = build_index([str(logs)], output, jobs=jobs)
    else:
        from pyspark.sql import SparkSession

        from sparklint.runindex.spark_job import build_with_spark

        spark = SparkSession.builder.master(f"local[{jobs}]").appName("bench-index").getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        build_with_spark([str(logs)], work / "warm-up", spark=spark)  # start the Python workers
        report = build_with_spark([str(logs)], output, spark=spark)
        spark.stop()
    assert not report.bad, report.warnings
    return report.seconds, report.log_bytes, report.decoded_bytes


def synthetic_index(directory: Path, runs: int) -> None:
    """An index of `runs` runs made from the template's profile, written with the index writer."""
    from sparklint.profile.sources import ReadOptions, discover, read_run
    from sparklint.runindex.store import ensure_index, write_rows
    from sparklint.runindex.tables import TABLES, rows_of

    (ref,) = discover(str(TEMPLATE), ReadOptions())
    template = read_run(ref, ReadOptions())
    ensure_index(directory)
    batch: dict[str, list] = {table: [] for table in TABLES}
    for index in range(runs):
        shift = (index % 30) * 86_400_000 + index * 60_000
        name = "pipeline-plain" if index % APPS == 0 else f"app-{index % APPS:02d}"
        run = replace(template, app_id=f"local-{2_000_000_000_000 + index}", app_name=name,
                      started_ms=template.started_ms + shift, ended_ms=template.ended_ms + shift,
                      source=f"/logs/local-{index}")
        log = {"path": run.source, "kind": "file", "size": 1, "mtime_ns": index, "hash": f"{index:032x}",
               "build_id": "bench"}
        for table, rows in rows_of(run, log).items():
            batch[table].extend(rows)
        if (index + 1) % 2000 == 0 or index + 1 == runs:
            write_rows(directory, batch, f"part-bench-{index:06d}")
            batch = {table: [] for table in TABLES}


def time_check(project: Path, *args: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sparklint.cli", "check", ".", "--no-cache", "--exit-zero", "-q",
                        "--output-format", "json", *args], cwd=project, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=200, help="derived logs to build from")
    parser.add_argument("--jobs", type=int, default=2, help="workers (local) or cores (Spark)")
    parser.add_argument("--runs", type=int, nargs="*", default=[1000, 10000], help="index sizes to query")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        on_disk = make_logs(work / "logs", args.logs)
        print(f"{args.logs} logs, {on_disk / MB:.1f} MB zstd; {args.jobs} cores")
        print(f"{'engine':<7} {'seconds':>8} {'MB logs/s':>10} {'MB JSON/s':>10}")
        for engine in ("local",) + (() if args.no_spark else ("spark",)):
            seconds, log_bytes, json_bytes = time_build(work / "logs" / "zstd", args.jobs, engine, work)
            print(f"{engine:<7} {seconds:>8.1f} {log_bytes / MB / seconds:>10.1f} {json_bytes / MB / seconds:>10.1f}")
        project = work / "project"
        shutil.copytree(REPO / "tests" / "spark_jobs", project, ignore=shutil.ignore_patterns("__pycache__", "lookup"))
        (project / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
        baseline = time_check(project)
        print(f"check without a profile: {baseline:.2f} s")
        print(f"{'runs':>6} {'--last 5':>9} {'--last 50':>10} {'newest 100':>11}  (seconds, whole command)")
        for runs in args.runs:
            index = work / f"index-{runs}"
            synthetic_index(index, runs)
            last5 = time_check(project, "--profile", str(index), "--app-name", "pipeline-plain", "--last", "5")
            last50 = time_check(project, "--profile", str(index), "--app-name", "pipeline-plain", "--last", "50")
            default = time_check(project, "--profile", str(index))
            print(f"{runs:>6} {last5:>9.2f} {last50:>10.2f} {default:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
