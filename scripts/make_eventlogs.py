"""Regenerate tests/data/eventlogs: real Spark event logs of tests/spark_jobs/pipeline_job.py in
every codec Spark writes (plain, lz4, lzf, snappy, zstd) and a rolling zstd log of several parts,
(lookup/) one zstd log of tests/spark_jobs/lookup/lookup_job.py (a measured-small join side,
a write with a `callSite.short` recipe), and (tests/data/evidence/) one zstd log of
tests/evidence_job/evidence_job.py (a large and a small collect, a scattered partitioned
write, an uncached aggregate written and collected).

Run with the project's virtualenv (it needs pyspark and Java 17):
    .venv/bin/python scripts/make_eventlogs.py [pipeline] [lookup] [evidence]     (default: all)
The logs are real output of the installed Spark; nothing in them is edited.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JOB = REPO / "tests" / "spark_jobs" / "pipeline_job.py"
LOOKUP_JOB = REPO / "tests" / "spark_jobs" / "lookup" / "lookup_job.py"
EVIDENCE_JOB = REPO / "tests" / "evidence_job" / "evidence_job.py"
JOBS = ("pipeline", "lookup", "evidence")
TARGET = REPO / "tests" / "data" / "eventlogs"
EVIDENCE_TARGET = REPO / "tests" / "data" / "evidence"  # apart: tests count the runs under TARGET
VARIANTS = ("plain", "lz4", "lzf", "snappy", "zstd", "rolling")


def generate(log_dir: Path, out_dir: Path, variants: tuple[str, ...] = VARIANTS) -> None:
    """Run the pipeline once per variant; logs land in log_dir/<variant>/."""
    subprocess.run([sys.executable, str(JOB), str(log_dir), str(out_dir), *variants], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def generate_lookup(log_dir: Path, out_dir: Path, job: Path = LOOKUP_JOB) -> None:
    """Run the lookup job (or another job taking LOG_DIR OUT_DIR) once; its log lands in log_dir/."""
    subprocess.run([sys.executable, str(job), str(log_dir), str(out_dir)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _copy_logs(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    for entry in source.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns(".*.crc"))
        elif not entry.name.startswith("."):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(entry, target / entry.name)


def main(argv: list[str]) -> int:
    wanted = set(argv) or set(JOBS)
    unknown = wanted - set(JOBS)
    if unknown:
        print(f"make_eventlogs: unknown job {sorted(unknown)[0]!r} ({', '.join(JOBS)})", file=sys.stderr)
        return 2
    TARGET.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sparklint-eventlogs-") as scratch:
        if "pipeline" in wanted:
            logs = Path(scratch) / "logs"
            generate(logs, Path(scratch) / "out")
            for variant in VARIANTS:
                _copy_logs(logs / variant, TARGET / variant)
        if "lookup" in wanted:
            generate_lookup(Path(scratch) / "lookup-logs", Path(scratch) / "lookup-out")
            _copy_logs(Path(scratch) / "lookup-logs", TARGET / "lookup")
        if "evidence" in wanted:
            generate_lookup(Path(scratch) / "evidence-logs", Path(scratch) / "evidence-out", EVIDENCE_JOB)
            _copy_logs(Path(scratch) / "evidence-logs", EVIDENCE_TARGET)
    for path in sorted([*TARGET.rglob("*"), *EVIDENCE_TARGET.rglob("*")]):
        if path.is_file():
            print(f"{path.relative_to(REPO)}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
