"""Regenerate tests/data/eventlogs: real Spark event logs of tests/spark_jobs/pipeline_job.py in
every codec Spark writes (plain, lz4, lzf, snappy, zstd) and a rolling zstd log of several parts.

Run with the project's virtualenv (it needs pyspark and Java 17):
    .venv/bin/python scripts/make_eventlogs.py
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
TARGET = REPO / "tests" / "data" / "eventlogs"
VARIANTS = ("plain", "lz4", "lzf", "snappy", "zstd", "rolling")


def generate(log_dir: Path, out_dir: Path, variants: tuple[str, ...] = VARIANTS) -> None:
    """Run the pipeline once per variant; logs land in log_dir/<variant>/."""
    subprocess.run([sys.executable, str(JOB), str(log_dir), str(out_dir), *variants], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sparklint-eventlogs-") as scratch:
        logs = Path(scratch) / "logs"
        generate(logs, Path(scratch) / "out")
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.mkdir(parents=True)
        for variant in VARIANTS:
            for entry in (logs / variant).iterdir():
                if entry.is_dir():
                    shutil.copytree(entry, TARGET / variant / entry.name,
                                    ignore=shutil.ignore_patterns(".*.crc"))
                elif not entry.name.startswith("."):
                    (TARGET / variant).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(entry, TARGET / variant / entry.name)
    for path in sorted(TARGET.rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(REPO)}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
