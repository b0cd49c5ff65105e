"""`sparklint index build` and querying an index in place: the index holds the same profiles as
the logs (tests/data/eventlogs and runs derived from them), builds are incremental, bad logs are
warnings, `check --profile INDEX` gives the evidence of the same logs read directly, and the
trend names the regression of a write stage slowed from some run on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import check_in as check
from conftest import findings_by_place as by_place
from conftest import needs_engine, run_cli
from derived_runs import derived_app_id, write_derived_runs

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

from sparklint.profile.sources import ReadOptions, discover, read_run  # noqa: E402
from sparklint.runindex.build import build_index  # noqa: E402
from sparklint.runindex.query import IndexSelection, load_index_runs  # noqa: E402
from sparklint.runindex.store import is_index  # noqa: E402

HERE = Path(__file__).resolve().parent
LOGS = HERE / "data" / "eventlogs"
REAL_SOURCES = sorted(str(path) for path in LOGS.iterdir())
SORTED_WRITE = ("SPK001", "lake/sink.py", 6)
WRITE_STAGE = 0  # the stage of the sorted write in the template run
DERIVED = 8
SLOW_FROM = 5  # runs 5, 6, 7 (0-based) have the slow write stage


@pytest.fixture(scope="module")
def derived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logs = tmp_path_factory.mktemp("derived") / "logs"
    write_derived_runs(logs, DERIVED, slow_from=SLOW_FROM, slow_stage=WRITE_STAGE, delay_ms=60_000)
    return logs


@pytest.fixture(scope="module")
def derived_index(derived: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("index") / "runs.idx"
    report = build_index([str(derived)], index, jobs=2)
    assert report.indexed == DERIVED and not report.warnings
    return index


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(HERE / "spark_jobs", root, ignore=shutil.ignore_patterns("__pycache__", "lookup"))
    (root / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
    return root


# ---------------------------------------------------------------- building


def test_the_index_holds_the_same_profiles_as_the_logs(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    report = build_index(REAL_SOURCES, index, jobs=2)
    assert (report.indexed, report.bad, report.warnings) == (7, 0, [])
    assert is_index(index) and not is_index(LOGS)
    loaded = load_index_runs(index, IndexSelection(last=100))
    direct = [read_run(ref, ReadOptions()) for source in REAL_SOURCES for ref in discover(source, ReadOptions())]
    assert sorted((run.comparable() for run in loaded.runs), key=lambda run: run["app_id"]) == sorted(
        (run.comparable() for run in direct), key=lambda run: run["app_id"])
    assert {run.source for run in loaded.runs} == {run.source for run in direct}


def test_tables_and_partitions(tmp_path: Path) -> None:
    import duckdb

    index = tmp_path / "idx"
    build_index([str(LOGS / "plain"), str(LOGS / "rolling")], index, jobs=1)
    assert sorted(path.name for path in index.iterdir()) == [
        "joins", "runs", "sparklint-index.json", "sql_executions", "stages", "writes"]
    assert (index / "runs" / "app_name=pipeline-plain" / "date=2026-11-25").is_dir()
    with duckdb.connect() as db:
        def one(sql: str):
            return db.execute(sql.replace("T(", f"read_parquet('{index}/")).fetchall()
        assert one("SELECT app_name, stages, complete FROM T(runs/*/*/*.parquet') ORDER BY app_name") == [
            ("pipeline-plain", 10, True), ("pipeline-rolling", 12, True)]
        (wall,) = one("SELECT wall_ms FROM T(stages/*/*/*.parquet') WHERE app_name = 'pipeline-plain' AND stage_id = 0")[0]
        assert wall == 2855
        assert one("SELECT count(*) FROM T(writes/*/*/*.parquet') WHERE app_name = 'pipeline-plain'")[0][0] >= 2
        assert one("SELECT DISTINCT strategy FROM T(joins/*/*/*.parquet') ORDER BY 1") == [("SortMergeJoin",)]


def test_a_second_build_reads_only_what_changed(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    build_index(REAL_SOURCES, index, jobs=2)
    again = build_index(REAL_SOURCES, index, jobs=2)
    assert (again.indexed, again.unchanged, again.duplicates) == (0, 7, 0)
    copies = tmp_path / "copies"
    copies.mkdir()
    shutil.copy(LOGS / "zstd" / "local-1795611049983.zstd", copies / "local-1795611049983.zstd")
    copied = build_index([str(copies)], index)
    assert (copied.indexed, copied.duplicates) == (0, 1)  # same content hash, another path
    assert len(load_index_runs(index, IndexSelection(last=100)).runs) == 7


def test_an_in_progress_log_is_read_again_until_it_is_complete(tmp_path: Path) -> None:
    logs, index = tmp_path / "logs", tmp_path / "idx"
    logs.mkdir()
    lines = (LOGS / "plain" / "local-1795611014940").read_bytes().splitlines(keepends=True)
    growing = logs / "local-1795611014940.inprogress"
    growing.write_bytes(b"".join(lines[: len(lines) // 2]))
    first = build_index([str(logs)], index)
    assert first.indexed == 1
    (run,) = load_index_runs(index, IndexSelection(last=10)).runs
    assert not run.complete
    growing.write_bytes(b"".join(lines[: len(lines) * 3 // 4]))
    assert build_index([str(logs)], index).replaced == 1
    growing.rename(logs / "local-1795611014940")
    (logs / "local-1795611014940").write_bytes(b"".join(lines))
    final = build_index([str(logs)], index)
    assert (final.indexed, final.replaced) == (1, 1)
    (run,) = load_index_runs(index, IndexSelection(last=10)).runs
    assert run.complete and len(run.stages) == 10
    assert build_index([str(logs)], index).unchanged == 1


def test_bad_logs_are_one_warning_each_and_never_stop_the_build(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(LOGS / "lz4" / "local-1795611035514.lz4", logs)
    (logs / "local-1.zstd").write_bytes(b"not zstd at all")
    (logs / "local-2").write_bytes(b"{\"Event\": \"nothing\"}\n")
    (logs / "local-3").write_bytes(b"")
    run = run_cli("index", "build", str(logs), str(tmp_path / "missing"), "-o", str(tmp_path / "idx"))
    assert run.exit_code == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("sparklint: warning:")]
    assert len(warnings) == 4, run.stderr
    assert any("missing" in line for line in warnings) and any("local-1.zstd" in line for line in warnings)
    assert "Traceback" not in run.stderr
    assert "indexed 1 runs" in run.stderr


def test_a_directory_that_is_not_an_index_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("mine")
    run = run_cli("index", "build", str(LOGS / "plain"), "-o", str(tmp_path))
    assert run.exit_code == 2 and "not empty and not a sparklint run index" in run.stderr


def test_without_duckdb_a_check_says_what_to_install(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    build_index([str(LOGS / "plain")], index)
    script = ("import sys; sys.modules['duckdb'] = None\n"
              "from sparklint.profile.api import RunFilter, load_runs\n"
              "from sparklint.profile.sources import ReadOptions\n"
              f"print(load_runs([{str(index)!r}], RunFilter(), ReadOptions(), None).warnings)")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "pip install 'sparklint[index]'" in output


# ---------------------------------------------------------------- querying


def profile_json(*args: str) -> dict:
    run = run_cli("profile", *args, "--output-format", "json", "--no-cache")
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


def app_ids(report: dict) -> list[str]:
    return [run["app_id"] for run in report["runs"]]


def test_filters_select_runs_in_the_index(derived_index: Path) -> None:
    index = str(derived_index)
    newest = [derived_app_id(index) for index in reversed(range(DERIVED))]
    assert app_ids(profile_json(index, "--last", "3")) == newest[:3]
    assert app_ids(profile_json(index, "--app-id", derived_app_id(2))) == [derived_app_id(2)]
    assert app_ids(profile_json(index, "--app-name", "pipeline-p*", "--last", "2")) == newest[:2]
    started = {run["app_id"]: run["started_ms"] for run in profile_json(index)["runs"]}
    since = started[derived_app_id(5)]
    import datetime
    day = datetime.datetime.fromtimestamp(since / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")
    assert app_ids(profile_json(index, "--since", day)) == newest[:3]
    assert app_ids(profile_json(index, "--since", day, "--last", "1")) == newest[:1]
    nothing = run_cli("profile", index, "--app-name", "nope", "--no-cache")
    assert nothing.exit_code == 2 and "no run in the index passes the filters" in nothing.stderr
    bad = run_cli("profile", index, "--since", "yesterday")
    assert bad.exit_code == 2 and "expected a date" in bad.stderr


@needs_engine
def test_last_5_from_the_index_equals_the_same_five_logs_read_directly(project: Path, derived: Path,
                                                                         derived_index: Path) -> None:
    from_index = check(project, "--profile", str(derived_index), "--last", "5")
    newest_five = sorted(derived.iterdir(), key=lambda path: path.stat().st_mtime_ns)[-5:]
    direct = check(project, *(arg for path in newest_five for arg in ("--profile", str(path))))
    assert from_index["findings"] == direct["findings"]
    assert from_index["warnings"] == direct["warnings"] == []
    write = by_place(from_index)[SORTED_WRITE]
    assert len(write["properties"]["evidence"]["runs"]) == 5


@needs_engine
def test_the_trend_names_the_first_slow_run(project: Path, derived_index: Path) -> None:
    write = by_place(check(project, "--profile", str(derived_index)))[SORTED_WRITE]
    trend = write["properties"]["evidence"]["trend"]
    assert trend["runs"] == DERIVED
    regression = trend["regression"]
    assert regression["since_app_id"] == derived_app_id(SLOW_FROM)
    assert (regression["runs_before"], regression["runs_after"]) == (SLOW_FROM, DERIVED - SLOW_FROM)
    assert regression["after_median_s"] - regression["before_median_s"] == pytest.approx(60, abs=0.01)
    assert regression["input_ratio"] is None  # the write stage read a cached table: no input measured
    assert trend["latest"]["stage_wall_ms"] == trend["worst"]["stage_wall_ms"] == 2855 + 60_000
    lines = write["evidence"]
    assert sum(line.startswith("trend over 8 runs (worst / median / latest): stage time 62.9 s / ") for line in lines) == 1
    assert lines[-1].startswith(f"regression since run {derived_app_id(SLOW_FROM)} `pipeline-plain`: the stage takes "
                                "62.9 s (median of 3 runs) against 2.9 s before (22.0x), input not measured")
    # the other write did not slow down
    export = by_place(check(project, "--profile", str(derived_index)))[("SPK001", "lake/sink.py", 10)]
    assert export["properties"]["evidence"]["trend"]["regression"] is None


@needs_engine
def test_text_shows_the_newest_run_and_one_trend_line(project: Path, derived_index: Path) -> None:
    run = run_cli("check", ".", "--no-cache", "--no-color", "--profile", str(derived_index), cwd=project)
    block = run.stdout.split("lake/sink.py:6:")[1].split("\nlake/")[0]
    evidence = [line.strip() for line in block.splitlines() if line.strip().startswith("evidence:")]
    assert sum("the write ran as" in line for line in evidence) == 1
    assert sum("trend over" in line for line in evidence) == 1

