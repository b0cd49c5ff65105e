"""Event-log read speed (MB/s of decompressed JSON), peak memory, and the cached second read.

A large log is built from a real one (tests/data/eventlogs/plain by default): its header and
first job are kept as they are, then the task events of its busiest stage are repeated with
fresh task ids until the log reaches --size-mb of JSON, then its remaining events follow. That
keeps the event mix of a real run (task-end events dominate large logs) at any size. The log is
written plain and zstd-compressed (zstd the way Spark 4 writes it: standard frames) into
benchmarks/generated/ (git-ignored); each is read in a fresh subprocess so peak RSS is the
reader's own.

    .venv/bin/python benchmarks/bench_eventlog.py --size-mb 1024
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO / "tests" / "data" / "eventlogs" / "plain"
GENERATED = REPO / "benchmarks" / "generated"
MB = 1_000_000

READER = r"""
import json, resource, sys, time
from sparklint.profile.sources import ReadOptions, discover, read_run
started = time.perf_counter()
(ref,) = discover(sys.argv[1], ReadOptions())
run = read_run(ref, ReadOptions())
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "decoded_bytes": run.decoded_bytes, "events": run.events_read,
                  "tasks": sum(stage.task_time_ms.count for stage in run.stages),
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def template_log(path: Path) -> Path:
    return next(entry for entry in path.iterdir() if entry.is_file()) if path.is_dir() else path


def build_large_log(template: Path, target: Path, size_bytes: int) -> int:
    """Write `target` (plain JSON lines) of about `size_bytes`; return its size."""
    lines = template.read_bytes().splitlines(keepends=True)
    events = [orjson.loads(line) for line in lines]
    per_stage: dict[int, int] = {}
    for event in events:
        if event["Event"] == "SparkListenerTaskEnd":
            per_stage[event["Stage ID"]] = per_stage.get(event["Stage ID"], 0) + 1
    busiest = max(per_stage, key=per_stage.get)
    task_lines = [
        (index, event) for index, event in enumerate(events)
        if event["Event"] in ("SparkListenerTaskStart", "SparkListenerTaskEnd") and event.get("Stage ID") == busiest
    ]
    insert_after = max(index for index, _ in task_lines)
    next_task_id = 1 + max(event["Task Info"]["Task ID"] for event in events if "Task Info" in event)
    written = 0
    with target.open("wb") as out:
        for index, line in enumerate(lines):
            out.write(line)
            written += len(line)
            if index != insert_after:
                continue
            template_bytes = sum(len(lines[i]) for i, _ in task_lines)
            rounds = max(0, (size_bytes - len(b"".join(lines))) // max(1, template_bytes))
            for _ in range(rounds):
                offset = {}
                for _, event in task_lines:
                    old = event["Task Info"]["Task ID"]
                    if old not in offset:
                        offset[old] = next_task_id
                        next_task_id += 1
                    event["Task Info"]["Task ID"] = offset[old]
                    data = orjson.dumps(event) + b"\n"
                    event["Task Info"]["Task ID"] = old
                    out.write(data)
                    written += len(data)
    return written


def compress_zstd(source: Path, target: Path) -> None:
    import zstandard

    compressor = zstandard.ZstdCompressor(level=1)
    with source.open("rb") as raw, target.open("wb") as out:
        with compressor.stream_writer(out, closefd=False) as writer:
            while chunk := raw.read(1 << 20):
                writer.write(chunk)
                writer.flush(zstandard.FLUSH_FRAME)  # Spark's zstd writer: a frame per flush


# The yardstick: parse every line of the decompressed log with orjson and drop the result.
BARE_LOOP = r"""
import json, sys, time, orjson
started = time.perf_counter()
size = 0
with open(sys.argv[1], "rb") as log:
    for line in log:
        size += len(line)
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
print(json.dumps({"seconds": time.perf_counter() - started, "decoded_bytes": size}))
"""


def read_in_subprocess(path: Path, script: str = READER) -> dict:
    output = subprocess.run([sys.executable, "-c", script, str(path)], check=True, capture_output=True, text=True)
    return json.loads(output.stdout)


def best_of(repeat: int, path: Path, script: str = READER) -> dict:
    return min((read_in_subprocess(path, script) for _ in range(repeat)), key=lambda result: result["seconds"])


def cache_timings(path: Path) -> tuple[float, float]:
    from sparklint.profile.api import RunFilter, load_runs
    from sparklint.profile.cache import ProfileCache
    from sparklint.profile.sources import ReadOptions

    with tempfile.TemporaryDirectory() as directory:
        cache = ProfileCache(Path(directory))
        started = time.perf_counter()
        load_runs([str(path)], RunFilter(), ReadOptions(), cache)
        first = time.perf_counter() - started
        started = time.perf_counter()
        second = load_runs([str(path)], RunFilter(), ReadOptions(), cache)
        assert second.cache_hits == 1
        return first, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="decompressed JSON size of the large log")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="a real plain event log to scale")
    parser.add_argument("--keep", action="store_true", help="keep the generated logs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each reader; the best counts")
    args = parser.parse_args()

    GENERATED.mkdir(parents=True, exist_ok=True)
    plain = GENERATED / "local-bench"
    zstd = GENERATED / "local-bench.zstd"
    size = build_large_log(template_log(args.template), plain, args.size_mb * MB)
    compress_zstd(plain, zstd)
    print(f"large log: {size / MB:.0f} MB of JSON; zstd {zstd.stat().st_size / MB:.0f} MB")
    print(f"{'codec':<6} {'JSON MB':>8} {'seconds':>8} {'MB/s':>7} {'peak RSS MB':>12} {'tasks':>9}")
    rates = {}
    for codec, path in (("plain", plain), ("zstd", zstd)):
        result = best_of(args.repeat, path)
        megabytes = result["decoded_bytes"] / MB
        rates[codec] = megabytes / result["seconds"]
        print(f"{codec:<6} {megabytes:>8.0f} {result['seconds']:>8.1f} {rates[codec]:>7.0f} "
              f"{result['peak_rss_kb'] / 1024:>12.0f} {result['tasks']:>9}")
    bare = best_of(args.repeat, plain, BARE_LOOP)
    bare_rate = bare["decoded_bytes"] / MB / bare["seconds"]
    print(f"bare orjson.loads loop over the plain log: {bare_rate:.0f} MB/s; "
          f"the reader on the plain log runs at {rates['plain'] / bare_rate:.2f}x of it")
    first, second = cache_timings(zstd)
    print(f"cache: first read {first:.1f} s, second read (cached summary) {second * 1000:.0f} ms")
    if not args.keep:
        plain.unlink()
        zstd.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
