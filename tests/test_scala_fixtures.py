"""End to end on the Scala fixtures: `sparklint check` run as users run it, findings compared with
the `// expect: SPKnnn` markers, chains compared with the Python twin's shape."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import project_markers, pyspark_jars

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"
SPARKLINT = Path(sys.executable).with_name("sparklint")
STORY = "src/main/scala/com/acme/sitevisits"


def check(*args: str | Path, cwd: Path | None = None) -> tuple[int, dict]:
    completed = subprocess.run(
        [str(SPARKLINT), "check", "--output-format", "json", "--no-cache", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def expected_markers(root: Path) -> set[tuple[str, str, int]]:
    return {(code, path, line) for path, line, code in project_markers(root, (".scala",))}


def found(document: dict) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["location"]["path"], f["location"]["line"]) for f in document["findings"]}


def finding(document: dict, rule: str) -> dict:
    (only,) = [f for f in document["findings"] if f["rule"] == rule]
    return only


def files_in_order(chain: list[dict]) -> list[str]:
    """The files a chain walks through, consecutive repeats collapsed."""
    paths: list[str] = []
    for step in chain:
        path = step["location"]["path"]
        if not paths or paths[-1] != path:
            paths.append(path)
    return paths


@pytest.mark.parametrize("fixture", ["story_scala", "story_scala_fixed", "traps_scala", "sql_scala", "rules_scala"])
def test_findings_are_exactly_the_expect_markers(fixture: str) -> None:
    root = FIXTURES / fixture
    code, document = check(root)
    assert found(document) == expected_markers(root)
    assert code == (1 if expected_markers(root) else 0)
    assert document["warnings"] == []


def test_story_coalesce_chain_walks_five_files_from_main() -> None:
    _, document = check(FIXTURES / "story_scala")
    spk001 = finding(document, "SPK001")
    assert spk001["severity"] == "error"  # the write is sorted
    assert spk001["location"]["column"] == 8  # the `coalesce` name
    assert files_in_order(spk001["chain"]) == [
        f"{STORY}/HourlyJob.scala",
        f"{STORY}/pipeline/Pipeline.scala",
        f"{STORY}/sinks/Publisher.scala",
        f"{STORY}/lake/TableOps.scala",
        f"{STORY}/lake/IcebergUtil.scala",
    ]
    first = spk001["chain"][0]
    assert (first["location"]["line"], "HourlyJob.main()" in first["message"]) == (30, True)
    assert "writeIceberg" in spk001["chain"][2]["message"]  # through the implicit class


def test_story_chains_have_the_same_shape_as_the_python_twin() -> None:
    """Per rule: the same severity, the same related locations and the same rule-specific chain
    notes as story_py; both chains start at the job's entry and walk call by call to the line.
    (The call hops differ by design: Python enters through its `__main__` block and re-exports a
    helper, Scala goes through a `Pipeline` object; the README lists both.)"""
    if not (FIXTURES / "story_py").is_dir():
        pytest.skip("the Python story fixture is not in this checkout")
    _, scala = check(FIXTURES / "story_scala")
    _, python = check(FIXTURES / "story_py")
    entries = {"scala": f"{STORY}/HourlyJob.scala", "python": "sitevisits/jobs/hourly_visits.py"}
    for rule in ("SPK001", "SPK002", "SPK003"):
        shapes = {}
        for language, document in (("scala", scala), ("python", python)):
            chain = finding(document, rule)["chain"]
            calls = [step for step in chain if " calls " in step["message"]]
            notes = [step["message"] for step in chain if " calls " not in step["message"]]
            assert chain[0]["location"]["path"] == entries[language], (rule, language)
            assert chain[: len(calls)] == calls, (rule, language)  # calls first, then notes
            assert len(calls) >= 2, (rule, language)
            shapes[language] = (finding(document, rule)["severity"],
                                len(finding(document, rule)["related"]), notes)
        assert shapes["scala"] == shapes["python"], rule


def test_story_join_and_key_point_at_their_sources() -> None:
    _, document = check(FIXTURES / "story_scala")
    spk002 = finding(document, "SPK002")
    assert [r["location"]["path"] for r in spk002["related"]] == [f"{STORY}/dims/Dimensions.scala"]
    spk003 = finding(document, "SPK003")
    assert [(r["location"]["path"], r["location"]["line"]) for r in spk003["related"]] == [
        (f"{STORY}/keys/VisitorKeys.scala", 13)]


def test_traps_reach_findings_through_app_trait_and_companion() -> None:
    _, document = check(FIXTURES / "traps_scala")
    by_path = {f["location"]["path"].rsplit("/", 1)[-1] + f":{f['location']['line']}": f
               for f in document["findings"]}
    for key in ("ExportHelpers.scala:11", "ExportHelpers.scala:15", "Exporter.scala:11",
                "Exports.scala:44"):
        chain = by_path[key]["chain"]
        assert chain[0]["location"]["path"].endswith("jobs/NightlyOrders.scala"), key
    assert by_path["ExportHelpers.scala:11"]["severity"] == "note"  # repartition(1): lower


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def test_noqa_comment_suppresses_a_scala_finding(tmp_path: Path) -> None:
    root = copy_fixture("story_scala", tmp_path)
    util = root / STORY / "lake/IcebergUtil.scala"
    util.write_text(util.read_text(encoding="utf-8").replace(
        "// expect: SPK001", "// noqa: SPK001"), encoding="utf-8")
    _, document = check(root)
    assert {f["rule"] for f in document["findings"]} == {"SPK002", "SPK003"}


def test_unparsable_file_is_spk000_and_never_stops_the_run(tmp_path: Path) -> None:
    root = copy_fixture("story_scala", tmp_path)
    (root / STORY / "Broken.scala").write_text(
        "package com.acme.sitevisits\n\nobject Broken {\n  def f(x: Int = ) = {\n}\n",
        encoding="utf-8")
    _, document = check(root)
    rules = sorted(f["rule"] for f in document["findings"])
    assert rules == ["SPK000", "SPK001", "SPK002", "SPK003"]
    spk000 = finding(document, "SPK000")
    assert spk000["location"]["path"] == f"{STORY}/Broken.scala"
    assert spk000["location"]["line"] == 4


def test_mixed_python_and_scala_repository_in_one_run(tmp_path: Path) -> None:
    if not (FIXTURES / "story_py").is_dir():
        pytest.skip("the Python story fixture is not in this checkout")
    root = tmp_path / "mixed"
    shutil.copytree(FIXTURES / "story_py", root)
    shutil.copytree(FIXTURES / "story_scala" / "src", root / "src")
    _, document = check(root)
    by_language = sorted((f["rule"], f["location"]["path"].rsplit(".", 1)[-1])
                         for f in document["findings"])
    assert by_language == [("SPK001", "py"), ("SPK001", "scala"), ("SPK002", "py"),
                           ("SPK002", "scala"), ("SPK003", "py"), ("SPK003", "scala")]
    # Only the findings touching a given path are reported.
    _, only_scala = check(root / "src", cwd=root)
    assert {f["location"]["path"].rsplit(".", 1)[-1] for f in only_scala["findings"]} == {"scala"}


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["story_scala", "story_scala_fixed", "traps_scala", "sql_scala", "rules_scala"])
def test_fixture_is_valid_scala_that_compiles_against_spark(fixture: str, tmp_path: Path) -> None:
    """The fixtures are real code: scalac (from PySpark's own jars) compiles them against the
    Spark SQL API."""
    jars = pyspark_jars()
    java = shutil.which("java")
    if jars is None or java is None:
        pytest.skip("needs PySpark's jars (with scala-compiler) and a JVM")
    sources = sorted(str(p) for p in (FIXTURES / fixture).rglob("*.scala"))
    completed = subprocess.run(
        [java, "-Xss8m", "-cp", f"{jars}/*", "scala.tools.nsc.Main", "-usejavacp",
         "-d", str(tmp_path), *sources],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "error" not in completed.stdout + completed.stderr


SCALA3_PROJECT = {
    "build.sbt": 'ThisBuild / scalaVersion := "3.3.3"\n',
    "src/main/scala/com/acme/Main.scala": """\
        package com.acme
        package jobs

        import org.apache.spark.sql.SparkSession
        import lake.Lake.*

        @main def hourly(hour: String): Unit =
          val spark = SparkSession.builder().getOrCreate()
          val events = spark.read.table("raw.events")
          events.writeIceberg("lake.visits") // noqa: SPK002
        """,
    "src/main/scala/com/acme/Lake.scala": """\
        package com.acme.lake

        import org.apache.spark.sql.DataFrame

        object Lake:
          final val Files = 2
          extension (df: DataFrame)
            def writeIceberg(table: String): Unit =
              df.coalesce(Files).writeTo(table).append()
        """,
}


def test_scala3_main_extension_and_relative_import(tmp_path: Path) -> None:
    """Scala 3: an `@main` entry, an `extension` method brought in by a relative wildcard import
    (`lake.Lake.*` from inside `package com.acme` / `package jobs`), indentation syntax; the
    unused `noqa` is reported as SPK100 at the comment."""
    import textwrap

    for relative, text in SCALA3_PROJECT.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    _, document = check(tmp_path)
    assert found(document) == {
        ("SPK001", "src/main/scala/com/acme/Lake.scala", 9),
        ("SPK100", "src/main/scala/com/acme/Main.scala", 10),
    }
    chain = finding(document, "SPK001")["chain"]
    assert chain[0]["location"]["path"] == "src/main/scala/com/acme/Main.scala"
    assert "hourly()" in chain[0]["message"] and "writeIceberg" in chain[0]["message"]


# ---------------------------------------------------------------- audit reproductions (own code)


def write_project(root: Path, files: dict[str, str]) -> Path:
    import textwrap

    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def located(document: dict) -> set[tuple[str, str, int, int]]:
    return {(f["rule"], f["location"]["path"], f["location"]["line"], f["location"]["column"])
            for f in document["findings"]}


AUDIT_CASES = {
    "named-argument-using": ("Export.scala", """
        package acme
        import com.fasterxml.jackson.databind.annotation.JsonSerialize
        import org.apache.spark.sql.DataFrame

        @JsonSerialize(using = classOf[StampSerializer])
        case class Stamp(version: Long)
        class StampSerializer

        object Export {
          def bump(using: Int): Int = using + 1
          def run(df: DataFrame): Unit = df.coalesce(bump(using = 3)).write.parquet("/out")
        }
        """, {("SPK001", "Export.scala", 11, 37)}),
    "symbol-literal-keyword": ("Checks.scala", """
        package acme
        import org.apache.spark.sql.DataFrame

        object Checks {
          val cases = Map('new -> "fresh", 'type -> "kind", 'val -> "value")
          def run(df: DataFrame): Unit = df.coalesce(1).write.json("/checks")
        }
        """, {("SPK001", "Checks.scala", 6, 37)}),
    "postfix-before-else": ("Ship.scala", """
        package acme
        import scala.language.postfixOps
        import scala.sys.process._
        import org.apache.spark.sql.DataFrame

        object Ship {
          def ship(target: String, df: DataFrame): Unit = {
            if (target == "remote") s"scp out $target" !
            else throw new IllegalArgumentException(target)
            df.coalesce(2).write.orc("/shipped")
          }
        }
        """, {("SPK001", "Ship.scala", 10, 8)}),
    "companion-method-shadowed": ("Store.scala", """
        package acme
        import org.apache.spark.sql.{DataFrame, SparkSession}

        class Store(spark: SparkSession, root: String) {
          def save(name: String, df: DataFrame): Store = { Store.save(root, name, df); this }
        }

        object Store {
          val Parts = 4
          def save(root: String, name: String, df: DataFrame): Unit =
            df.coalesce(Parts).write.mode("overwrite").parquet(root + name)
        }
        """, {("SPK001", "Store.scala", 11, 8)}),
    "branch-value": ("Pick.scala", """
        package acme
        import org.apache.spark.sql.DataFrame

        object Pick {
          def save(df: DataFrame, single: Boolean, mode: Int): Unit = {
            val out = if (single) df.coalesce(1) else df
            out.write.parquet("/a")
            val narrowed = mode match {
              case 0 => df
              case _ => df.coalesce(2)
            }
            narrowed.write.parquet("/b")
          }
        }
        """, {("SPK001", "Pick.scala", 6, 30), ("SPK001", "Pick.scala", 10, 20)}),
    "literal-to-df-without-parentheses": ("Codes.scala", """
        package acme
        import org.apache.spark.sql.SparkSession

        object Codes {
          def main(args: Array[String]): Unit = {
            val spark = SparkSession.builder().getOrCreate()
            import spark.implicits._
            val codes = spark.sparkContext.parallelize(Seq(("DE", "Germany"), ("FR", "France"))).toDF
            spark.read.table("raw.events").join(codes, Seq("country")).write.parquet("/out")
            val local = Seq(("DE", "Germany")).toDF  // a LocalRelation: Spark broadcasts it itself
            spark.read.table("raw.events").join(local, Seq("country")).write.parquet("/out2")
          }
        }
        """, {("SPK002", "Codes.scala", 9, 36)}),
}


@pytest.mark.parametrize("case", sorted(AUDIT_CASES))
def test_audit_reproductions(case: str, tmp_path: Path) -> None:
    """Valid Scala the grammar used to reject is checked (no SPK000), a companion object's
    method sharing its class's method name is analysed, `if`/`match` values keep every option,
    and `Seq(...).toDF` without parentheses is literal data."""
    filename, text, expected = AUDIT_CASES[case]
    root = write_project(tmp_path, {filename: text})
    _, document = check(root, "--root", root)
    assert located(document) == expected
    assert document["warnings"] == []
