"""Bad event logs cost a note, never the run: numbers of the wrong type, sign or size, lines
carried across rolling parts, decompression bombs of empty lines, Spark's compacted parts, and
real logs (tests/data/eventlogs) mutated by hypothesis. The number of fuzz examples comes from
the hypothesis profile (conftest.py: "ci" on every run, "long" from benchmarks/fuzz.py)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from sparklint.profile import codecs, sources
from sparklint.profile.eventlog import read_log
from sparklint.profile.model import RunProfile
from sparklint.profile.sources import ReadOptions, discover, read_run

from conftest import CROSS_FILE_FINDING, CROSS_FILE_PROJECT, findings_by_place, run_cli, write_project

LOGS = Path(__file__).resolve().parent / "data" / "eventlogs"
PLAIN_LOG = next((LOGS / "plain").iterdir())
PLAIN_LINES = PLAIN_LOG.read_bytes().splitlines(keepends=True)
EVENTS = [orjson.loads(line) for line in PLAIN_LINES]
APP_ID = "local-1795611014940"
# Whether sources.read_run reads through eventlog.read_log, the one reader of log parts.
reads_through_read_log = pytest.mark.skipif(
    not hasattr(sources, "read_log"), reason="sources.read_run does not delegate to eventlog.read_log yet")


def read_bytes(data: bytes, name: str = APP_ID) -> RunProfile:
    from io import BytesIO

    return read_log(name, [(name, BytesIO(data), len(data))])


def with_task_metric(value: object, field: str = "Executor Run Time") -> bytes:
    """The plain log with `field` of its first task end set to `value` (any JSON, big ints too)."""
    lines = list(PLAIN_LINES)
    index = next(i for i, event in enumerate(EVENTS) if event["Event"] == "SparkListenerTaskEnd")
    event = dict(EVENTS[index], **{"Task Metrics": dict(EVENTS[index]["Task Metrics"], **{field: value})})
    lines[index] = json.dumps(event).encode() + b"\n"
    return b"".join(lines)


def task_count(run: RunProfile) -> int:
    return sum(stage.task_time_ms.count for stage in run.stages)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", CROSS_FILE_PROJECT)


def check_with_profile(project: Path, log: Path) -> dict:
    """`sparklint check --profile LOG` as users run it: a clean exit and the static findings kept."""
    result = run_cli("check", ".", "--output-format", "json", "--no-cache", "--profile", str(log), cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    report = result.json()
    assert CROSS_FILE_FINDING in findings_by_place(report)
    assert len(report["warnings"]) <= 5 and all("\n" not in warning for warning in report["warnings"])
    return report


# ---------------------------------------------------------------- numbers


def test_a_metric_above_a_java_long_skips_its_task_with_one_note(tmp_path: Path, project: Path) -> None:
    run = read_bytes(with_task_metric(2**63 + 1))
    clean = read_bytes(b"".join(PLAIN_LINES))
    assert run.complete and task_count(run) == task_count(clean) - 1
    (note,) = [problem for problem in run.problems if "0..2^63-1" in problem]
    assert "SparkListenerTaskEnd: 9223372036854775809" in note
    log = tmp_path / "local-1"
    log.write_bytes(with_task_metric(2**63 + 1))
    check_with_profile(project, log)


@pytest.mark.parametrize("value", [-1, "12 apples", 1.5, True, [1], {"ms": 1}, "9" * 30, 2**64, -(2**63)])
def test_a_metric_of_the_wrong_type_or_sign_is_one_note(value: object) -> None:
    run = read_bytes(with_task_metric(value, "JVM GC Time"))
    assert run.complete and task_count(run) == task_count(read_bytes(b"".join(PLAIN_LINES))) - 1
    assert sum("0..2^63-1" in problem for problem in run.problems) == 1


def test_many_bad_events_are_counted_in_one_note() -> None:
    lines = [json.dumps(dict(event, **{"Job ID": -5})).encode() + b"\n" if event["Event"] == "SparkListenerJobStart"
             else line for event, line in zip(EVENTS, PLAIN_LINES)]
    run = read_bytes(b"".join(lines))
    (note,) = [problem for problem in run.problems if "0..2^63-1" in problem]
    assert note.startswith("10 event(s)")


def test_sums_of_valid_longs_stay_within_a_long() -> None:
    lines = list(PLAIN_LINES)
    for index, event in enumerate(EVENTS):
        if event["Event"] == "SparkListenerTaskEnd":
            event = dict(event, **{"Task Metrics": dict(event["Task Metrics"], **{"JVM GC Time": 2**63 - 1})})
            lines[index] = json.dumps(event).encode() + b"\n"
    run = read_bytes(b"".join(lines))
    assert max(stage.gc_time_ms for stage in run.stages) == 2**63 - 1
    orjson.dumps([stage.gc_time_ms for stage in run.stages])  # the cache's JSON holds them


# ---------------------------------------------------------------- lines and bombs


def rolling_dir(tmp_path: Path, parts: list[bytes], compact_index: int | None = None) -> Path:
    directory = tmp_path / f"eventlog_v2_{APP_ID}"
    directory.mkdir()
    for number, data in enumerate(parts, start=1):
        suffix = ".zstd.compact" if number == compact_index else ".zstd"
        (directory / f"events_{number}_{APP_ID}{suffix}").write_bytes(zstandard.ZstdCompressor().compress(data))
    return directory


def read_rolling(directory: Path) -> RunProfile:
    (ref,) = discover(str(directory), ReadOptions())
    return read_run(ref, ReadOptions())


def test_a_long_line_carried_across_rolling_parts_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codecs, "MAX_LINE_BYTES", 256 * 1024)  # 32 MiB, scaled down
    half = len(PLAIN_LINES) // 2
    long_start = b'{"Event":"SparkListenerJobEnd","Padding":"' + b"x" * 100_000
    parts = [b"".join(PLAIN_LINES[:half]) + long_start, b"x" * 100_000, b"x" * 100_000,
             b"x" * 100_000 + b'"}\n' + b"".join(PLAIN_LINES[half:])]
    directory = rolling_dir(tmp_path, parts)
    from io import BytesIO

    run = read_log(str(directory), [(path.name, BytesIO(path.read_bytes()), path.stat().st_size)
                                    for path in sorted(directory.iterdir())])
    assert run.complete and task_count(run) == task_count(read_bytes(b"".join(PLAIN_LINES)))
    assert any("1 line(s) are longer than" in problem for problem in run.problems)


@reads_through_read_log
def test_a_long_line_carried_across_parts_through_the_cli(tmp_path: Path, project: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codecs, "MAX_LINE_BYTES", 256 * 1024)
    parts = [b"".join(PLAIN_LINES[:50]) + b'{"Event":"x","y":"' + b"y" * 200_000, b"y" * 200_000,
             b'"}\n' + b"".join(PLAIN_LINES[50:])]
    check_with_profile(project, rolling_dir(tmp_path, parts))


def empty_line_bomb(path: Path, gib: int) -> Path:
    with path.open("wb") as out, zstandard.ZstdCompressor().stream_writer(out) as writer:
        chunk = b"\n" * (64 * 1024**2)
        for _ in range(16 * gib):
            writer.write(chunk)
    return path


def test_a_zstd_bomb_of_empty_lines_stops_at_the_noise_bound(tmp_path: Path) -> None:
    from io import BytesIO

    data = empty_line_bomb(tmp_path / "local-2.zstd", 1).read_bytes()
    assert len(data) < 64 * 1024
    run = read_log("bomb", [("local-2.zstd", BytesIO(data), len(data))])
    assert run.events_read == 0 and run.decoded_bytes < 64 * 1024**2
    assert any("blank, not JSON or not Spark events: stopped reading" in problem for problem in run.problems)


@reads_through_read_log
def test_a_zstd_bomb_through_the_cli(tmp_path: Path, project: Path) -> None:
    report = check_with_profile(project, empty_line_bomb(tmp_path / "local-3.zstd", 2))
    assert len(report["warnings"]) == 1


def test_events_after_a_bomb_of_blank_lines_are_not_read_but_earlier_ones_are() -> None:
    data = b"".join(PLAIN_LINES[:60]) + b"\n" * 200_000 + b"".join(PLAIN_LINES[60:])
    run = read_bytes(data)
    assert not run.complete and run.stages
    assert any("stopped reading" in problem for problem in run.problems)


def test_a_line_of_countless_objects_is_not_parsed() -> None:
    data = b"".join(PLAIN_LINES[:10]) + b'{"Event":"x","a":[' + b"{}," * 1_200_000 + b'{}]}\n' + b"".join(PLAIN_LINES[10:])
    run = read_bytes(data)
    assert run.complete
    assert any("too many JSON objects" in problem for problem in run.problems)


def test_endless_distinct_stages_stop_growing_at_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from sparklint.profile import eventlog

    monkeypatch.setattr(eventlog, "MAX_STAGES", 100)
    stages = b"".join(b'{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":%d}}\n' % number
                      for number in range(1000, 1500))
    run = read_bytes(b"".join(PLAIN_LINES[:5]) + stages + b"".join(PLAIN_LINES[5:]))
    assert len(run.stages) == 100
    assert any(problem.endswith("stages beyond sparklint's bounds left out") for problem in run.problems)


def test_a_deep_plan_is_cut_at_the_depth_bound() -> None:
    plan: dict = {"nodeName": "Leaf", "simpleString": "Leaf", "children": [], "metrics": []}
    for level in range(400):
        plan = {"nodeName": f"Node{level}", "simpleString": "", "children": [plan], "metrics": []}
    start = {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart", "executionId": 99,
             "description": "deep", "details": "", "physicalPlanDescription": "", "sparkPlanInfo": plan, "time": 1}
    run = read_bytes(b"".join(PLAIN_LINES[:5]) + json.dumps(start).encode() + b"\n" + b"".join(PLAIN_LINES[5:]))
    (deep,) = [execution for execution in run.sql_executions if execution.execution_id == 99]
    assert sum(1 for _ in deep.plan.walk()) == 200
    assert any("plans (cut to their first nodes)" in problem for problem in run.problems)


# ---------------------------------------------------------------- compacted rolling logs


def test_compacted_rolling_parts_are_read(tmp_path: Path) -> None:
    """Spark's EventLogFileCompactor writes `events_<N>_<app>[.<codec>].compact` (the codec suffix
    of the last compacted part, then `.compact`) and readers start at the last compact part."""
    third = len(PLAIN_LINES) // 3
    stale = b'{"Event":"SparkListenerApplicationStart","App Name":"stale","App ID":"stale"}\n'
    parts = [stale, b"".join(PLAIN_LINES[: 2 * third]), b"".join(PLAIN_LINES[2 * third :])]
    run = read_rolling(rolling_dir(tmp_path, parts, compact_index=2))
    clean = read_bytes(b"".join(PLAIN_LINES))
    assert run.problems == () and run.complete and run.app_name == clean.app_name
    assert task_count(run) == task_count(clean) and len(run.stages) == len(clean.stages)


def test_a_compaction_in_progress_and_a_leftover_original_are_not_read_twice(tmp_path: Path) -> None:
    """Spark deletes the compacted originals after writing `.compact`; a reader can see the
    original of the same number still there, or a `.compact.inprogress` being written."""
    third = len(PLAIN_LINES) // 3
    first, rest = b"".join(PLAIN_LINES[: 2 * third]), b"".join(PLAIN_LINES[2 * third :])
    directory = rolling_dir(tmp_path, [first, rest], compact_index=1)
    compress = zstandard.ZstdCompressor().compress
    (directory / f"events_1_{APP_ID}.zstd").write_bytes(compress(first))  # the original, not yet deleted
    (directory / f"events_2_{APP_ID}.zstd.compact.inprogress").write_bytes(compress(first + rest))
    run = read_rolling(directory)
    clean = read_bytes(b"".join(PLAIN_LINES))
    assert run.complete and task_count(run) == task_count(clean) and len(run.stages) == len(clean.stages)


def test_codec_names_of_compacted_and_in_progress_parts() -> None:
    assert codecs.codec_from_name(f"events_3_{APP_ID}.zstd.compact") == "zstd"
    assert codecs.codec_from_name(f"events_3_{APP_ID}.compact") == "plain"
    assert codecs.codec_from_name(f"events_3_{APP_ID}.lz4.compact.inprogress") == "lz4"


# ---------------------------------------------------------------- mutated real logs

JSON_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, 2**63 + 1, 2**64, -1, 0]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(min_value=0, max_value=9), max_size=2),
)


def _replace_somewhere(value: object, draw, depth: int = 0) -> object:
    """`value` with one nested value (picked by `draw`) replaced by another JSON value."""
    if isinstance(value, dict) and value and depth < 6 and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(value)))
        return dict(value, **{key: _replace_somewhere(value[key], draw, depth + 1)})
    if isinstance(value, list) and value and depth < 6 and draw(st.integers(0, 3)):
        index = draw(st.integers(0, len(value) - 1))
        return [*value[:index], _replace_somewhere(value[index], draw, depth + 1), *value[index + 1 :]]
    return draw(JSON_VALUES)


@st.composite
def mutated_logs(draw) -> bytes:
    lines = list(PLAIN_LINES)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["field", "field", "drop", "duplicate", "flip", "truncate"]))
        index = draw(st.integers(0, len(lines) - 1))
        if kind == "field":
            try:
                event = json.loads(lines[index])
            except ValueError:
                continue
            lines[index] = json.dumps(_replace_somewhere(event, draw)).encode() + b"\n"
        elif kind == "drop":
            del lines[index]
        elif kind == "duplicate":
            lines.insert(index, lines[index])
        elif kind == "flip" and lines[index]:
            position = draw(st.integers(0, len(lines[index]) - 1))
            line = bytearray(lines[index])
            line[position] ^= draw(st.integers(1, 255))
            lines[index] = bytes(line)
        elif kind == "truncate":
            data = b"".join(lines)
            return data[: draw(st.integers(0, len(data)))]
    return b"".join(lines)


@given(mutated_logs())
def test_mutated_logs_never_break_the_reader(data: bytes) -> None:
    try:
        run = read_bytes(data)
    except codecs.LogFormatError as error:  # a first line that is not JSON: the log is refused
        assert "\n" not in str(error)
        return
    assert len(run.problems) <= 20 and all("\n" not in problem for problem in run.problems)
    orjson.dumps([stage.task_time_ms.total for stage in run.stages])


@given(mutated_logs(), st.sampled_from(["zstd", "plain"]))
def test_mutated_logs_keep_the_check(tmp_path_factory: pytest.TempPathFactory, data: bytes, codec: str) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    project = write_project(directory / "project", CROSS_FILE_PROJECT)
    log = directory / (f"{APP_ID}.zstd" if codec == "zstd" else APP_ID)
    log.write_bytes(zstandard.ZstdCompressor().compress(data) if codec == "zstd" else data)
    check_with_profile(project, log)
