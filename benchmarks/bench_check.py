"""Time the real `sparklint check` command on a project directory.

    python benchmarks/bench_check.py benchmarks/generated/py200k --repeat 3
    python benchmarks/bench_check.py DIR --no-cache --json

Each run is the installed CLI in a subprocess, exactly as a user types it:

    sparklint check --output-format json --exit-zero --no-cache DIR     (cold: no parse cache)
    sparklint check --output-format json --exit-zero DIR                (fill, then warm runs)

and reports wall time, the lines checked (every .py/.scala line under DIR outside the excluded
folders), lines per second, the peak resident memory and the number of findings. Peak memory is
given twice: the largest single process (`ru_maxrss` of the child from `wait4`, KiB on Linux,
what `getrusage(RUSAGE_CHILDREN)` reports) and the whole process tree sampled from /proc every
20 ms (sparklint may parse in worker processes). Without `--no-cache` the project's parse cache
(`DIR/.sparklint_cache`) is removed first, filled by one run and then read by the warm runs.
When DIR holds a `GENERATED.json` from generate_project.py, the planted findings that were
reported are counted too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules", "build",
    "dist", "target", ".bsp", ".metals", ".bloop", ".idea", ".sparklint_cache", "site-packages",
})
SOURCE_SUFFIXES = (".py", ".scala")
SAMPLE_SECONDS = 0.02


class BenchError(Exception):
    """Something the user can fix; printed as one line."""


@dataclass(frozen=True, slots=True)
class Run:
    mode: str  # "cold" (--no-cache), "fill" (first run with the cache), "warm"
    seconds: float
    exit_code: int
    peak_rss_kib: int  # the largest single process
    tree_rss_kib: int  # the whole process tree, sampled; 0 when /proc is not available
    findings: int
    by_rule: dict[str, int]
    lines_reported: int  # summary.lines_checked as sparklint reports it
    reported_locations: tuple[tuple[str, str, int], ...]
    slowest_files: tuple[tuple[str, float], ...] = ()  # (path, lowering + analysis s) from --timings


@dataclass(frozen=True, slots=True)
class Summary:
    mode: str
    runs: int
    best_seconds: float
    median_seconds: float
    lines: int
    lines_per_second: float
    peak_rss_mib: float
    tree_rss_mib: float
    findings: int


# ---------------------------------------------------------------- counting


def count_source_lines(directory: Path) -> tuple[int, int]:
    """(files, lines) of .py and .scala files under `directory`, skipping the folders sparklint
    skips by default (its default excludes and hidden folders)."""
    files = lines = 0
    for current, folders, names in os.walk(directory):
        folders[:] = sorted(name for name in folders if name not in SKIPPED_DIRS and not name.startswith("."))
        for name in names:
            if name.endswith(SOURCE_SUFFIXES):
                with open(os.path.join(current, name), "rb") as handle:
                    lines += sum(1 for _ in handle)
                files += 1
    return files, lines


# ---------------------------------------------------------------- running


def sparklint_command(explicit: str | None) -> list[str]:
    """`--sparklint` if given, else the `sparklint` script beside this interpreter, else on PATH."""
    if explicit is not None:
        found = shutil.which(explicit)
        if found is None:
            raise BenchError(f"--sparklint {explicit}: no such executable")
        return [found]
    beside = Path(sys.executable).parent / "sparklint"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sparklint")
    if found is None:
        raise BenchError("the `sparklint` command is not installed (pip install -e . in the repository)")
    return [found]


def process_tree_rss_kib(root_pid: int) -> int:
    """Sum of VmRSS over `root_pid` and its descendants, from /proc (0 if unavailable)."""
    total = 0
    pending = [root_pid]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return total


class TreeSampler(threading.Thread):
    """Samples the process tree's resident memory until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.finished = threading.Event()

    def run(self) -> None:
        while not self.finished.is_set():
            self.peak_kib = max(self.peak_kib, process_tree_rss_kib(self.pid))
            self.finished.wait(SAMPLE_SECONDS)


def run_check(command: list[str], directory: Path, mode: str, timeout: float) -> Run:
    arguments = [*command, "check", "--output-format", "json", "--exit-zero", "--quiet", "--timings"]
    if mode == "cold":
        arguments.append("--no-cache")
    arguments.append(str(directory))
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(arguments, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        sampler = TreeSampler(process.pid)
        sampler.start()
        status, usage = wait_with_timeout(process, timeout)
        seconds = time.perf_counter() - started
        sampler.finished.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if process.returncode != 0:
        last = errors.decode(errors="replace").strip().splitlines()[-1:] or ["(no message)"]
        raise BenchError(f"sparklint exited with {process.returncode} ({mode} run): {last[0]}")
    document = parse_report(output, mode)
    findings = document.get("findings", [])
    summary = document.get("summary", {})
    return Run(
        mode=mode,
        seconds=seconds,
        exit_code=process.returncode,
        peak_rss_kib=usage.ru_maxrss,
        tree_rss_kib=sampler.peak_kib,
        findings=len(findings),
        by_rule=dict(summary.get("by_rule", {})),
        lines_reported=int(summary.get("lines_checked", 0)),
        reported_locations=tuple(
            (finding["rule"], finding["location"]["path"], int(finding["location"]["line"])) for finding in findings
        ),
        slowest_files=slowest_files(errors.decode(errors="replace")),
    )


def slowest_files(timings: str) -> tuple[tuple[str, float], ...]:
    """The `slowest files` rows that `--timings` prints: `  1.93s  path (N lines: ...)`."""
    rows, inside = [], False
    for line in timings.splitlines():
        if line.startswith("slowest files"):
            inside = True
        elif inside and line.startswith("  ") and "s  " in line:
            seconds, _, rest = line.strip().partition("s  ")
            rows.append((rest.rsplit(" (", 1)[0], float(seconds)))
        elif inside:
            break
    return tuple(rows)


def wait_with_timeout(process: subprocess.Popen, timeout: float) -> tuple[int, resource.struct_rusage]:
    """`os.wait4` (for this child's own rusage) with a deadline; kills the child on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            return status, usage
        if time.monotonic() > deadline:
            process.kill()
            os.wait4(process.pid, 0)
            raise BenchError(f"sparklint did not finish within {timeout:g} s")
        time.sleep(0.005)


def parse_report(output: bytes, mode: str) -> dict:
    try:
        document = json.loads(output)
    except json.JSONDecodeError as error:
        raise BenchError(f"the {mode} run did not print a JSON report ({error.msg} at byte {error.pos})") from None
    if not isinstance(document, dict):
        raise BenchError(f"the {mode} run printed JSON that is not a report object")
    return document


# ---------------------------------------------------------------- the parsers' own time


@dataclass(frozen=True, slots=True)
class ParseBaseline:
    totals: dict[str, float]  # language -> seconds the parser alone takes for every file
    files: dict[str, float]  # path relative to the directory -> seconds


def parse_baseline(directory: Path) -> ParseBaseline:
    """What libcst and tree-sitter-scala take to parse the same files, in this process, one
    after the other: the yardstick for sparklint's own time."""
    import libcst
    import tree_sitter
    import tree_sitter_scala

    scala = tree_sitter.Parser(tree_sitter.Language(tree_sitter_scala.language()))
    totals = {"python": 0.0, "scala": 0.0}
    files: dict[str, float] = {}
    for path in source_files(directory):
        data = path.read_bytes()
        started = time.perf_counter()
        try:
            if path.suffix == ".py":
                libcst.parse_module(data)
            else:
                scala.parse(data)
        except Exception:  # a file libcst cannot parse still took the time it took
            pass
        seconds = time.perf_counter() - started
        totals["python" if path.suffix == ".py" else "scala"] += seconds
        files[path.relative_to(directory).as_posix()] = seconds
    return ParseBaseline(totals, files)


def source_files(directory: Path) -> list[Path]:
    found = []
    for folder, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        found += [Path(folder) / name for name in sorted(filenames) if name.endswith(SOURCE_SUFFIXES)]
    return found


# ---------------------------------------------------------------- edits for warm runs


def most_imported_file(directory: Path) -> Path:
    """The source file whose stem the project's import lines name most often."""
    files = source_files(directory)
    counts = {path: 0 for path in files}
    by_stem: dict[str, list[Path]] = {}
    for path in files:
        by_stem.setdefault(path.stem, []).append(path)
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lstrip().startswith(("import ", "from ")):
                for word in line.replace(",", " ").replace(".", " ").replace("{", " ").replace("}", " ").split():
                    for target in by_stem.get(word, ()):
                        counts[target] += 1
    return max(files, key=lambda path: (counts[path], path.stat().st_size))


def add_comment(data: bytes, suffix: str) -> bytes:
    marker = b"#" if suffix == ".py" else b"//"
    return data.rstrip(b"\n") + b"\n" + marker + b" edited by bench_check.py\n"


def change_a_body(data: bytes, suffix: str) -> bytes:
    """One statement more at the top of the first function body, else of the first class or
    object body (positions below it move)."""
    lines = data.split(b"\n")
    opener = b":" if suffix == ".py" else b"{"
    statement = b"_bench_edit = 1" if suffix == ".py" else b"val benchEdit = 1"
    for heads in ((b"def ",), (b"class ", b"object ", b"trait ", b"case class ", b"implicit class ")):
        for number, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith(heads) and stripped.endswith(opener):
                indent = line[: len(line) - len(line.lstrip())] + (b"    " if suffix == ".py" else b"  ")
                return b"\n".join(lines[: number + 1] + [indent + statement] + lines[number + 1:])
    marker = b"#" if suffix == ".py" else b"//"
    return data.rstrip(b"\n") + b"\n" + marker + b" body edit by bench_check.py\n"


# ---------------------------------------------------------------- summarising


def summarise(mode: str, runs: list[Run], lines: int) -> Summary:
    times = [run.seconds for run in runs]
    best = min(times)
    return Summary(
        mode=mode,
        runs=len(runs),
        best_seconds=round(best, 3),
        median_seconds=round(statistics.median(times), 3),
        lines=lines,
        lines_per_second=round(lines / best) if best > 0 else 0.0,
        peak_rss_mib=round(max(run.peak_rss_kib for run in runs) / 1024, 1),
        tree_rss_mib=round(max(run.tree_rss_kib for run in runs) / 1024, 1),
        findings=runs[-1].findings,
    )


def planted_recall(directory: Path, run: Run) -> dict[str, int] | None:
    """How many planted findings (GENERATED.json) the run reported at their exact line."""
    manifest_path = directory / "GENERATED.json"
    if not manifest_path.is_file():
        return None
    try:
        planted = json.loads(manifest_path.read_text(encoding="utf-8"))["planted"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    expected = {(item["rule"], item["path"], int(item["line"])) for item in planted}
    reported = set(run.reported_locations)
    return {"planted": len(expected), "reported": len(expected & reported), "other": len(reported - expected)}


def table(summaries: list[Summary], files: int, lines_reported: int, recall: dict[str, int] | None) -> str:
    header = ("mode", "runs", "best s", "median s", "lines", "lines/s", "peak RSS MiB", "tree RSS MiB", "findings")
    rows = [header] + [
        (s.mode, str(s.runs), f"{s.best_seconds:.2f}", f"{s.median_seconds:.2f}", str(s.lines),
         f"{s.lines_per_second:,.0f}", f"{s.peak_rss_mib:.1f}", f"{s.tree_rss_mib:.1f}", str(s.findings))
        for s in summaries
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.rjust(width) if index else cell.ljust(width)
                       for index, (cell, width) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append(f"{files} source files; sparklint reports {lines_reported} lines checked")
    if recall is not None:
        lines.append(f"planted findings reported: {recall['reported']}/{recall['planted']}; "
                     f"other findings: {recall['other']}")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time `sparklint check` on a project directory.")
    parser.add_argument("directory", type=Path, help="the project to check")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per mode (default 1)")
    parser.add_argument("--no-cache", action="store_true", help="only cold runs (--no-cache); skip the warm-cache runs")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--sparklint", metavar="PATH",
                        help="the sparklint executable to time (default: the one beside this Python, else on PATH)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds one run may take (default 3600)")
    return parser.parse_args(argv)


def bench(directory: Path, repeat: int, cold_only: bool, timeout: float, sparklint: str | None = None) -> dict:
    command = sparklint_command(sparklint)
    files, lines = count_source_lines(directory)
    if files == 0:
        raise BenchError(f"{directory} holds no .py or .scala files")
    parse = parse_baseline(directory)
    cold = [run_check(command, directory, "cold", timeout) for _ in range(repeat)]
    summaries = [summarise("cold", cold, lines)]
    runs = list(cold)
    if not cold_only:
        cache = directory / ".sparklint_cache"
        if cache.is_dir():
            shutil.rmtree(cache)
        fill = run_check(command, directory, "fill", timeout)
        warm = [run_check(command, directory, "warm", timeout) for _ in range(repeat)]
        summaries += [summarise("fill", [fill], lines), summarise("warm", warm, lines)]
        runs += [fill, *warm]
        target = most_imported_file(directory)
        for mode, edit in (("warm-comment", add_comment), ("warm-body", change_a_body)):
            original = target.read_bytes()
            try:
                target.write_bytes(edit(original, target.suffix))
                edited = run_check(command, directory, mode, timeout)
            finally:
                target.write_bytes(original)
            summaries.append(summarise(mode, [edited], lines))
    counts = {(run.findings, tuple(sorted(run.by_rule.items()))) for run in runs}
    return {
        "directory": str(directory),
        "command": [*command, "check", "--output-format", "json", "--exit-zero", "--quiet", "[--no-cache]", str(directory)],
        "files": files,
        "lines": lines,
        "lines_reported_by_sparklint": cold[-1].lines_reported,
        "findings_by_rule": cold[-1].by_rule,
        "findings_agree_across_runs": len(counts) == 1,
        "planted": planted_recall(directory, cold[-1]),
        "summaries": [asdict(summary) for summary in summaries],
        "parse_seconds": {language: round(seconds, 3) for language, seconds in parse.totals.items()},
        "cold_over_parse": round(min(run.seconds for run in cold) / max(sum(parse.totals.values()), 1e-9), 2),
        "slowest_files": [
            {"path": path, "seconds": seconds, "parse_seconds": round(parse.files.get(path, 0.0), 4),
             "over_parse": round(seconds / parse.files[path], 1) if parse.files.get(path) else None}
            for path, seconds in cold[-1].slowest_files
        ],
        "runs": [{key: value for key, value in asdict(run).items() if key != "reported_locations"} for run in runs],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if not args.directory.is_dir():
            raise BenchError(f"{args.directory} is not a directory")
        if args.repeat < 1:
            raise BenchError("--repeat must be at least 1")
        result = bench(args.directory.resolve(), args.repeat, args.no_cache, args.timeout, args.sparklint)
    except BenchError as error:
        print(f"bench_check.py: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        summaries = [Summary(**summary) for summary in result["summaries"]]
        print(table(summaries, result["files"], result["lines_reported_by_sparklint"], result["planted"]))
        parse = ", ".join(f"{language} {seconds:.2f}s" for language, seconds in result["parse_seconds"].items() if seconds)
        print(f"parsers alone (libcst, tree-sitter-scala), one process: {parse}; cold run = {result['cold_over_parse']}x that")
        for row in result["slowest_files"][:5]:
            ratio = f"{row['over_parse']}x its parse time" if row["over_parse"] else "parse time not measured"
            print(f"  slow file: {row['path']} {row['seconds']:.2f}s ({ratio})")
        if not result["findings_agree_across_runs"]:
            print("warning: the runs reported different findings (cache inconsistency?)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
