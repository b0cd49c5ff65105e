"""Reading real Spark event logs (committed, made by scripts/make_eventlogs.py from
tests/spark_jobs/pipeline_job.py) in every codec, rolling, cut off, corrupted and foreign."""

from __future__ import annotations

import gzip
import os
import shutil
import sys
from pathlib import Path

import orjson
import pytest

from sparklint.profile.api import RunFilter, load_runs
from sparklint.profile.cache import ProfileCache
from sparklint.profile.codecs import LogFormatError, codec_from_name, detect_codec, lzf_decompress
from sparklint.profile.model import RunProfile, run_from_dict, to_dict
from sparklint.profile.sources import ReadOptions, discover, read_run

from conftest import run_cli

LOGS = Path(__file__).resolve().parent / "data" / "eventlogs"
CODECS = ("plain", "lz4", "lzf", "snappy", "zstd")
VARIANTS = (*CODECS, "rolling")
OPTIONS = ReadOptions()
ROWS = 120_000  # pipeline_job.ROWS


def read(variant: str) -> RunProfile:
    (ref,) = discover(str(LOGS / variant), OPTIONS)
    return read_run(ref, OPTIONS)


def log_file(variant: str) -> Path:
    (path,) = [entry for entry in (LOGS / variant).iterdir() if not entry.name.startswith(".")]
    return path


def structure(run: RunProfile) -> dict:
    """What must not depend on the codec: the same job gives the same stages, records and plans."""
    first_sql = min(execution.execution_id for execution in run.sql_executions)
    extra = filler_stage(run).name if run.app_name.endswith("rolling") else None
    return {  # stage ids are left out: AQE submits independent stages in either order
        "stages": sorted(
            (
                stage.num_tasks,
                stage.task_time_ms.count,
                stage.output_records,
                stage.shuffle_write_records,
                stage.shuffle_read_records,
                stage.sql_execution_id - first_sql if stage.sql_execution_id is not None else None,
                stage.rdd_scopes,
            )
            for stage in run.stages
            if stage.name != extra  # the rolling run adds one job to fill several parts
        ),
        "writes": [
            (write.command, write.format, write.mode, write.files_written, write.rows_written,
             write.path.rsplit("/", 1)[-1])
            for execution in run.sql_executions
            for write in execution.writes
        ],
        "joins": [
            (join.strategy, join.left.operator, join.right.operator, join.right.bytes)
            for execution in run.sql_executions
            for join in execution.joins
        ],
    }


def filler_stage(run: RunProfile):
    """The 700-task stage the rolling variant adds to cut its log into parts."""
    return max(run.stages, key=lambda stage: stage.num_tasks)


@pytest.fixture(scope="module")
def runs() -> dict[str, RunProfile]:
    return {variant: read(variant) for variant in VARIANTS}


def test_every_codec_and_the_rolling_log_give_the_same_job(runs: dict[str, RunProfile]) -> None:
    expected = structure(runs["plain"])
    assert expected["stages"] and expected["writes"] and expected["joins"]
    for variant in VARIANTS:
        run = runs[variant]
        assert run.app_name == f"pipeline-{variant}"
        assert run.complete and run.problems == ()
        assert run.spark_version and run.executors == 1 and run.max_cores == 2
        assert structure(run) == expected, variant


def test_decoded_sizes_match_the_plain_log(runs: dict[str, RunProfile]) -> None:
    plain_size = log_file("plain").stat().st_size
    assert runs["plain"].decoded_bytes == plain_size
    for variant in CODECS[1:]:  # other runs of the same job: the same JSON within a few percent
        assert abs(runs[variant].decoded_bytes - plain_size) < plain_size * 0.05


def test_coalesce_before_sorted_write_is_measured(runs: dict[str, RunProfile]) -> None:
    run = runs["zstd"]
    (write_sql,) = [execution for execution in run.sql_executions
                    if execution.writes and execution.writes[0].format == "Parquet"]
    (write,) = write_sql.writes
    assert (write.command, write.format, write.mode) == ("InsertIntoHadoopFsRelationCommand", "Parquet", "Overwrite")
    assert write.path.endswith("/zstd/events") and write.table == ""
    assert write.files_written == 2 and write.rows_written == ROWS and write.bytes_written > 100_000
    descriptions = [node.description for node in write_sql.plan.walk()]
    assert "Coalesce 2" in descriptions
    assert any(text.startswith("Sort [site#") for text in descriptions)
    (stage,) = run.stages_of(write_sql)
    assert stage.task_time_ms.count == 2 and stage.output_records == ROWS
    assert stage.output_bytes.total == write.bytes_written
    assert stage.memory_spill_bytes.total > 0 and stage.disk_spill_bytes.total > 0  # forced spill
    assert "Coalesce" in stage.rdd_scopes
    assert 0 < stage.core_utilisation(run.max_cores) <= 1
    sort = next(node for node in write_sql.plan.walk() if node.name == "Sort")
    assert sort.metric("spill size").value > 0 and sort.metric("peak memory").max_per_task > 0


def test_small_table_sort_merge_joined_shows_both_sides(runs: dict[str, RunProfile]) -> None:
    joins = [join for execution in runs["plain"].sql_executions for join in execution.joins]
    assert [join.strategy for join in joins] == ["SortMergeJoin", "SortMergeJoin"]
    for join in joins:
        assert join.left.bytes > 1_000_000  # the events side
        assert join.right.bytes < 10_000  # the 4- and 51-row lookup tables
        assert join.right.rows in (4, 51)


def test_empty_string_key_skews_the_join_stage(runs: dict[str, RunProfile]) -> None:
    run = runs["plain"]
    skewed = [stage for stage in run.stages if stage.shuffle_read_bytes.skew >= 4]
    assert skewed, [stage.shuffle_read_bytes for stage in run.stages]
    assert all("pipeline_job.py:" in stage.name for stage in skewed)


def test_pyspark_call_sites_are_kept(runs: dict[str, RunProfile]) -> None:
    descriptions = [execution.description for execution in runs["plain"].sql_executions]
    assert descriptions[0].startswith("parquet at ") and descriptions[1].startswith("json at ")
    assert all(text.startswith("collect at ") and "pipeline_job.py:" in text for text in descriptions[2:])
    assert "DataFrameWriter.parquet" in runs["plain"].sql_executions[0].details


def test_rolling_log_has_several_parts_read_in_numeric_order(runs: dict[str, RunProfile]) -> None:
    directory = next((LOGS / "rolling").iterdir())
    parts = sorted(path.name for path in directory.iterdir() if path.name.startswith("events_"))
    assert len(parts) >= 2
    run = runs["rolling"]
    assert filler_stage(run).num_tasks == 700 and filler_stage(run).task_time_ms.count == 700
    assert run.decoded_bytes > 2 * 1024 * 1024


def test_codec_is_detected_from_name_and_checked_against_content() -> None:
    assert codec_from_name("local-1.zstd") == "zstd"
    assert codec_from_name("events_2_app-1.lz4.inprogress") == "lz4"
    assert codec_from_name("application_1_0001") == "plain"
    assert codec_from_name("app.gz") is None
    head = log_file("zstd").read_bytes()[:16]
    assert detect_codec("local-1.zstd", head) == "zstd"
    with pytest.raises(LogFormatError, match="named as lz4 but the content is zstd"):
        detect_codec("local-1.lz4", head)
    with pytest.raises(LogFormatError, match="unknown event log codec 'gz'"):
        detect_codec("local-1.gz", gzip.compress(b'{"Event":"x"}\n')[:16])


def test_lzf_decoder_handles_literals_and_overlapping_references() -> None:
    # "abcabcabcabc!": literal run of 3, back reference length 9 at distance 3, literal "!".
    data = bytes([2]) + b"abc" + bytes([(7 << 5) | 0, 9 - 2 - 7, 2]) + bytes([0]) + b"!"
    assert lzf_decompress(data, 13) == b"abcabcabcabc!"
    with pytest.raises(ValueError):
        lzf_decompress(bytes([0x20, 0x05]), 3)  # a reference before the start


# ---------------------------------------------------------------- bad input


def load(*sources: Path | str, **options) -> tuple[list[RunProfile], list[str]]:
    loaded = load_runs([str(source) for source in sources], RunFilter(), ReadOptions(**options), None)
    return list(loaded.runs), list(loaded.warnings)


def test_in_progress_log_with_a_cut_last_line(tmp_path: Path) -> None:
    data = log_file("plain").read_bytes()
    cut = data[: data.index(b"\n", len(data) // 2) + 40]  # a whole first half and part of a line
    path = tmp_path / "local-1.inprogress"
    path.write_bytes(cut)
    runs, warnings = load(path)
    (run,) = runs
    assert not run.complete and run.stages
    assert any("last line" in warning and "cut off" in warning for warning in warnings)
    assert any("no application end event" in warning for warning in warnings)


@pytest.mark.parametrize("codec", CODECS[1:])
def test_compressed_log_cut_mid_stream_still_reads(tmp_path: Path, codec: str) -> None:
    data = log_file(codec).read_bytes()
    path = tmp_path / f"local-1.{codec}.inprogress"
    path.write_bytes(data[: int(len(data) * 0.6)])
    runs, warnings = load(path)
    (run,) = runs
    assert not run.complete and run.events_read > 10
    assert all("\n" not in warning for warning in warnings)


@pytest.mark.parametrize("codec", CODECS[1:])
def test_corrupted_log_is_a_one_line_warning(tmp_path: Path, codec: str) -> None:
    data = bytearray(log_file(codec).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(range(64))
    path = tmp_path / f"local-1.{codec}"
    path.write_bytes(bytes(data))
    runs, warnings = load(path)
    assert warnings, "corruption must be reported"
    assert all("\n" not in warning and str(path) in warning for warning in warnings)
    assert any(word in " ".join(warnings) for word in ("corrupted", "not JSON", "cut off", "mid-block"))
    assert len(runs) <= 1


def test_unknown_codec_and_empty_and_missing_sources(tmp_path: Path) -> None:
    (tmp_path / "local-2.gz").write_bytes(gzip.compress(log_file("plain").read_bytes()))
    (tmp_path / "empty").mkdir()
    runs, warnings = load(tmp_path / "local-2.gz", tmp_path / "empty", tmp_path / "missing")
    assert runs == []
    assert warnings == [
        f"run profile {tmp_path / 'local-2.gz'}: local-2.gz: unknown event log codec 'gz' (Spark writes lz4, lzf, snappy, zstd)",
        f"run profile {tmp_path / 'empty'}: no Spark event logs in this directory",
        f"run profile {tmp_path / 'missing'}: no such file or directory",
    ]


def test_events_and_fields_from_another_spark_version_are_tolerated(tmp_path: Path) -> None:
    lines = log_file("plain").read_bytes().splitlines()
    changed = []
    for line in lines:
        event = orjson.loads(line)
        if event["Event"] == "SparkListenerTaskEnd":
            event["Task Metrics"].pop("Output Metrics", None)  # an older/newer shape
            event["Task Metrics"]["Future Metric"] = {"x": 1}
        changed.append(orjson.dumps(event))
        if event["Event"] == "SparkListenerJobStart":
            changed.append(b'{"Event":"SparkListenerSomethingNew","Payload":[1,2,3]}')
            changed.append(b'{"Event":"SparkListenerStageCompleted","Stage Info":"not an object"}')
    path = tmp_path / "local-3"
    path.write_bytes(b"\n".join(changed) + b"\n")
    runs, warnings = load(path)
    (run,) = runs
    assert run.complete and len(run.stages) == len(read("plain").stages)
    assert all(stage.output_bytes.total == 0 for stage in run.stages)
    assert warnings == []
    assert any("unexpected SparkListenerStageCompleted shape" in problem for problem in run.problems)


def test_decompression_bomb_guard(tmp_path: Path) -> None:
    runs, warnings = load(LOGS / "zstd", max_log_bytes=100_000)
    assert runs == []
    (warning,) = warnings
    assert "more than 100000 bytes after decompression" in warning and "max-log-bytes" in warning


def test_a_missing_decompressor_is_one_warning_that_says_how_to_repair_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # what `import zstandard` sees when absent
    runs, warnings = load(LOGS / "zstd")
    assert runs == []
    assert "needs the Python package 'zstandard'" in warnings[0]
    assert "pip install --force-reinstall sparklint" in warnings[0]


# ---------------------------------------------------------------- directories, filters, cache


@pytest.fixture
def history_dir(tmp_path: Path) -> Path:
    """A History Server log directory: every committed run side by side, oldest first."""
    directory = tmp_path / "history"
    directory.mkdir()
    for age, variant in enumerate(reversed(VARIANTS)):
        source = next((LOGS / variant).iterdir())
        target = directory / source.name
        if source.is_dir():
            shutil.copytree(source, target)
            files = list(target.iterdir())
        else:
            shutil.copy2(source, target)
            files = [target]
        for path in files:
            os.utime(path, ns=(1_700_000_000_000_000_000 + age * 10**9,) * 2)
    return directory


def test_log_directory_with_many_runs_and_filters(history_dir: Path) -> None:
    every = load_runs([str(history_dir)], RunFilter(), OPTIONS, None)
    assert sorted(run.app_name for run in every.runs) == sorted(f"pipeline-{variant}" for variant in VARIANTS)
    assert every.warnings == ()
    newest = load_runs([str(history_dir)], RunFilter(last=2), OPTIONS, None)
    # The newest by when they started (the fixture's file times say otherwise: plain and lz4).
    started_last = sorted(every.runs, key=lambda run: run.started_ms, reverse=True)[:2]
    assert [run.app_name for run in newest.runs] == [run.app_name for run in started_last]
    assert [run.app_name for run in newest.runs] != ["pipeline-plain", "pipeline-lz4"]
    named = load_runs([str(history_dir)], RunFilter(app_name="pipeline-sn*"), OPTIONS, None)
    assert [run.app_name for run in named.runs] == ["pipeline-snappy"]
    app_id = read("lzf").app_id
    by_id = load_runs([str(history_dir)], RunFilter(app_id=app_id), OPTIONS, None)
    assert [run.app_id for run in by_id.runs] == [app_id]
    nothing = load_runs([str(history_dir)], RunFilter(app_name="nightly"), OPTIONS, None)
    assert nothing.runs == () and nothing.warnings == (
        f"run profile {history_dir}: no run of an application named 'nightly'",
    )


def test_cache_serves_the_second_read_and_notices_changes(tmp_path: Path, history_dir: Path) -> None:
    cache = ProfileCache(tmp_path / "cache")
    first = load_runs([str(history_dir)], RunFilter(), OPTIONS, cache)
    second = load_runs([str(history_dir)], RunFilter(), OPTIONS, cache)
    assert first.cache_hits == 0 and second.cache_hits == len(VARIANTS)
    assert [to_dict(run) for run in second.runs] == [to_dict(run) for run in first.runs]
    (plain,) = [path for path in history_dir.iterdir() if path.is_file() and "." not in path.name]
    os.utime(plain, ns=(1_800_000_000_000_000_000,) * 2)
    third = load_runs([str(history_dir)], RunFilter(), OPTIONS, cache)
    assert third.cache_hits == len(VARIANTS) - 1


def test_model_round_trips_through_json(runs: dict[str, RunProfile]) -> None:
    run = runs["rolling"]
    assert run_from_dict(orjson.loads(orjson.dumps(to_dict(run)))) == run


# ---------------------------------------------------------------- `sparklint profile`


def test_profile_command_text(tmp_path: Path) -> None:
    result = run_cli("profile", str(LOGS / "zstd"), "--no-cache", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith('run local-') and '"pipeline-zstd"' in lines[0] and "2 cores" in lines[0]
    assert any(line.startswith("  stage ") and "tasks" in line and "spill" in line and "core utilisation" in line
               for line in lines)
    assert any("writes Parquet file:" in line and "(Overwrite; 2 files" in line and "120000 rows" in line
               for line in lines)
    assert any("Coalesce 2" in line for line in lines if "plan:" in line)
    assert any(line.strip().startswith("SortMergeJoin: left") for line in lines)


def test_profile_command_json_and_errors(tmp_path: Path) -> None:
    result = run_cli("profile", str(LOGS / "rolling"), "--output-format", "json", "--no-cache", cwd=tmp_path)
    assert result.exit_code == 0
    payload = orjson.loads(result.stdout)
    (run,) = payload["runs"]
    filler = filler_stage(read("rolling")).stage_id
    assert run["app_name"] == "pipeline-rolling" and run["hottest_stages"][0]["stage_id"] == filler
    assert payload["warnings"] == []
    missing = run_cli("profile", str(tmp_path / "nope"), "--no-cache", cwd=tmp_path)
    assert missing.exit_code == 2
    assert missing.stderr.splitlines() == [
        f"sparklint: warning: run profile {tmp_path / 'nope'}: no such file or directory",
        f"sparklint: error: no run could be read from {tmp_path / 'nope'}",
    ]


def test_expansion_guard_refuses_a_zstd_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import zstandard

    from sparklint.profile import codecs

    monkeypatch.setattr(codecs, "EXPANSION_FLOOR", 1024 * 1024)  # the 256 MiB floor, scaled down
    path = tmp_path / "local-4.zstd"
    with path.open("wb") as out, zstandard.ZstdCompressor().stream_writer(out) as writer:
        for _ in range(64):
            writer.write(b" " * (1024 * 1024 - 1) + b"\n")  # 64 MiB of blank lines, a few KiB packed
    assert path.stat().st_size < 32 * 1024
    runs, warnings = load(path)
    assert runs == []
    (warning,) = warnings
    assert f"decompresses to more than 2000 times its {path.stat().st_size} bytes" in warning
    assert "decompression bomb" in warning


def test_stages_keep_the_bytes_their_tasks_sent_to_the_driver() -> None:
    """`result_bytes` is the task metric "Result Size" summed over a stage's successful tasks,
    and the run records the `spark.driver.maxResultSize` its environment set."""
    import zstandard

    log = next((Path(__file__).resolve().parent / "data" / "evidence").glob("*.zstd"))
    sizes: dict[int, int] = {}
    with log.open("rb") as handle, zstandard.ZstdDecompressor().stream_reader(handle) as reader:
        for line in reader.read().splitlines():
            event = orjson.loads(line)
            if event["Event"] == "SparkListenerTaskEnd" and event["Task End Reason"]["Reason"] == "Success":
                sizes[event["Stage ID"]] = sizes.get(event["Stage ID"], 0) + event["Task Metrics"]["Result Size"]
    (ref,) = discover(str(log), ReadOptions())
    run = read_run(ref, ReadOptions())
    assert {stage.stage_id: stage.result_bytes for stage in run.stages} == sizes
    assert run.spark_property("spark.driver.maxResultSize") == "8m"
    restored = run_from_dict({**to_dict(run), "stages": [{key: value for key, value in to_dict(stage).items()
                                                          if key != "result_bytes"} for stage in run.stages]})
    assert all(stage.result_bytes == 0 for stage in restored.stages)  # a cached profile from before the field
