"""`sparklint check --profile`: the findings on tests/spark_jobs gain the evidence its real runs
measured (committed logs in every codec and a rolling log), severities rise where the
measurements confirm harm, and nothing is attached when the code and the run disagree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import check_in as check
from conftest import findings_by_place as by_place
from conftest import needs_engine, run_cli

pytestmark = needs_engine

HERE = Path(__file__).resolve().parent
JOBS = HERE / "spark_jobs"
LOGS = HERE / "data" / "eventlogs"
VARIANTS = ("plain", "lz4", "lzf", "snappy", "zstd", "rolling")
# Facts that differ between two runs of the same job (ids, timings); the rest must be equal.
RUN_SPECIFIC = {"app_id", "app_name", "sql_execution", "stage_wall_ms", "run_wall_ms", "task_time_ms",
                "core_utilisation", "target", "stage_id"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(JOBS, root, ignore=shutil.ignore_patterns("__pycache__", "lookup"))
    (root / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
    return root


SORTED_WRITE = ("SPK001", "lake/sink.py", 6)
EXPORT_WRITE = ("SPK001", "lake/sink.py", 10)
SMALL_JOIN = ("SPK002", "pipeline_job.py", 74)
SKEWED_JOIN = ("SPK003", "pipeline_job.py", 78)
# the 51-row origins table is built by a list comprehension: not provably small, measured small
MEASURED_SMALL_JOIN = ("SPK002", "pipeline_job.py", 78)


def stable(facts: dict) -> dict:
    return {key: value for key, value in facts.items() if key not in RUN_SPECIFIC}


def test_static_findings_without_a_profile(project: Path) -> None:
    findings = by_place(check(project))
    assert {place: item["severity"] for place, item in findings.items()} == {
        SORTED_WRITE: "error", EXPORT_WRITE: "warning", SMALL_JOIN: "warning", SKEWED_JOIN: "warning",
    }
    assert all(not item.get("evidence") for item in findings.values())


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_log_gives_the_same_evidence(project: Path, variant: str) -> None:
    report = check(project, "--profile", str(LOGS / variant))
    assert report["warnings"] == []
    findings = by_place(report)
    assert set(findings) == {SORTED_WRITE, EXPORT_WRITE, SMALL_JOIN, SKEWED_JOIN, MEASURED_SMALL_JOIN}

    sorted_write = findings[SORTED_WRITE]
    (facts,) = sorted_write["properties"]["evidence"]["runs"]
    assert facts["app_name"] == f"pipeline-{variant}"
    assert stable(facts) == {
        "cores": 2, "files_written": 2, "rows_written": 120000, "tasks": 2,
        "bytes_written": facts["bytes_written"], "bytes_per_task_max": facts["bytes_per_task_max"],
        "bytes_per_task_median": facts["bytes_per_task_median"],
        "spill_memory_bytes": 33554368, "spill_disk_bytes": facts["spill_disk_bytes"],
        "matched_by": "plan shape",  # a PySpark write records no call site
        # what a trend follows: the write stage read a cached table (no input, no shuffle)
        "spill_bytes": 33554368 + facts["spill_disk_bytes"], "skew": facts["skew"], "input_bytes": 0,
    }
    assert facts["bytes_written"] > 1_000_000 and facts["spill_disk_bytes"] > 0
    assert sorted_write["severity"] == "error"  # already the highest static severity
    assert sorted_write["evidence"][0].startswith(f"run {facts['app_id']} `pipeline-{variant}`: the write ran as 2 tasks on 2 cores")
    assert sorted_write["evidence"][2].startswith("spilled 32.0 MiB from memory")

    export = findings[EXPORT_WRITE]
    (export_facts,) = export["properties"]["evidence"]["runs"]
    assert (export_facts["tasks"], export_facts["files_written"], export_facts["rows_written"]) == (1, 1, 120000)
    assert export["severity"] == "error"  # raised from warning: 1 task on 2 cores
    assert export["properties"]["evidence"]["static_severity"] == "warning"

    small_join = findings[SMALL_JOIN]
    (join_facts,) = small_join["properties"]["evidence"]["runs"]
    assert (join_facts["strategy"], join_facts["right_rows"], join_facts["left_rows"]) == ("SortMergeJoin", 4, 120000)
    assert join_facts["right_bytes"] < 1024
    assert small_join["severity"] == "error"  # raised from warning: Spark did sort-merge a tiny side
    assert small_join["evidence"][0].endswith("right side 128 B (4 rows)")

    skewed = findings[SKEWED_JOIN]
    (skew_facts,) = skewed["properties"]["evidence"]["runs"]
    assert skew_facts["strategy"] == "SortMergeJoin" and skew_facts["right_rows"] == 51
    assert skew_facts["skew"] >= 4
    assert skewed["severity"] == "error"  # raised from warning: measured skew
    assert any("in one task against a median of" in line for line in skewed["evidence"])

    measured = findings[MEASURED_SMALL_JOIN]
    assert measured["message"] == (
        "join without a broadcast hint, and its right side was measured small (2.3 KiB, 51 rows): "
        "Spark ran a SortMergeJoin that shuffles and sorts both sides")
    assert measured["severity"] == "warning" and measured["properties"]["evidence"]["runtime_only"]
    (measured_facts,) = measured["properties"]["evidence"]["runs"]
    assert measured_facts["matched_by"].startswith("call site `collect at ") and measured_facts["right_rows"] == 51


def test_evidence_is_identical_for_every_codec(project: Path) -> None:
    def fingerprint(variant: str) -> dict:
        findings = by_place(check(project, "--profile", str(LOGS / variant)))
        return {place: [stable(facts) for facts in item["properties"]["evidence"]["runs"]]
                for place, item in findings.items()}

    expected = fingerprint("plain")
    for variant in VARIANTS[1:]:
        assert fingerprint(variant) == expected, variant


def test_several_runs_give_the_newest_run_and_a_trend(project: Path) -> None:
    report = check(project, "--profile", str(LOGS / "lz4"), "--profile", str(LOGS / "zstd"),
                   "--profile", str(LOGS / "plain"))
    sorted_write = by_place(report)[SORTED_WRITE]
    runs = sorted_write["properties"]["evidence"]["runs"]
    # newest first, whatever the order of the sources: the logs were made plain, lz4, lzf, snappy, zstd
    assert [facts["app_name"] for facts in runs] == ["pipeline-zstd", "pipeline-lz4", "pipeline-plain"]
    lines = sorted_write["evidence"]
    assert lines[0].startswith("run local-") and "pipeline-zstd" in lines[0]
    assert not any("pipeline-lz4" in line or "pipeline-plain" in line for line in lines)  # no line per older run
    assert lines[-1].startswith("trend over 3 runs (worst / median / latest): stage time ")
    assert "; bytes per task " in lines[-1] and "; core utilisation " in lines[-1]
    trend = sorted_write["properties"]["evidence"]["trend"]
    assert trend["runs"] == 3 and trend["regression"] is None
    per_task = [facts["bytes_per_task_max"] for facts in runs]
    assert [trend[which]["bytes_per_task_max"] for which in ("worst", "median", "latest")] == [
        max(per_task), sorted(per_task)[1], per_task[0]]
    utilisation = [facts["core_utilisation"] for facts in runs]
    assert trend["worst"]["core_utilisation"] == min(utilisation)  # lower is worse
    wall = [facts["stage_wall_ms"] for facts in runs]
    assert trend["worst"]["stage_wall_ms"] == max(wall) and trend["latest"]["stage_wall_ms"] == wall[0]


def test_last_and_app_name_pick_runs_from_a_directory_of_runs(project: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    for variant in ("plain", "lz4", "zstd"):
        for entry in (LOGS / variant).iterdir():
            shutil.copy(entry, runs / entry.name)
    newest_two = by_place(check(project, "--profile", str(runs), "--last", "2"))[SORTED_WRITE]
    assert [facts["app_name"] for facts in newest_two["properties"]["evidence"]["runs"]] == [
        "pipeline-zstd", "pipeline-lz4"]
    named = by_place(check(project, "--profile", str(runs), "--app-name", "pipeline-pl*"))[SORTED_WRITE]
    assert [facts["app_name"] for facts in named["properties"]["evidence"]["runs"]] == ["pipeline-plain"]


def test_code_that_never_ran_says_so_without_raising(project: Path) -> None:
    sink = project / "lake" / "sink.py"
    sink.write_text(sink.read_text(encoding="utf-8") + '''

def backfill(df, path):
    df.coalesce(4).write.mode("append").orc(path)
''', encoding="utf-8")
    findings = by_place(check(project, "--profile", str(LOGS / "zstd"), "--profile", str(LOGS / "lz4")))
    backfill = findings[("SPK001", "lake/sink.py", 14)]
    assert backfill["severity"] == "warning"
    assert backfill["evidence"] == ["did not run in the 2 profiled runs of `pipeline-zstd`, `pipeline-lz4`"]
    assert backfill["properties"]["evidence"] == {
        "runs": [], "ran": False, "profiled_runs": 2, "static_severity": "warning"}


def test_no_evidence_when_code_and_run_disagree(project: Path) -> None:
    sink = project / "lake" / "sink.py"
    sink.write_text(sink.read_text(encoding="utf-8").replace("coalesce(2)", "coalesce(3)"), encoding="utf-8")
    findings = by_place(check(project, "--profile", str(LOGS / "zstd")))
    changed = findings[SORTED_WRITE]
    assert "coalesce(3)" in changed["message"]
    assert changed["severity"] == "error"  # its static severity, nothing measured
    # no run wrote through a `coalesce(3)`: this code is not what ran
    assert changed["evidence"] == ["did not run in the 1 profiled run of `pipeline-zstd`"]
    assert changed["properties"]["evidence"]["runs"] == []
    assert findings[EXPORT_WRITE]["evidence"]  # the other write still matches


def test_runtime_only_rules_report_at_the_call_site(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.sparklint]\nprofile-options = { idle-max-utilisation = 1.01, idle-min-stage-ms = 0 }\n",
        encoding="utf-8",
    )
    findings = by_place(check(project, "--profile", str(LOGS / "zstd")))
    idle = sorted(place for place in findings if place[0] == "SPK204")
    # every measured stage with a PySpark call site, once per line; the stages SPK003 explains are left out
    assert idle == [("SPK204", "pipeline_job.py", 74), ("SPK204", "pipeline_job.py", 78)]
    assert findings[idle[0]]["evidence"][0].startswith("run local-")


def test_unreadable_profile_keeps_static_findings_and_exit_code(project: Path) -> None:
    plain = run_cli("check", ".", "--no-cache", cwd=project)
    broken = project / "broken.zstd"
    broken.write_bytes(b"not zstd at all")
    result = run_cli("check", ".", "--no-cache", "--profile", str(broken), cwd=project)
    assert result.exit_code == plain.exit_code == 1
    assert result.stdout == plain.stdout
    assert "sparklint: warning: run profile" in result.stderr and "content is not a zstd event log" in result.stderr
    required = run_cli("check", ".", "--no-cache", "--profile", str(broken), "--profile-required", cwd=project)
    assert required.exit_code == 2
    assert required.stderr.strip().splitlines()[-1].startswith("sparklint: error: run profile")


def test_no_evidence_when_two_static_writes_fit_one_runtime_write(project: Path) -> None:
    sink = project / "lake" / "sink.py"
    sink.write_text(sink.read_text(encoding="utf-8") + '''

def archive(df, path):
    df.coalesce(2).sortWithinPartitions("site").write.mode("overwrite").parquet(path)
''', encoding="utf-8")
    job = project / "pipeline_job.py"
    text = job.read_text(encoding="utf-8")
    job.write_text(text.replace("from lake.sink import export, persist", "from lake.sink import archive, export, persist")
                       .replace('    export(events.select("site", "value"), f"{out_dir}/export")\n',
                                '    export(events.select("site", "value"), f"{out_dir}/export")\n'
                                '    if rolling:\n        archive(events, f"{out_dir}/archive")\n'),
                   encoding="utf-8")
    findings = by_place(check(project, "--profile", str(LOGS / "zstd")))
    archived = ("SPK001", "lake/sink.py", 14)
    assert archived in findings  # the static side sees both coalesced sorted writes...
    for place in (SORTED_WRITE, archived):  # ...and the one measured write fits both: no evidence
        assert not findings[place].get("evidence"), place
    assert findings[EXPORT_WRITE]["evidence"]


def test_runtime_only_write_rule_and_its_noqa(project: Path) -> None:
    """With the export's coalesce waived (`noqa: SPK001`), the run still shows one task writing
    all the data: SPK202 reports it, and `noqa: SPK202` waives that too."""
    (project / "pyproject.toml").write_text(
        "[tool.sparklint]\nprofile-options = { write-min-bytes-per-task = 1000000 }\n", encoding="utf-8")
    sink = project / "lake" / "sink.py"
    original = sink.read_text(encoding="utf-8")
    sink.write_text(original.replace('.json(path)', '.json(path)  # noqa: SPK001'), encoding="utf-8")
    findings = by_place(check(project, "--profile", str(LOGS / "zstd")))
    under = findings[("SPK202", "lake/sink.py", 10)]
    assert under["message"] == "under-parallel write: 1 task on 2 cores wrote up to 4.5 MiB each"
    # the chain of the static write operation it was matched to: entry point -> export()
    assert [(step["location"]["path"], step["location"]["line"]) for step in under["chain"]] == [
        ("pipeline_job.py", 99), ("pipeline_job.py", 92), ("pipeline_job.py", 71)]
    assert under["fix"] == "write with `repartition(N)`, N about the total executor cores"
    assert ("SPK001", "lake/sink.py", 10) not in findings
    sink.write_text(original.replace('.json(path)', '.json(path)  # noqa: SPK001, SPK202'), encoding="utf-8")
    findings = by_place(check(project, "--profile", str(LOGS / "zstd")))
    assert ("SPK202", "lake/sink.py", 10) not in findings


def test_runtime_skew_and_small_files_with_lowered_thresholds(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.sparklint]\nprofile-options = { skew-min-bytes = 1, skew-ratio = 2.0, "
        "small-files-min-count = 1, small-file-bytes = 10000000 }\n", encoding="utf-8")
    sink = project / "lake" / "sink.py"
    sink.write_text(sink.read_text(encoding="utf-8").replace(".json(path)", ".json(path)  # noqa: SPK001"),
                    encoding="utf-8")
    for variant in ("plain", "zstd", "rolling"):
        findings = by_place(check(project, "--profile", str(LOGS / variant)))
        runtime = sorted(place for place in findings if place[0] in ("SPK201", "SPK203"))
        # the aggregate after the skewed join (its join stage is SPK003's evidence, not repeated)
        assert runtime == [("SPK201", "pipeline_job.py", 78), ("SPK203", "lake/sink.py", 10)], variant
        assert findings[("SPK203", "lake/sink.py", 10)]["message"] == (
            "small files: the write produced 1 file of 4.5 MiB on average")
        skew = findings[("SPK201", "pipeline_job.py", 78)]
        assert skew["message"].startswith("skewed shuffle: one task of stage ")
        (facts,) = skew["properties"]["evidence"]["runs"]
        assert facts["shuffle_read_max"] >= 2 * facts["shuffle_read_median"] > 0


def test_call_sites_from_pyspark_and_jvm_descriptions() -> None:
    from sparklint.profile.matching import _call_site_matches, call_site

    assert call_site("collect at /home/ci/repo/jobs/daily.py:21") == ("/home/ci/repo/jobs/daily.py", 21)
    assert call_site("parquet at Writer.scala:8") == ("Writer.scala", 8)
    assert call_site("parquet at NativeMethodAccessorImpl.java:0") is None  # a PySpark write: no user frame
    assert call_site("Delta: Write") is None
    assert _call_site_matches(("/home/ci/repo/jobs/daily.py", 21), "jobs/daily.py", 21)
    assert not _call_site_matches(("/home/ci/repo/jobs/daily.py", 21), "other/daily.py", 21)
    assert not _call_site_matches(("/home/ci/repo/jobs/daily.py", 21), "jobs/daily.py", 22)
    assert _call_site_matches(("Writer.scala", 8), "src/main/scala/com/acme/Writer.scala", 8)


def test_a_rule_table_threshold_wins_over_profile_options(project: Path) -> None:
    lowered = "[tool.sparklint]\nprofile-options = { skew-min-bytes = 1, skew-ratio = 2.0 }\n"
    (project / "pyproject.toml").write_text(lowered, encoding="utf-8")
    assert ("SPK201", "pipeline_job.py", 78) in by_place(check(project, "--profile", str(LOGS / "zstd")))
    (project / "pyproject.toml").write_text(
        lowered + "\n[tool.sparklint.skewed-shuffle]\nskew-min-bytes = 1000000000\n", encoding="utf-8")
    assert ("SPK201", "pipeline_job.py", 78) not in by_place(check(project, "--profile", str(LOGS / "zstd")))
    (project / "pyproject.toml").write_text("[tool.sparklint.skewed-shuffle]\nskew-min-bytes = 1\nskew-ratio = 2.0\n",
                                            encoding="utf-8")
    assert ("SPK201", "pipeline_job.py", 78) in by_place(check(project, "--profile", str(LOGS / "zstd")))


@pytest.mark.parametrize(("options", "complaint"), [
    ('{ skew-ratio = "abc" }', 'skew-ratio: expected a finite number, 0 or more, got "abc"'),
    ("{ small-files-min-count = 2.5 }", "small-files-min-count: expected a whole number from 0 to 9223372036854775807, got 2.5"),
    ('{ raise-on-spill = "no" }', 'raise-on-spill: expected true or false, got "no"'),
])
def test_a_threshold_of_the_wrong_type_is_one_configuration_error(project: Path, options: str, complaint: str) -> None:
    """Like any invalid setting: exit 2 with one line naming the file and the key, whether or
    not a run profile is read."""
    (project / "pyproject.toml").write_text(f"[tool.sparklint]\nprofile-options = {options}\n", encoding="utf-8")
    expected = f"sparklint: error: {project / 'pyproject.toml'}: [tool.sparklint.profile-options] {complaint}"
    for extra in ((), ("--profile", str(LOGS / "zstd"))):
        result = run_cli("check", ".", "--no-cache", *extra, cwd=project)
        assert result.exit_code == 2 and result.stderr.strip() == expected
