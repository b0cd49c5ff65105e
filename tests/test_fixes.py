"""`sparklint check --fix`, `--unsafe-fixes`, `--diff`, `--show-fixes`: the real CLI on copies of
the story fixtures and on small projects written here, the real `git apply` on `--diff`'s output,
the fixed Python compiled and the fixed Scala parsed again."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO_ROOT, pyspark_jars, run_cli, write_project

from sparklint.findings import (
    Applicability, CallSite, Finding, Fix, Location, Operand, RenameCall, Severity, WrapInFunction,
)
from sparklint.fixes import FixError, fix_project, write_fixes
from sparklint.fixes.plan import fix_round
from sparklint.fixes.scala import ScalaFile, parse, syntax_errors
from sparklint.report.json import JSON_SCHEMA
from sparklint.settings import Settings

FIXTURES = REPO_ROOT / "fixtures"
STORIES = ("story_py", "story_scala")

STORY_PY_DIFF = '''\
--- a/sitevisits/keys/visitors.py
+++ b/sitevisits/keys/visitors.py
@@ -11,5 +11,9 @@
 def with_visitor_key(df: DataFrame) -> DataFrame:
     return df.withColumn(
         VISITOR_KEY,
-        F.coalesce(F.col("origin_uid"), F.col("cookie_uid"), F.col("device_id")),
+        F.coalesce(
+            F.nullif(F.col("origin_uid"), F.lit("")),
+            F.nullif(F.col("cookie_uid"), F.lit("")),
+            F.col("device_id"),
+        ),
     )
--- a/sitevisits/lake/iceberg.py
+++ b/sitevisits/lake/iceberg.py
@@ -13,7 +13,7 @@
 def overwrite_partitions(df: DataFrame, table: str) -> None:
     """Replace the partitions of `table` that `df` covers, sorted for range scans."""
     (
-        df.coalesce(WRITE_PARALLELISM)  # expect: SPK001
+        df.repartition(200)  # expect: SPK001
         .sortWithinPartitions("event_hour", "site_id")
         .writeTo(table)
         .overwritePartitions()
--- a/sitevisits/pipeline/steps.py
+++ b/sitevisits/pipeline/steps.py
@@ -40,7 +40,7 @@
 def add_country(spark: SparkSession, events: DataFrame) -> DataFrame:
     """Attach the country name; events from unknown countries keep a null name."""
     countries = country_dimension(spark)
-    return events.join(countries, "country_code", "left")  # expect: SPK002
+    return events.join(F.broadcast(countries), "country_code", "left")  # expect: SPK002
 
 
 def publish(df: DataFrame, table: str, spark: SparkSession, dry_run: bool = False) -> None:
'''

STORY_SCALA_DIFF = '''\
--- a/src/main/scala/com/acme/sitevisits/keys/VisitorKeys.scala
+++ b/src/main/scala/com/acme/sitevisits/keys/VisitorKeys.scala
@@ -10,6 +10,10 @@
 
   def withVisitorKey(df: DataFrame): DataFrame = {
     import df.sparkSession.implicits._
-    df.withColumn(VisitorKey, coalesce($"origin_uid", $"cookie_uid", $"device_id"))
+    df.withColumn(VisitorKey, coalesce(
+      nullif($"origin_uid", lit("")),
+      nullif($"cookie_uid", lit("")),
+      $"device_id"
+    ))
   }
 }
--- a/src/main/scala/com/acme/sitevisits/lake/IcebergUtil.scala
+++ b/src/main/scala/com/acme/sitevisits/lake/IcebergUtil.scala
@@ -12,7 +12,7 @@
 
   /** Replace the partitions of `table` that `df` covers, sorted for range scans. */
   def overwritePartitions(df: DataFrame, table: String): Unit = {
-    df.coalesce(WriteParallelism) // expect: SPK001
+    df.repartition(200) // expect: SPK001
       .sortWithinPartitions(SortColumns.head, SortColumns.tail: _*)
       .writeTo(table)
       .overwritePartitions()
--- a/src/main/scala/com/acme/sitevisits/pipeline/Steps.scala
+++ b/src/main/scala/com/acme/sitevisits/pipeline/Steps.scala
@@ -31,6 +31,6 @@
   /** Attach the country name; events from unknown countries keep a null name. */
   def addCountry(spark: SparkSession, events: DataFrame): DataFrame = {
     val countries = Dimensions.countries(spark)
-    events.join(countries, Seq("country_code"), "left") // expect: SPK002
+    events.join(broadcast(countries), Seq("country_code"), "left") // expect: SPK002
   }
 }
'''
STORY_DIFFS = {"story_py": STORY_PY_DIFF, "story_scala": STORY_SCALA_DIFF}


def copy_story(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".sparklint_cache", "__pycache__"))
    return target


def git(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-c", "user.email=tests@sparklint.invalid", "-c", "user.name=tests", *args],
                          cwd=cwd, input=stdin, capture_output=True, text=True, check=False)


def sources(project: Path) -> dict[str, bytes]:
    return {path.relative_to(project).as_posix(): path.read_bytes()
            for path in sorted(project.rglob("*")) if path.suffix in (".py", ".scala") and ".sparklint_cache" not in path.parts}


def digest(project: Path) -> str:
    hasher = hashlib.sha256()
    for path, data in sources(project).items():
        hasher.update(path.encode() + b"\0" + data)
    return hasher.hexdigest()


def assert_valid_code(project: Path) -> None:
    for path, data in sources(project).items():
        if path.endswith(".py"):
            compile(data, path, "exec")
        else:
            assert syntax_errors(parse(data)) == 0, path


def check(project: Path, *args: str, cwd: Path | None = None):
    return run_cli("check", "--no-cache", *args, str(project) if cwd is None else ".", cwd=cwd)


def report(project: Path, *args: str) -> dict:
    run = check(project, "--output-format", "json", "--exit-zero", *args)
    assert run.exit_code == 0, run.stderr
    document = run.json()
    jsonschema.Draft202012Validator(JSON_SCHEMA).validate(document)
    return document


# ---------------------------------------------------------------- the stories


@pytest.mark.parametrize("story", STORIES)
def test_fixing_the_story_leaves_a_project_that_passes_and_still_parses(story: str, tmp_path: Path) -> None:
    project = copy_story(story, tmp_path)
    fixed = check(project, "--fix", "--unsafe-fixes", "--show-fixes", "--no-color")
    assert fixed.exit_code == 0, fixed.stdout + fixed.stderr
    assert "Fixed 3 findings:" in fixed.stdout and fixed.stdout.rstrip().endswith("All checks passed on "
                                                                                 f"{len(sources(project))} files.")
    assert "not fixed" not in fixed.stderr
    assert_valid_code(project)
    again = check(project)
    assert again.exit_code == 0 and "All checks passed" in again.stdout
    converged = digest(project)
    second = check(project, "--fix", "--unsafe-fixes")
    assert second.exit_code == 0 and "Fixed" not in second.stdout
    assert digest(project) == converged  # nothing left to fix


@pytest.mark.parametrize("story", STORIES)
def test_story_diff_is_the_documented_fixes_and_writes_nothing(story: str, tmp_path: Path) -> None:
    project = copy_story(story, tmp_path)
    before = digest(project)
    run = check(project, "--diff", "--unsafe-fixes", cwd=project)
    assert run.exit_code == 1
    assert run.stdout == STORY_DIFFS[story]
    assert "would fix 3 findings" in run.stderr
    assert digest(project) == before


@pytest.mark.parametrize("story", STORIES)
def test_diff_applies_with_git_apply_and_equals_fix(story: str, tmp_path: Path) -> None:
    applied, fixed = copy_story(story, tmp_path / "applied"), copy_story(story, tmp_path / "fixed")
    assert git("init", "-q", cwd=applied).returncode == 0
    run = check(applied, "--diff", "--unsafe-fixes", cwd=applied)
    assert run.exit_code == 1
    outcome = git("apply", "-", cwd=applied, stdin=run.stdout)
    assert outcome.returncode == 0, outcome.stderr
    assert check(fixed, "--fix", "--unsafe-fixes").exit_code == 0
    assert sources(applied) == sources(fixed)
    nothing = check(applied, "--diff", "--unsafe-fixes", cwd=applied)
    assert (nothing.exit_code, nothing.stdout) == (0, "")


def test_diff_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    project = copy_story("story_py", tmp_path / "repo")
    assert git("init", "-q", cwd=tmp_path / "repo").returncode == 0
    run = run_cli("check", "--no-cache", "--diff", "story_py", cwd=tmp_path / "repo")
    assert run.exit_code == 1
    assert run.stdout.startswith("--- a/story_py/sitevisits/pipeline/steps.py\n")
    assert git("apply", "-", cwd=tmp_path / "repo", stdin=run.stdout).returncode == 0
    assert "F.broadcast(countries)" in (project / "sitevisits/pipeline/steps.py").read_text(encoding="utf-8")


def test_fix_alone_makes_only_the_safe_fixes(tmp_path: Path) -> None:
    project = copy_story("story_py", tmp_path)
    before = sources(project)
    run = check(project, "--fix", "--no-color")
    assert run.exit_code == 1  # the coalesce and the key are left
    after = sources(project)
    assert [path for path in before if before[path] != after[path]] == ["sitevisits/pipeline/steps.py"]
    assert "Fixed 1 finding." in run.stdout
    assert "[*] 2 fixable with `--fix --unsafe-fixes`." in run.stdout
    remaining = {finding["rule"] for finding in report(project)["findings"]}
    assert remaining == {"SPK001", "SPK003"}


def test_fixable_and_unfixable_choose_the_rules(tmp_path: Path) -> None:
    project = copy_story("story_py", tmp_path)
    pyproject = project / "pyproject.toml"
    original = pyproject.read_text(encoding="utf-8")
    assert original.rstrip().endswith("[tool.sparklint]")
    pyproject.write_text(original + 'unfixable = ["missing-broadcast-hint"]\n', encoding="utf-8")
    before = sources(project)
    assert check(project, "--fix").exit_code == 1
    assert sources(project) == before
    pyproject.write_text(original + 'fixable = ["SPK001"]\n', encoding="utf-8")
    check(project, "--fix", "--unsafe-fixes")
    changed = [path for path, data in sources(project).items() if data != before[path]]
    assert changed == ["sitevisits/lake/iceberg.py"]


def test_reports_say_which_findings_have_a_fix_and_how_safe(tmp_path: Path) -> None:
    project = copy_story("story_py", tmp_path)
    text = check(project, "--no-color").stdout
    assert "  fix: Wrap the right side in `broadcast(...)` (safe, `--fix`)" in text
    assert "  fix: Replace `coalesce(2)` with `repartition(200)` (unsafe, `--fix --unsafe-fixes`): the write makes" in text
    assert text.splitlines()[-2:] == ["[*] 1 fixable with `--fix`, 2 more with `--fix --unsafe-fixes`.",
                                      "Found 3 findings (1 error, 2 warnings) in 3 files; 16 files checked."]
    fixes = {finding["rule"]: finding["autofix"] for finding in report(project)["findings"]}
    assert {rule: fix["applicability"] for rule, fix in fixes.items()} == {
        "SPK001": "unsafe", "SPK002": "safe", "SPK003": "unsafe"}
    assert fixes["SPK002"]["edits"] == [{
        "location": {"path": "sitevisits/pipeline/steps.py", "line": 43, "column": 24, "end_line": 43, "end_column": 33},
        "content": "F.broadcast(countries)"}]


@pytest.mark.parametrize("story", STORIES)
def test_sarif_fixes_replayed_give_the_fixed_files(story: str, tmp_path: Path) -> None:
    project, fixed = copy_story(story, tmp_path / "sarif"), copy_story(story, tmp_path / "fixed")
    out = tmp_path / "out.sarif"
    assert check(project, "--output-format", "sarif", "-o", str(out), "--exit-zero").exit_code == 0
    results = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert {result["fixes"][0]["properties"]["applicability"] for result in results} == {"safe", "unsafe"}
    by_file: dict[str, list[dict]] = {}
    for result in results:
        for change in result["fixes"][0]["artifactChanges"]:
            by_file.setdefault(change["artifactLocation"]["uri"], []).extend(change["replacements"])
    for uri, replacements in by_file.items():
        path = project / uri
        path.write_text(replayed(path.read_text(encoding="utf-8"), replacements), encoding="utf-8")
    check(fixed, "--fix", "--unsafe-fixes")
    assert sources(project) == sources(fixed)


@pytest.mark.parametrize("story", STORIES)
def test_fix_texts_kept_by_the_cache_are_those_a_cold_run_makes(story: str, tmp_path: Path) -> None:
    """A warm run takes each fix's text from the last run when the files it edits are unchanged;
    after an edit that moves the code, the texts are made again for the new contents."""
    project = copy_story(story, tmp_path)

    def reports(*args: str) -> list[dict]:
        run = run_cli("check", "--output-format", "json", "--exit-zero", *args, str(project))
        assert run.exit_code == 0, run.stderr
        return run.json()["findings"]

    cold = reports("--no-cache")
    assert any(finding["autofix"] and finding["autofix"]["edits"] for finding in cold)
    assert reports() == cold  # fills the cache
    assert (project / ".sparklint_cache" / "fix-changes.pickle").is_file()
    assert reports() == cold  # from the cache
    for path in {finding["location"]["path"] for finding in cold if finding["autofix"]}:
        edited = project / path
        comment = b"// moved\n" if path.endswith(".scala") else b"# moved\n"
        edited.write_bytes(comment + edited.read_bytes())
    moved = reports()
    assert moved == reports("--no-cache")
    assert moved != cold


def test_checking_needs_no_fixer_until_a_fix_is_made() -> None:
    """libcst's codemod and matchers take a second to import: a check that makes no fix text
    (a text report, or a warm run whose fixes are known) does not load them."""
    code = "import sys, sparklint.cli, sparklint.fixes; print('libcst.codemod' in sys.modules, 'libcst.matchers' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "False"]


def replayed(text: str, replacements: list[dict]) -> str:
    """SARIF replacements (1-based lines and code-point columns) applied from the last to the first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    for item in sorted(replacements, key=lambda r: (r["deletedRegion"]["startLine"], r["deletedRegion"].get("startColumn", 1)),
                       reverse=True):
        region = item["deletedRegion"]
        start = offset(region["startLine"], region.get("startColumn", 1))
        end = offset(region.get("endLine", region["startLine"]), region.get("endColumn", 1))
        text = text[:start] + item["insertedContent"]["text"] + text[end:]
    return text


# ---------------------------------------------------------------- small projects


def test_a_fix_that_cannot_be_made_is_dropped_with_a_warning(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"job.py": '''
        def add_country(spark, events, broadcast):
            countries = spark.createDataFrame([("DE", "Germany")], ["country_code", "country_name"])
            return events.join(countries, "country_code", "left")
    '''})
    before = sources(project)
    run = check(project, "--fix")
    assert run.exit_code == 1
    assert "job.py:3:19: SPK002 not fixed: `broadcast` already names something else in this file" in run.stderr
    assert sources(project) == before


def test_a_scala_edit_that_would_not_parse_is_refused() -> None:
    source = b"object A {\n  def f(df: DataFrame) = df.coalesce(2)\n}\n"
    site = CallSite(Location("A.scala", 2, 29), ("coalesce",))
    file = ScalaFile(source)
    assert file.apply([RenameCall(site, "repartition")]).endswith(b"df.repartition(2)\n}\n")
    with pytest.raises(FixError, match="would not parse"):
        file.apply([RenameCall(site, "repartition(")])


def test_a_key_grouped_and_joined_by_is_fixed_once(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"job.py": '''
        import pyspark.sql.functions as F


        def run(spark, other):
            df = spark.table("v").withColumn("k", F.coalesce(F.col("a"), F.col("b")))
            df.groupBy("k").count().write.parquet("s3://counts")
            df.join(other, "k").write.parquet("s3://joined")
    '''})
    assert sorted(f["location"]["line"] for f in report(project, "--select", "SPK003")["findings"]) == [6, 7]
    run = check(project, "--fix", "--unsafe-fixes", "--select", "SPK003", "--show-fixes")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "Fixed 2 findings" in run.stdout
    assert 'F.coalesce(F.nullif(F.col("a"), F.lit("")), F.col("b"))' in (project / "job.py").read_text(encoding="utf-8")


def test_unused_noqa_is_removed_and_other_comments_stay(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"job.py": '''
        def summarise(df):
            return df.groupBy("site_id").count()  # noqa: SPK003 - the sites are few


        def export(df, path):
            df.coalesce(1).write.csv(path)  # type: ignore  # noqa: SPK001, SPK002
    '''})
    assert check(project, "--fix").exit_code == 0
    assert (project / "job.py").read_text(encoding="utf-8").splitlines() == [
        "def summarise(df):",
        '    return df.groupBy("site_id").count()  # the sites are few',
        "",
        "",
        "def export(df, path):",
        "    df.coalesce(1).write.csv(path)  # type: ignore  # noqa: SPK001",
    ]


def test_a_file_changed_since_it_was_read_is_not_written(tmp_path: Path) -> None:
    from sparklint.engine import run_check

    project = copy_story("story_py", tmp_path)
    settings = Settings(use_cache=False)
    run = fix_project([project], settings, lambda overlays, _round: run_check([project], settings, overlays=overlays),
                      unsafe=True)
    assert run.changed == ["sitevisits/keys/visitors.py", "sitevisits/lake/iceberg.py", "sitevisits/pipeline/steps.py"]
    edited = project / "sitevisits/lake/iceberg.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited meanwhile\n", encoding="utf-8")
    assert write_fixes(run) == ["sitevisits/lake/iceberg.py"]
    assert any("sitevisits/lake/iceberg.py: changed since sparklint read it" in warning for warning in run.warnings)
    assert edited.read_text(encoding="utf-8").endswith("# edited meanwhile\n")
    assert "coalesce(WRITE_PARALLELISM)" in edited.read_text(encoding="utf-8")
    assert "F.broadcast(countries)" in (project / "sitevisits/pipeline/steps.py").read_text(encoding="utf-8")


def test_fixes_that_overlap_wait_for_the_next_round() -> None:
    source = b"def f(df, big):\n    return df.coalesce(2).join(big, 'k')\n"
    coalesce = CallSite(Location("job.py", 2, 15), ("coalesce",))
    join = CallSite(Location("job.py", 2, 27), ("join",))

    def finding(line_col: tuple[int, int], fix: Fix) -> Finding:
        return Finding("SPK001", Severity.WARNING, "m", Location("job.py", *line_col), autofix=fix)

    rename = Fix("rename", Applicability.UNSAFE, (RenameCall(coalesce, "repartition"),))
    wrap = Fix("wrap", Applicability.SAFE, (WrapInFunction(Operand(join, None), "broadcast"),))
    outcome = fix_round([finding((2, 15), rename), finding((2, 27), wrap)], {"job.py": source}, set())
    assert outcome.deferred == 1
    assert outcome.changed == {"job.py": b"def f(df, big):\n    return df.repartition(2).join(big, 'k')\n"}


def test_profiled_cores_set_the_partition_count(tmp_path: Path) -> None:
    """Twice the cores of the run that wrote: a copy of the tests' real event log, with 64 cores."""
    project = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "tests" / "spark_jobs", project, ignore=shutil.ignore_patterns("__pycache__", "lookup"))
    (project / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    for log in (REPO_ROOT / "tests" / "data" / "eventlogs" / "plain").iterdir():
        (log_dir / log.name).write_text(log.read_text(encoding="utf-8").replace('"Total Cores":2', '"Total Cores":64'),
                                        encoding="utf-8")
    run = check(project, "--diff", "--unsafe-fixes", "--select", "SPK001", "--profile", str(log_dir), cwd=project)
    assert run.exit_code == 1, run.stderr
    assert "+    df.repartition(128).sortWithinPartitions(sort_key)" in run.stdout
    unprofiled = check(project, "--diff", "--unsafe-fixes", "--select", "SPK001", cwd=project)
    assert "+    df.repartition(200).sortWithinPartitions(sort_key)" in unprofiled.stdout


def test_diff_without_fixes_exits_zero(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"ok.py": "def f(df, path):\n    df.repartition(200).write.parquet(path)\n"})
    run = check(project, "--diff", "--unsafe-fixes")
    assert (run.exit_code, run.stdout) == (0, "")


# ---------------------------------------------------------------- the fixed stories run


@pytest.mark.slow
def test_fixed_python_story_is_correct_spark(tmp_path: Path) -> None:
    """With real PySpark: the fixed key gives each logged-out visitor its own key instead of one
    shared `""`, and the broadcast-wrapped join plans a BroadcastHashJoin (the original one plans
    a SortMergeJoin)."""
    pytest.importorskip("pyspark")
    original, fixed = copy_story("story_py", tmp_path / "original"), copy_story("story_py", tmp_path / "fixed")
    assert check(fixed, "--fix", "--unsafe-fixes").exit_code == 0
    script = REPO_ROOT / "tests" / "data" / "fixes" / "story_spark.py"
    run = subprocess.run([sys.executable, str(script), str(original), str(fixed), str(tmp_path / "work")],
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    assert measured["original"] == {"join": ["SortMergeJoin"], "largest_key_rows": 1000, "empty_key_rows": 1000}
    assert measured["fixed"] == {"join": ["BroadcastHashJoin"], "largest_key_rows": 1, "empty_key_rows": 0}


@pytest.mark.slow
def test_fixed_scala_story_compiles_against_spark(tmp_path: Path) -> None:
    jars, java = pyspark_jars(), shutil.which("java")
    if jars is None or java is None:
        pytest.skip("needs PySpark's jars (with scala-compiler) and a JVM")
    project = copy_story("story_scala", tmp_path)
    assert check(project, "--fix", "--unsafe-fixes").exit_code == 0
    scala_sources = sorted(str(path) for path in project.rglob("*.scala"))
    (tmp_path / "classes").mkdir()
    completed = subprocess.run([java, "-Xss8m", "-cp", f"{jars}/*", "scala.tools.nsc.Main", "-usejavacp",
                                "-d", str(tmp_path / "classes"), *scala_sources],
                               capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
