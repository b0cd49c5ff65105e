"""The analysis costs what the code's size says, never what its shape says, and gives the same
report every time: brakes per function and per root, memo keys from content, results that do
not depend on the order files are found in or on the number of workers."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, cache_line_and_report, findings_by_place, run_cli, write_project

from sparklint import engine
from sparklint.graph import interp
from sparklint.project import discover, load_modules
from sparklint.settings import Settings

FIXTURES = sorted(path for path in (REPO_ROOT / "fixtures").iterdir() if path.is_dir())


def report(project: Path, *args: str, output_format: str = "json") -> str:
    run = run_cli("check", str(project), "--output-format", output_format, "--exit-zero", "--no-cache", *args)
    assert run.exit_code == 0, run.stderr
    return run.stdout


def without_seconds(text: str) -> dict:
    document = json.loads(text)
    document["summary"].pop("seconds")
    return document


def doubling_calls(depth: int) -> str:
    """Every level calls the level below twice with different DataFrames: 2**depth calling
    contexts for `level_0` when every call is followed in context."""
    lines = ["def level_0(df):", "    return df.select('a')", ""]
    for level in range(1, depth + 1):
        lines += [
            f"def level_{level}(df):",
            f"    return level_{level - 1}(df.filter('x')).union(level_{level - 1}(df.filter('y')))",
            "",
        ]
    lines += [
        "def main(spark):",
        f"    level_{depth}(spark.read.parquet('s3://in')).coalesce(1).write.parquet('s3://out')  # expect: SPK001",
        "",
        "if __name__ == '__main__':",
        "    main(None)",
    ]
    return "\n".join(lines) + "\n"


def test_calls_that_double_at_every_level_are_bounded_and_said(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"job.py": doubling_calls(24)})
    settings = Settings(use_cache=False)
    modules, _ = load_modules(discover(project, settings), project, settings)
    analysis = engine.analyse(modules, settings)
    budget = interp.CONTEXTS_PER_FUNCTION + interp.CONTEXTS_PER_CALL_SITE * 2
    assert analysis.evaluations <= 26 * budget  # 2**24 contexts without the brakes
    assert analysis.notes and all(
        re.fullmatch(r"job\.py: level_\d+\(\) was called in more than 16 distinct contexts; .*", note)
        for note in analysis.notes
    )
    # The write at the top is still found: the brake costs precision below it, not the finding.
    assert [(f.rule, f.location.line) for f in analysis.findings] == [("SPK001", 3 * 24 + 5)]


def test_notes_reach_the_json_report_and_stderr(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"job.py": doubling_calls(20)})
    document = json.loads(report(project))
    assert len(document["notes"]) > 10
    run = run_cli("check", str(project), "--no-cache", "--exit-zero")
    notes = [line for line in run.stderr.splitlines() if line.startswith("sparklint: note:")]
    assert notes[0].startswith("sparklint: note: job.py: level_")
    assert notes[-1] == f"sparklint: note: and {len(document['notes']) - 10} more places (`--output-format json` lists all)"


def test_a_shared_writer_is_followed_from_every_job(tmp_path: Path) -> None:
    """The story's shape in a mono-repo: every job narrows its data before one shared writer."""
    jobs = 60
    files = {
        "lake/__init__.py": "",
        "lake/tables.py": """
            def write_table(df, table):
                df.sortWithinPartitions("day").writeTo(table).overwritePartitions()
        """,
        "jobs/__init__.py": "",
    }
    for number in range(jobs):
        files[f"jobs/job_{number}.py"] = f"""
            from lake.tables import write_table

            def main(spark):
                events = spark.read.table("raw.events_{number}")
                write_table(events.coalesce(2), "lake.daily_{number}")
        """
    project = write_project(tmp_path / "p", files)
    document = json.loads(report(project))
    found = findings_by_place(document)
    assert {(path, line) for rule, path, line in found if rule == "SPK001"} == {
        (f"jobs/job_{number}.py", 5) for number in range(jobs)
    }
    assert document["notes"] == []


def test_a_memoised_method_still_sets_fields_on_each_instance(tmp_path: Path) -> None:
    """Two instances call the same method with equal arguments: the second call is reused from
    the first, and must still assign `self.keyed` on its own instance, which only the second
    instance goes on to group by."""
    project = write_project(tmp_path / "p", {
        "keyed.py": """
            from pyspark.sql import functions as F


            class Keyed:
                def prepare(self, df):
                    self.keyed = df.withColumn("k", F.coalesce(F.col("uid"), F.col("cookie")))

                def daily(self):
                    return self.keyed.groupBy("k").count()  # expect: SPK003

                def hourly(self):
                    return self.keyed.groupBy("k", "hour").count()  # expect: SPK003
        """,
        "job.py": """
            from keyed import Keyed

            def main(spark):
                df = spark.read.table("raw.events")
                first = Keyed()
                first.prepare(df)
                first.daily()
                second = Keyed()
                second.prepare(df)
                second.hourly()
        """,
    })
    found = findings_by_place(json.loads(report(project)))
    assert set(found) == {("SPK003", "keyed.py", 9), ("SPK003", "keyed.py", 12)}


def test_the_same_project_gives_the_same_reports_byte_for_byte(tmp_path: Path) -> None:
    for fixture in FIXTURES:
        first = report(fixture, output_format="sarif")
        assert report(fixture, output_format="sarif") == first, fixture.name
        assert without_seconds(report(fixture)) == without_seconds(report(fixture)), fixture.name


@pytest.fixture(scope="module")
def generated_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mixed Python and Scala mono-repo large enough to be lowered by worker processes."""
    out = tmp_path_factory.mktemp("generated") / "mixed"
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "generate_project.py"), "--lines", "12000",
         "--language", "both", "--out", str(out)],
        check=True, capture_output=True,
    )
    return out


def test_order_of_discovery_and_number_of_workers_change_nothing(generated_project: Path, monkeypatch) -> None:
    def run(jobs: int, shuffle_seed: int | None) -> str:
        settings = Settings(use_cache=False, jobs=jobs)
        if shuffle_seed is not None:
            real_discover = engine.discover

            def shuffled(root, settings, known=None):
                files = list(real_discover(root, settings, known))
                random.Random(shuffle_seed).shuffle(files)
                return files

            monkeypatch.setattr(engine, "discover", shuffled)
        result = engine.run_check([generated_project], settings)
        monkeypatch.undo()
        from sparklint.report import json as json_report

        document = json_report.document(result)
        document["summary"].pop("seconds")
        return json.dumps(document, sort_keys=True)

    baseline = run(jobs=1, shuffle_seed=None)
    assert json.loads(baseline)["summary"]["findings"] > 0
    assert len(list(generated_project.rglob("*.py"))) >= 48  # enough files for worker processes
    assert run(jobs=2, shuffle_seed=None) == baseline
    assert run(jobs=1, shuffle_seed=1) == baseline
    assert run(jobs=2, shuffle_seed=2) == baseline


def test_timings_name_the_slowest_files_and_roots(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"job.py": doubling_calls(6)})
    run = run_cli("check", str(project), "--no-cache", "--exit-zero", "--timings")
    assert "timings: lowering " in run.stderr
    assert "slowest files (lowering + analysis):" in run.stderr
    assert " job.py (" in run.stderr
    assert "slowest analysis roots:" in run.stderr
    assert " job.py main()" in run.stderr or " job.py the `__main__` block" in run.stderr


# ---------------------------------------------------------------- the cache


def timings_of(project: Path, *args: str) -> tuple[str, str]:
    return cache_line_and_report(project, *args)


def test_a_warm_run_reuses_everything_and_reports_the_same(tmp_path: Path) -> None:
    project = tmp_path / "story"
    shutil.copytree(REPO_ROOT / "fixtures" / "story_py", project, ignore=shutil.ignore_patterns(".sparklint_cache"))
    cold_line, cold = timings_of(project)
    assert cold_line.startswith("cache: lowered 16 of 16 files") and cold_line.endswith("analysis run anew")
    warm_line, warm = timings_of(project)
    assert warm_line == "cache: lowered 0 of 16 files (the rest read from the cache); analysis reused from the last run (no code it reads changed)"
    assert warm == cold
    # The cache is keyed by contents, not times: a checkout that rewrites the same bytes keeps it.
    os.utime(project / "sitevisits" / "lake" / "iceberg.py", (1, 1))
    assert timings_of(project) == (warm_line, cold)
    assert timings_of(project, "--no-cache")[1] == cold


def test_an_unchanged_project_is_reported_without_loading_its_modules(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {
        "job.py": """
            def main(spark):
                spark.read.table("a").coalesce(1).write.parquet("s3://a")  # noqa: SPK001
                spark.read.table("b").coalesce(1).write.parquet("s3://b")  # noqa: SPK002
        """,
    })
    cold_line, cold = timings_of(project)
    shutil.rmtree(next((project / ".sparklint_cache").glob("modules-*")))
    warm_line, warm = timings_of(project)
    assert warm_line.endswith("analysis reused from the last run (no code it reads changed)")
    assert warm == cold  # the noqa that covers and the one that covers nothing, as before
    found = sorted((finding["rule"], finding["location"]["line"]) for finding in json.loads(warm)["findings"])
    assert found == [("SPK001", 3), ("SPK100", 3)]  # line 3's noqa names another rule, and is unused


def test_an_edit_is_lowered_again_and_analysed(tmp_path: Path) -> None:
    project = tmp_path / "story"
    shutil.copytree(REPO_ROOT / "fixtures" / "story_py", project, ignore=shutil.ignore_patterns(".sparklint_cache"))
    timings_of(project)
    iceberg = project / "sitevisits" / "lake" / "iceberg.py"
    iceberg.write_text(iceberg.read_text().replace(".coalesce(WRITE_PARALLELISM)", ".coalesce(3)"))
    line, report_text = timings_of(project)
    # iceberg.py's own roots and those that reach its writer are analysed again, no others
    assert re.fullmatch(r"cache: lowered 1 of 16 files \(the rest read from the cache\); "
                        r"analysis run anew for \d+ of 16 files' roots \(the others read no edited code\)", line), line
    assert "`coalesce(3)`" in report_text
    assert report_text == timings_of(project, "--no-cache")[1]


def test_an_edit_that_leaves_the_code_as_it_was_reuses_the_analysis(tmp_path: Path) -> None:
    """Early cutoff: the edited file is lowered again and compared with its last lowering; a
    comment or a `noqa` changes no code, so the last analysis is reported with the new comments."""
    project = tmp_path / "story"
    shutil.copytree(REPO_ROOT / "fixtures" / "story_py", project, ignore=shutil.ignore_patterns(".sparklint_cache"))
    _, cold = timings_of(project)
    iceberg = project / "sitevisits" / "lake" / "iceberg.py"
    original = iceberg.read_text()
    iceberg.write_text(original + "# a note at the end\n")
    line, report_text = timings_of(project)
    assert line == "cache: lowered 1 of 16 files (the rest read from the cache); analysis reused from the last run (no code it reads changed)"
    assert report_text == timings_of(project, "--no-cache")[1]
    assert json.loads(report_text)["findings"] == json.loads(cold)["findings"]

    coalesce_line = next(n for n, text in enumerate(original.splitlines(), 1) if ".coalesce(" in text)
    lines = original.splitlines()
    lines[coalesce_line - 1] += "  # noqa: SPK001"
    iceberg.write_text("\n".join(lines) + "\n")
    line, report_text = timings_of(project)
    assert line.endswith("analysis reused from the last run (no code it reads changed)")
    assert report_text == timings_of(project, "--no-cache")[1]
    assert "SPK001" not in {finding["rule"] for finding in json.loads(report_text)["findings"]}

    iceberg.write_text("# a new first line moves every position below it\n" + original)
    line, report_text = timings_of(project)
    # the code is the same, a line further down: the findings move with it, nothing is analysed
    assert line == ("cache: lowered 1 of 16 files (the rest read from the cache); "
                    "analysis reused from the last run, moved to where the edit left its code")
    assert report_text == timings_of(project, "--no-cache")[1]


def test_changed_settings_are_not_served_from_the_cache(tmp_path: Path) -> None:
    project = tmp_path / "story"
    shutil.copytree(REPO_ROOT / "fixtures" / "story_py", project, ignore=shutil.ignore_patterns(".sparklint_cache"))
    timings_of(project)
    line, selected = timings_of(project, "--select", "SPK002")
    assert line.endswith("analysis run anew")
    assert {finding["rule"] for finding in json.loads(selected)["findings"]} == {"SPK002"}


def test_two_runs_sharing_a_cache_both_succeed(tmp_path: Path) -> None:
    project = tmp_path / "story"
    shutil.copytree(REPO_ROOT / "fixtures" / "story_py", project, ignore=shutil.ignore_patterns(".sparklint_cache"))
    command = [sys.executable, "-m", "sparklint.cli", "check", str(project), "--output-format", "json", "--exit-zero"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    reports = {json.dumps({**json.loads(out), "summary": None}, sort_keys=True) for out, _ in outputs}
    assert len(reports) == 1
    assert not list((project / ".sparklint_cache").rglob("*.tmp"))


def test_the_module_cache_stays_about_the_size_of_the_project(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("sparklint.project.MIN_KEPT_UNUSED", 3)
    project = write_project(tmp_path / "p", {"job.py": "x = 1\n"})
    for version in range(10):
        (project / "job.py").write_text(f"x = {version}\n")
        run_cli("check", str(project), "--exit-zero")
    entries = list((project / ".sparklint_cache").glob("modules-*/*.pickle"))
    assert 1 <= len(entries) <= 1 + 3


def test_unsaved_contents_are_checked_instead_of_the_files(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {
        "job.py": """
            def main(spark):
                spark.read.table("raw.events").write.parquet("s3://out")
        """,
    })
    edited = 'def main(spark):\n    spark.read.table("raw.events").coalesce(1).write.parquet("s3://out")\n'
    new_file = 'def other(spark):\n    spark.read.table("raw.b").coalesce(1).write.parquet("s3://b")\n'
    settings = Settings()
    result = engine.run_check([project], settings, overlays={project / "job.py": edited, "unsaved.py": new_file})
    assert {(f.rule, f.location.path, f.location.line) for f in result.findings} == {
        ("SPK001", "job.py", 2), ("SPK001", "unsaved.py", 2),
    }
    assert engine.run_check([project], settings).findings == ()  # the files on disk are unchanged
