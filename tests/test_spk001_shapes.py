"""SPK001 in the shapes real code uses (fixtures/shapes_py, fixtures/shapes_scala): lambdas,
loops and comprehensions over collections of DataFrames, `if`/`match` values with one small
arm, `repartition(N)` with a small N, class attributes computed from earlier ones, a Scala
session from `getOrCreate` without parentheses, and `.coalesce(1)` in comments and strings.

Findings are compared with the `expect:` markers (exactly), severities and chains with the
fixtures' READMEs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO_ROOT, project_markers, pyspark_jars, run_cli

FIXTURES = REPO_ROOT / "fixtures"
SCALA = "src/main/scala/com/shapeshop"


def _check(project: Path, *options: str) -> dict:
    run = run_cli("check", "--output-format", "json", "--exit-zero", "--no-cache", *options, str(project))
    assert run.exit_code == 0, run.stderr
    return run.json()


def _by_line(report: dict) -> dict[tuple[str, int], dict]:
    return {(f["location"]["path"].rsplit("/", 1)[-1], f["location"]["line"]): f for f in report["findings"]}


@pytest.mark.parametrize("name", ["shapes_py", "shapes_scala"])
def test_findings_are_exactly_the_marked_lines(name: str) -> None:
    project = FIXTURES / name
    report = _check(project)
    found = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]}
    assert found == project_markers(project)
    assert report["warnings"] == []


def test_python_severities_and_messages() -> None:
    findings = _by_line(_check(FIXTURES / "shapes_py"))
    assert findings[("repartitions.py", 6)]["severity"] == "note"
    assert "`repartition(4)` before a write: only 4 tasks write all the data" in findings[("repartitions.py", 6)]["message"]
    assert findings[("repartitions.py", 11)]["severity"] == "warning"
    assert "`repartition(8)` before a sorted write: 8 tasks will sort" in findings[("repartitions.py", 11)]["message"]
    assert findings[("repartitions.py", 18)]["severity"] == "warning"  # writer partitionBy sorts
    assert "noqa: SPK001" in findings[("repartitions.py", 6)]["fix"]
    for line in (9, 15, 25):  # the small arm of a branch, at its own line
        assert findings[("branches.py", line)]["severity"] == "warning"
    assert "`coalesce(3)`" in findings[("branches.py", 15)]["message"]
    assert "`coalesce(2)`" in findings[("defaults.py", 8)]["message"]  # Layout.FILES = BASE_FILES + 1
    assert "`coalesce(3)`" in findings[("defaults.py", 22)]["message"]  # FILES = BATCH * 3, a method default


def test_python_chains_start_at_the_main_block() -> None:
    findings = _by_line(_check(FIXTURES / "shapes_py"))
    chain = [(s["location"]["path"].rsplit("/", 1)[-1], s["location"]["line"]) for s in findings[("branches.py", 9)]["chain"]]
    assert chain == [("daily_exports.py", 53), ("daily_exports.py", 32), ("branches.py", 9), ("branches.py", 10)]
    chain = [(s["location"]["path"].rsplit("/", 1)[-1], s["location"]["line"]) for s in findings[("loops.py", 40)]["chain"]]
    assert chain == [("daily_exports.py", 53), ("daily_exports.py", 29), ("loops.py", 40), ("loops.py", 42)]


def test_scala_severities_and_chains() -> None:
    findings = _by_line(_check(FIXTURES / "shapes_scala"))
    assert findings[("Collections.scala", 9)]["severity"] == "note"  # Option.foreach(_.repartition(1)...)
    assert findings[("Repartitions.scala", 11)]["severity"] == "note"
    assert findings[("Repartitions.scala", 15)]["severity"] == "warning"
    assert findings[("Branches.scala", 17)]["severity"] == "warning"
    chain = [(s["location"]["path"].rsplit("/", 1)[-1], s["location"]["line"]) for s in findings[("Collections.scala", 34)]["chain"]]
    assert chain == [("DailyExports.scala", 22), ("Collections.scala", 34), ("Collections.scala", 35)]
    # the session from `getOrCreate` without parentheses reaches the write in main
    assert findings[("DailyExports.scala", 42)]["location"]["column"] == 13


def test_max_partitions_bounds_repartition_too(tmp_path: Path) -> None:
    project = tmp_path / "shapes_py"
    shutil.copytree(FIXTURES / "shapes_py", project)
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text(encoding="utf-8") + "\n[tool.sparklint.coalesce-before-write]\nmax-partitions = 4\n",
        encoding="utf-8",
    )
    found = {(f["location"]["path"].rsplit("/", 1)[-1], f["location"]["line"]) for f in _check(project)["findings"]}
    assert ("repartitions.py", 6) in found  # 4 <= 4
    assert ("repartitions.py", 11) not in found  # 8 > 4
    assert ("loops.py", 40) in found and ("defaults.py", 22) in found


def test_rows_a_comprehension_makes_over_a_large_range_are_not_tiny(tmp_path: Path) -> None:
    """A `range(a, b)` is kept as its two bounds: a comprehension over one gave two rows, which
    made `createDataFrame` of a hundred million generated rows look like literal test data
    (MrPowers/quinn's benchmark writer). A range of a few numbers still gives its rows."""
    from conftest import check_files

    report = check_files(tmp_path / "project", {"job.py": """
        import random

        from pyspark.sql import SparkSession

        def save(spark, n, parts):
            rows = [(random.randint(1, 10),) for _ in range(n)]
            spark.createDataFrame(rows, ["count"]).repartition(parts).write.parquet(f"out/{n}")

        def small(spark):
            rows = [(i, str(i)) for i in range(3)]
            spark.createDataFrame(rows, ["id", "name"]).repartition(1).write.parquet("out/small")

        if __name__ == "__main__":
            spark = SparkSession.builder.getOrCreate()
            save(spark, 100_000_000, 1)
            small(spark)
    """})
    assert {(f["location"]["line"], f["rule"]) for f in report["findings"]} == {(7, "SPK001")}


@pytest.mark.slow
def test_scala_fixture_compiles_against_spark(tmp_path: Path) -> None:
    jars = pyspark_jars()
    java = shutil.which("java")
    if jars is None or java is None:
        pytest.skip("needs PySpark's jars (with scala-compiler) and a JVM")
    sources = sorted(str(p) for p in (FIXTURES / "shapes_scala").rglob("*.scala"))
    completed = subprocess.run(
        [java, "-Xss8m", "-cp", f"{jars}/*", "scala.tools.nsc.Main", "-usejavacp", "-d", str(tmp_path), *sources],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
