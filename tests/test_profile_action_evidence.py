"""SPK004, SPK006 and SPK010 with a run profile, on the real log of tests/evidence_job (made by
scripts/make_eventlogs.py; the slow test runs the job again now):

- SPK004: the big collect's 2 tasks sent about half of the job's `spark.driver.maxResultSize=8m`
  to the driver (raised: at or over a quarter of it); the 20-row collect sent 2 KiB (kept); the
  collect of three times the table failed on the limit (raised); without a recorded limit the
  absolute `collect-max-result-bytes` decides;
- SPK010: `repartition(24)` before `partitionBy("day")` made 480 files of about 10 KiB (raised;
  SPK203 does not report the same write again);
- SPK006: a finding built here (the rule is another branch's) at the aggregate's collect, related
  to its write: both executions scanned the same parquet input."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import check_in as check
from conftest import findings_by_place as by_place
from conftest import needs_engine

from sparklint.engine import run_check
from sparklint.findings import Finding, Location, Related, Severity
from sparklint.profile.action_evidence import measure_collect, parse_size
from sparklint.profile.matching import attach_evidence
from sparklint.profile.sources import ReadOptions, discover, read_run
from sparklint.settings import Settings

pytestmark = needs_engine

HERE = Path(__file__).resolve().parent
JOB = HERE / "evidence_job" / "evidence_job.py"
LOG = HERE / "data" / "evidence"
MIB = 1024 * 1024

BIG_COLLECT = ("SPK004", "evidence_job.py", 49)
SMALL_COLLECT = ("SPK004", "evidence_job.py", 50)
SCATTER = ("SPK010", "evidence_job.py", 52)
FAILED_COLLECT = ("SPK004", "evidence_job.py", 61)
RECOMPUTED = ("SPK006", "evidence_job.py", 54)  # `per_day` written, then collected, uncached
PER_DAY_WRITE, PER_DAY_COLLECT = 55, 56


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    root.mkdir()
    shutil.copy(JOB, root / JOB.name)
    (root / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
    return root


def the_run(log: Path):
    (ref,) = discover(str(log), ReadOptions())
    return read_run(ref, ReadOptions())


def assert_collect_and_scatter_evidence(project: Path, log: Path) -> None:
    assert {place: finding["severity"] for place, finding in by_place(check(project)).items()} == {
        BIG_COLLECT: "warning", SMALL_COLLECT: "warning", SCATTER: "warning", FAILED_COLLECT: "warning",
        RECOMPUTED: "warning"}
    report = check(project, "--profile", str(log))
    findings = by_place(report)
    # no SPK203 at the scattered write
    assert set(findings) == {BIG_COLLECT, SMALL_COLLECT, SCATTER, FAILED_COLLECT, RECOMPUTED}

    # SPK006 as the rule reports it on the job, confirmed by the two scans of `events` the run made
    recomputed = findings[RECOMPUTED]
    evidence = recomputed["properties"]["evidence"]
    assert (evidence["rescanned"], evidence["confirmed"]) == (True, False)  # 21.8 KiB each: under rescan-min-bytes
    assert recomputed["severity"] == "warning"
    assert re.fullmatch(r"run local-\d+ `evidence`: 2 executions of these actions scanned `file:\S+/events` each time:",
                        recomputed["evidence"][0]), recomputed["evidence"]

    big = findings[BIG_COLLECT]
    assert big["severity"] == "error"
    evidence = big["properties"]["evidence"]
    assert (evidence["confirmed"], evidence["static_severity"]) == (True, "warning")
    (facts,) = evidence["runs"]
    assert (facts["tasks"], facts["rows"], facts["max_result_size"]) == (2, 60_000, "8m")
    assert (facts["max_result_size_bytes"], facts["raise_at_bytes"]) == (8 * MIB, 2 * MIB)
    assert 2 * MIB <= facts["result_bytes"] < 8 * MIB  # 60,000 rows of a 64-character hash
    assert facts["matched_by"].startswith("call site `collect at ") and facts["matched_by"].endswith("evidence_job.py:49`")
    line, verdict = big["evidence"]
    assert re.fullmatch(r"run local-\d+ `evidence`: 2 tasks sent 4\.\d MiB \(60,000 rows\) to the driver in "
                        r"SQL execution \d+ \(result stage \d+\)", line), line
    assert re.fullmatch(r"that is 5\d% of spark\.driver\.maxResultSize=8m; at or over the 2\.0 MiB it is raised "
                        r"at \(collect-max-result-share 0\.25\)", verdict), verdict

    small = findings[SMALL_COLLECT]
    assert small["severity"] == "warning" and small["properties"]["evidence"]["confirmed"] is False
    (facts,) = small["properties"]["evidence"]["runs"]
    assert (facts["tasks"], facts["rows"]) == (1, 20) and 0 < facts["result_bytes"] < 8192
    assert small["evidence"][1].startswith("that is under 1% of spark.driver.maxResultSize=8m; under the 2.0 MiB")

    failed = findings[FAILED_COLLECT]
    assert failed["severity"] == "error"
    (facts,) = failed["properties"]["evidence"]["runs"]
    assert facts["failed_on_limit"] is True and facts["rows"] is None  # the rows counted were never delivered
    assert 0 < facts["result_bytes"] <= 8 * MIB
    assert re.fullmatch(r"the collect failed on spark\.driver\.maxResultSize: Job aborted due to stage failure: Total "
                        r"size of serialized results of \d+ tasks \([\d.]+ MiB\) is bigger than "
                        r"spark\.driver\.maxResultSize \(8\.0 MiB\)", failed["evidence"][2]), failed["evidence"]

    scatter = findings[SCATTER]
    assert scatter["severity"] == "error" and scatter["properties"]["evidence"]["confirmed"] is True
    (facts,) = scatter["properties"]["evidence"]["runs"]
    assert (facts["files_written"], facts["tasks"], facts["rows_written"], facts["matched_by"]) == (480, 24, 60_000, "target")
    assert facts["average_file_bytes"] == facts["bytes_written"] // 480 < 64 * 1024
    assert re.fullmatch(r"the write made 480 files averaging \d+\.\d KiB \(\d\.\d MiB in all\): at least 200 files "
                        r"under 16\.0 MiB \(SPK203's small-files-min-count and small-file-bytes\)",
                        scatter["evidence"][1]), scatter["evidence"][1]

    # the same write is SPK203's when SPK010 is not checked: the measure is the same
    alone = by_place(check(project, "--profile", str(log), "--ignore", "SPK010"))
    small_files = alone["SPK203", "evidence_job.py", 52]
    assert small_files["message"].startswith("small files: the write produced 480 files of ")


def test_collect_and_scatter_evidence_of_the_committed_log(project: Path) -> None:
    assert_collect_and_scatter_evidence(project, LOG)


def test_sarif_carries_the_facts(project: Path) -> None:
    sarif = check(project, "--profile", str(LOG), "--output-format", "sarif")
    results = {(item["ruleId"], item["locations"][0]["physicalLocation"]["region"]["startLine"]): item
               for item in sarif["runs"][0]["results"]}
    facts = results["SPK004", 49]["properties"]["evidence"]["runs"][0]
    assert facts["rows"] == 60_000 and facts["result_bytes"] >= 2 * MIB
    assert results["SPK010", 52]["properties"]["evidence"]["runs"][0]["files_written"] == 480


def test_without_a_recorded_limit_the_absolute_threshold_decides() -> None:
    run = the_run(LOG)
    unlimited = dataclasses.replace(run, spark_properties=())
    static = {"location": {"path": "evidence_job.py", "line": 49}}
    evidence, _ = measure_collect(static, unlimited, Settings())
    assert evidence.harm is False and evidence.facts["raise_at_bytes"] == 256 * MIB
    assert evidence.lines[1] == ("that is no spark.driver.maxResultSize recorded; under the 256.0 MiB it is raised "
                                 "at (collect-max-result-bytes 256.0 MiB)")
    lowered, _ = measure_collect(static, unlimited, Settings(profile_options={"collect-max-result-bytes": MIB}))
    assert lowered.harm is True
    none = dataclasses.replace(run, spark_properties=(dataclasses.replace(run.spark_properties[0], value="0"),))
    evidence, _ = measure_collect(static, none, Settings())
    assert evidence.facts["max_result_size_bytes"] == 0 and evidence.facts["raise_at_bytes"] == 256 * MIB
    assert "spark.driver.maxResultSize=0: no limit" in evidence.lines[1]


@pytest.mark.parametrize(("text", "size"), [("8m", 8 * MIB), ("1g", 1024 * MIB), ("1024", 1024), ("2k", 2048),
                                            ("4MB", 4 * MIB), ("512mib", 512 * MIB), ("0", 0), ("", None),
                                            ("lots", None), ("-1m", None), ("1.5g", None)])
def test_parse_size(text: str, size: int | None) -> None:
    assert parse_size(text) == size


# ---------------------------------------------------------------- SPK006, generically


def recompute_finding(location_line: int, *related_lines: int) -> Finding:
    """An SPK006 finding as the rule reports it: at the second use, related to the others."""
    return Finding(
        rule="SPK006", severity=Severity.WARNING,
        message="`per_day` is computed again by this action: it is not cached",
        location=Location("evidence_job.py", location_line, 1),
        related=tuple(Related(Location("evidence_job.py", line, 1), "computed here first") for line in related_lines),
        key=("SPK006", str(location_line)),
    )


def with_evidence(project: Path, log: Path, finding: Finding, **options) -> Finding:
    settings = Settings(root=project, use_cache=False, profiles=(str(log),))
    result = run_check([project], settings)  # with profiles set, the operations are collected
    result = dataclasses.replace(result, findings=(finding,))
    findings = attach_evidence(result, (the_run(log),), Settings(profile_options=options)).findings
    (updated,) = [item for item in findings if item.rule == "SPK006"]  # (and SPK203 at the scattered write)
    return updated


def assert_rescan_evidence(project: Path, log: Path) -> None:
    finding = recompute_finding(PER_DAY_COLLECT, PER_DAY_WRITE)
    updated = with_evidence(project, log, finding)
    evidence = updated.properties["evidence"]
    assert updated.severity == Severity.WARNING  # the input is small: under rescan-min-bytes
    assert (evidence["rescanned"], evidence["confirmed"], evidence["static_severity"]) == (True, False, "warning")
    (facts,) = evidence["runs"]
    assert facts["input"].startswith("file:/") and facts["input"].endswith("/events") and facts["scans"] == 2
    write, collect = facts["executions"]
    assert (write["location"], collect["location"]) == ("evidence_job.py:55", "evidence_job.py:56")
    assert write["matched_by"] == "its target" and collect["matched_by"].startswith("call site `collect at ")
    for item in (write, collect):
        assert (item["rows"], item["files"]) == (60_000, 4) and item["files_bytes"] > MIB
        assert 0 < item["bytes_read"] < item["files_bytes"]  # only the `day` column is read
    assert facts["bytes_read_again"] == collect["bytes_read"]
    lines = updated.evidence
    assert re.fullmatch(r"run local-\d+ `evidence`: 2 executions of these actions scanned `file:/\S+/events` each time:",
                        lines[0]), lines[0]
    assert re.fullmatch(r"SQL execution \d+ \(the action at evidence_job\.py:55, its target\): read \d+\.\d KiB, "
                        r"60,000 rows, 4 files of 4\.\d MiB", lines[1]), lines[1]
    assert lines[3].endswith("under rescan-min-bytes 64.0 MiB")

    raised = with_evidence(project, log, finding, **{"rescan-min-bytes": 1024})
    assert raised.severity == Severity.ERROR and raised.properties["evidence"]["confirmed"] is True

    # the big collect (line 49) scanned the same input: a finding relating it is confirmed too
    other = with_evidence(project, log, recompute_finding(PER_DAY_COLLECT, 49))
    assert other.properties["evidence"]["runs"][0]["input"] == facts["input"]
    # two collects of different inputs, or one action alone: nothing shared, no evidence
    assert "evidence" not in with_evidence(project, log, recompute_finding(50, 49)).properties
    assert "evidence" not in with_evidence(project, log, recompute_finding(PER_DAY_COLLECT)).properties
    # a place that ran nothing
    assert "evidence" not in with_evidence(project, log, recompute_finding(PER_DAY_COLLECT, 20)).properties


def test_rescan_evidence_of_the_committed_log(project: Path) -> None:
    assert_rescan_evidence(project, LOG)


@pytest.mark.slow
@pytest.mark.xdist_group("evidence_job")
def test_the_job_run_now_gives_the_same_evidence(project: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    subprocess.run([sys.executable, str(project / JOB.name), str(logs), str(tmp_path / "out")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
    assert_collect_and_scatter_evidence(project, logs)
    assert_rescan_evidence(project, logs)
