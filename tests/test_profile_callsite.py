"""PySpark call sites: the `callSite.short` recipe makes a write's mapping exact by file and line
where the plan fingerprint is ambiguous, and a sort-merge join whose side was only measured
small (a filtered table read) is reported as SPK002 at the join's line.

The committed log (tests/data/eventlogs/lookup, made by scripts/make_eventlogs.py) is real
output of tests/spark_jobs/lookup/lookup_job.py; the slow test runs the job again now."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import check_in as check
from conftest import findings_by_place as by_place
from conftest import needs_engine

pytestmark = needs_engine

HERE = Path(__file__).resolve().parent
LOOKUP = HERE / "spark_jobs" / "lookup"
LOG = HERE / "data" / "eventlogs" / "lookup"

MEASURED_JOIN = ("SPK002", "lookup_job.py", 46)
DAILY = ("SPK001", "lake/archive.py", 9)  # sets callSite.short before its write
HOURLY = ("SPK001", "lake/archive.py", 14)  # the same plan shape, no call site


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "lookup"
    shutil.copytree(LOOKUP, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
    return root


def assert_lookup_evidence(project: Path, log: Path) -> None:
    assert set(by_place(check(project))) == {DAILY, HOURLY}  # the code cannot prove the join side small
    report = check(project, "--profile", str(log))
    assert report["warnings"] == []
    findings = by_place(report)
    assert set(findings) == {DAILY, HOURLY, MEASURED_JOIN}

    join = findings[MEASURED_JOIN]
    assert join["message"] == (
        "join without a broadcast hint, and its right side was measured small (640 B, 40 rows): "
        "Spark ran a SortMergeJoin that shuffles and sorts both sides")
    (facts,) = join["properties"]["evidence"]["runs"]
    assert (facts["strategy"], facts["left_rows"], facts["right_rows"]) == ("SortMergeJoin", 60000, 40)
    assert facts["matched_by"].startswith("call site `collect at ") and facts["matched_by"].endswith("lookup_job.py:46`")
    assert join["evidence"][0].endswith("right side 640 B (40 rows)")

    daily = findings[DAILY]
    (daily_facts,) = daily["properties"]["evidence"]["runs"]
    assert daily_facts["matched_by"].startswith("call site `parquet at ")
    assert daily_facts["matched_by"].endswith("lake/archive.py:9`")
    assert (daily_facts["tasks"], daily_facts["rows_written"]) == (2, 60000)
    # the hourly write ran too, through the same plan: without a call site nothing says which is which
    assert not findings[HOURLY].get("evidence") and "evidence" not in findings[HOURLY]["properties"]


def test_call_site_recipe_and_measured_small_join_from_the_committed_log(project: Path) -> None:
    assert_lookup_evidence(project, LOG)


def test_without_the_recipe_both_writes_are_ambiguous(project: Path) -> None:
    """The same log, but the daily write's call site names a line the code no longer has there:
    neither write can be told apart, so neither gets evidence."""
    archive = project / "lake" / "archive.py"
    archive.write_text(archive.read_text(encoding="utf-8").replace("\n\ndef archive_hourly", "\n\n\ndef archive_hourly")
                       .replace("import sys\n", "import sys\n\n"), encoding="utf-8")
    findings = by_place(check(project, "--profile", str(LOG)))
    moved = {place: item for place, item in findings.items() if place[0] == "SPK001"}
    assert sorted(moved) == [("SPK001", "lake/archive.py", 10), ("SPK001", "lake/archive.py", 16)]
    assert all(not item.get("evidence") for item in moved.values())


def test_broadcast_threshold_is_configurable(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.sparklint]\nprofile-options = { broadcast-max-bytes = 600 }\n", encoding="utf-8")
    assert MEASURED_JOIN not in by_place(check(project, "--profile", str(LOG)))  # 640 B is over 600 B


def test_noqa_on_the_join_line_waives_the_measured_finding(project: Path) -> None:
    job = project / "lookup_job.py"
    job.write_text(job.read_text(encoding="utf-8").replace(
        '.groupBy("label").count().collect()', '.groupBy("label").count().collect()  # noqa: SPK002'), encoding="utf-8")
    findings = by_place(check(project, "--profile", str(LOG)))
    assert set(findings) == {DAILY, HOURLY}  # and the noqa is used: no SPK100 for it
    assert ("SPK100", "lookup_job.py", 46) in by_place(check(project))  # without a profile it looks unused


@pytest.mark.slow
def test_a_fresh_pyspark_run_gives_the_same_mapping(project: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    subprocess.run([sys.executable, str(LOOKUP / "lookup_job.py"), str(logs), str(tmp_path / "out")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    assert_lookup_evidence(project, logs)


def test_only_a_side_spark_can_broadcast_is_reported_small() -> None:
    from sparklint.profile.matching import _broadcastable_sides

    assert _broadcastable_sides("SortMergeJoin [site#2], [site#10], Inner") == ("left", "right")
    assert _broadcastable_sides("SortMergeJoin [k#1], [k#2], LeftOuter") == ("right",)
    assert _broadcastable_sides("SortMergeJoin [cast(k#2 as bigint)], [k#4L], RightOuter") == ("left",)
    assert _broadcastable_sides("SortMergeJoin [k#1], [k#2], FullOuter, (x#1 > 2)") == ()
