"""Shared helpers: write small projects into a temp dir, run the CLI the way users do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

# Fuzz tests: a bounded number of examples on every CI run; `benchmarks/fuzz.py` runs the same
# tests with the "long" profile by hand. Examples are derandomised so CI is repeatable.
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("SPARKLINT_FUZZ_PROFILE", "ci"))

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = Path(__file__).resolve().parent / ".tools"  # git-ignored: npm packages, copies of the repo
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("SPARKLINT_UPDATE_GOLDEN") == "1"


@dataclass(frozen=True, slots=True)
class CliRun:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def write_project(root: Path, files: dict[str, str], marker: str = "[tool.sparklint]\n") -> Path:
    """Files (dedented) under `root`, plus a pyproject.toml root marker unless one is given."""
    root.mkdir(parents=True, exist_ok=True)
    if "pyproject.toml" not in files:
        (root / "pyproject.toml").write_text(marker, encoding="utf-8")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def run_cli(*args: str, cwd: Path | None = None) -> CliRun:
    """`sparklint ARGS` in-process, with separate stdout and stderr, from directory `cwd`."""
    from sparklint.cli import main

    runner = CliRunner()
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        outcome = runner.invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)
    return CliRun(outcome.exit_code, outcome.stdout, outcome.stderr)


def cache_line_and_report(project: Path, *args: str) -> tuple[str, str]:
    """`check --timings` of `project`: its `cache:` line (what was lowered, analysed or reused)
    and its JSON report without the run time, as one string."""
    run = run_cli("check", str(project), "--output-format", "json", "--exit-zero", "--timings", *args)
    assert run.exit_code == 0, run.stderr
    cache_line = next(line for line in run.stderr.splitlines() if line.startswith("cache: "))
    document = json.loads(run.stdout)
    document["summary"].pop("seconds")
    return cache_line, json.dumps(document, sort_keys=True)


def measurement(script: Path, tmp_path_factory) -> dict:
    """What a measuring PySpark script (tests/data/new_rules_evidence) prints last, as JSON; it
    works in a fresh directory of its own."""
    pytest.importorskip("pyspark")
    work = tmp_path_factory.mktemp("evidence")
    run = subprocess.run([sys.executable, str(script), str(work)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def pyspark_jars() -> Path | None:
    """The jars of the installed PySpark, when they hold a Scala compiler (to compile fixtures)."""
    try:
        import pyspark
    except ImportError:
        return None
    jars = Path(pyspark.__file__).parent / "jars"
    return jars if any(jars.glob("scala-compiler*.jar")) else None


EXPECT = re.compile(r"(?:#|//)\s*expect:\s*(SPK\d{3}(?:\s*,\s*SPK\d{3})*)")
# The marker of each language, as the fixture trees write it (`# expect: SPK001` in Python files,
# `// expect: SPK001` in Scala files).
MARKERS = {
    ".py": re.compile(r"#\s*expect:\s*(SPK\d{3}(?:\s*,\s*SPK\d{3})*)"),
    ".scala": re.compile(r"//\s*expect:\s*(SPK\d{3}(?:\s*,\s*SPK\d{3})*)"),
}


def project_markers(root: Path, suffixes: tuple[str, ...] = (".py", ".scala")) -> set[tuple[str, int, str]]:
    """(path, line, rule) for each expect marker in the files of a project tree on disk."""
    found = set()
    for path in sorted(root.rglob("*")):
        pattern = MARKERS.get(path.suffix) if path.suffix in suffixes else None
        if pattern is None or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = pattern.search(line)
            if match:
                found |= {(path.relative_to(root).as_posix(), number, code.strip()) for code in match.group(1).split(",")}
    return found


# The story fixture's SPK001 chain, hop by hop: (path, line) from the `__main__` block to the write.
STORY_PY_CHAIN = [
    ("sitevisits/jobs/hourly_visits.py", 51),
    ("sitevisits/jobs/hourly_visits.py", 46),
    ("sitevisits/pipeline/steps.py", 49),
    ("sitevisits/sinks/publisher.py", 29),
    ("sitevisits/lake/tables.py", 19),
    ("sitevisits/lake/iceberg.py", 16),
    ("sitevisits/lake/iceberg.py", 19),
]


def marked_lines(files: dict[str, str]) -> set[tuple[str, int, str]]:
    """(path, line, rule) for each `# expect: SPKnnn` (`// expect:` in Scala) in dedented files."""
    expected = set()
    for path, text in files.items():
        for number, line in enumerate(textwrap.dedent(text).lstrip("\n").splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                expected |= {(path, number, code.strip()) for code in match.group(1).split(",")}
    return expected


def check_files(root: Path, files: dict[str, str], *args: str) -> dict:
    """`files` written as a project under `root`, checked; the JSON report."""
    write_project(root, files)
    run = run_cli("check", "--output-format", "json", "--exit-zero", "--no-cache", *args, str(root))
    assert run.exit_code == 0, run.stderr
    return run.json()


def assert_marked(root: Path, files: dict[str, str], *args: str) -> dict:
    """The project's findings are exactly its marked lines (semgrep-style annotated tests)."""
    report = check_files(root, files, *args)
    found = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]}
    assert found == marked_lines(files)
    return report


def check_in(project: Path, *args: str) -> dict:
    """`sparklint check . --output-format json` run from inside `project`, as its JSON report."""
    result = run_cli("check", ".", "--output-format", "json", "--no-cache", *args, cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    return result.json()


def findings_by_place(report: dict) -> dict[tuple[str, str, int], dict]:
    """A report's findings keyed by (rule, path, line)."""
    return {(item["rule"], item["location"]["path"], item["location"]["line"]): item for item in report["findings"]}


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/<name>; SPARKLINT_UPDATE_GOLDEN=1 rewrites it (review the diff)."""
    path = GOLDEN_DIR / name
    if UPDATE_GOLDEN or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE_GOLDEN:
            pytest.fail(f"golden file {path} did not exist; written now, review and commit it")
    assert actual == path.read_text(encoding="utf-8")


def engine_available() -> bool:
    return (REPO_ROOT / "sparklint" / "engine.py").exists()


needs_engine = pytest.mark.skipif(not engine_available(), reason="sparklint/engine.py (the lead's engine) has not landed yet")


# A three-file PySpark project: the job passes its DataFrame to a helper that coalesces before the write.
CROSS_FILE_PROJECT = {
    "jobs/__init__.py": "",
    "jobs/daily.py": '''
        from pyspark.sql import SparkSession

        from jobs.sink import publish


        def main():
            spark = SparkSession.builder.appName("daily").getOrCreate()
            events = spark.read.parquet("s3://lake/events")
            publish(events, "s3://lake/daily")


        if __name__ == "__main__":
            main()
    ''',
    "jobs/sink.py": '''
        def publish(df, path):
            df.coalesce(2).write.mode("overwrite").parquet(path)
    ''',
}
# jobs/sink.py line 2 holds the coalesce; jobs/daily.py line 10 calls publish.
CROSS_FILE_FINDING = ("SPK001", "jobs/sink.py", 2)


@pytest.fixture
def cross_file_project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", CROSS_FILE_PROJECT)
