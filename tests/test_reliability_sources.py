"""No source file can crash, hang or flood a run: whatever a name points at (a FIFO, /dev/zero,
a symlink loop), however its name is spelt (bytes that are not UTF-8), however deep or long
its code is (shapes that make libcst's native parser abort or take minutes). The bad file costs
one warning or one SPK000; every other file's findings are still reported."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import findings_by_place, run_cli, write_project
from hypothesis import given
from hypothesis import strategies as st

from sparklint.frontends.screen import MAX_CHAIN, MAX_NESTING, too_complex
from sparklint.workers import Failure, run_isolated

GOOD_JOB = """
    def main(spark):
        spark.read.table("raw.a").coalesce(1).write.parquet("s3://a")  # expect: SPK001
"""
GOOD_FINDING = ("SPK001", "good.py", 2)
SECONDS = 60
MEMORY_BYTES = 1024**3


def project_with(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    return write_project(tmp_path / "p", {"good.py": GOOD_JOB, **(files or {})})


def checked(project: Path, *args: str, output_format: str = "json"):
    run = run_cli("check", ".", "--no-cache", "--output-format", output_format, *args, cwd=project)
    assert run.exit_code in (0, 1), run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    return run


def measured_run(project: Path, *args: str) -> tuple[subprocess.CompletedProcess, float, int]:
    """`sparklint check` as its own process tree: its outcome, seconds and the peak RSS in
    bytes of its largest process (workers included)."""
    probe = textwrap.dedent("""
        import resource, subprocess, sys
        run = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors="replace")
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
        sys.exit(run.returncode)
    """)
    command = [sys.executable, "-c", probe, sys.executable, "-m", "sparklint.cli", "check", ".", "--no-cache",
               "--output-format", "json", *args]
    started = time.monotonic()
    run = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=SECONDS * 2)
    seconds = time.monotonic() - started
    *stderr, peak_kib = run.stderr.rstrip("\n").split("\n")
    run.stderr = "\n".join(stderr)
    return run, seconds, int(peak_kib) * 1024


# ---------------------------------------------------------------- what a name points at


def hostile_names(project: Path) -> None:
    (project / "loop.py").symlink_to("loop.py")
    (project / "ping.py").symlink_to("pong.py")
    (project / "pong.py").symlink_to("ping.py")
    (project / "dangling.py").symlink_to("nowhere/missing.py")
    os.mkfifo(project / "fifo.py")
    (project / "zero.py").symlink_to("/dev/zero")
    (project / "random.scala").symlink_to("/dev/urandom")
    (project / "folder.py").mkdir()
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(project / "socket.py"))
    listening.close()


def test_files_that_are_no_regular_files_are_skipped_with_one_warning_each(tmp_path: Path) -> None:
    project = project_with(tmp_path)
    hostile_names(project)
    started = time.monotonic()
    run = checked(project)
    assert time.monotonic() - started < SECONDS
    assert set(findings_by_place(run.json())) == {GOOD_FINDING}
    warnings = [line for line in run.stderr.splitlines() if line.startswith("sparklint: warning:")]
    assert sorted(line.split(":")[2].strip() for line in warnings) == sorted(
        ["dangling.py", "fifo.py", "loop.py", "ping.py", "pong.py", "random.scala", "socket.py", "zero.py"])
    assert "Too many levels of symbolic links" in run.stderr and "not a regular file" in run.stderr


def test_the_same_files_named_on_the_command_line_as_pre_commit_does(tmp_path: Path) -> None:
    project = project_with(tmp_path)
    hostile_names(project)
    run = checked(project, "good.py", "loop.py", "ping.py", "fifo.py", "zero.py", "random.scala")
    assert set(findings_by_place(run.json())) == {GOOD_FINDING}
    assert run_cli("check", str(tmp_path / "not-there.py")).exit_code == 2  # a typo is still a usage error


# ---------------------------------------------------------------- how a name is spelt


@pytest.fixture()
def undecodable_name(tmp_path: Path) -> Path:
    project = project_with(tmp_path)
    name = os.fsdecode(b"caf\xe9_job.py")  # Latin-1 bytes: not UTF-8
    (project / name).write_text(textwrap.dedent(GOOD_JOB).lstrip(), encoding="utf-8")
    return project


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(undecodable_name: Path, output_format: str) -> None:
    run = checked(undecodable_name, output_format=output_format)
    if output_format in ("text", "github"):
        assert "caf\\xe9_job.py:2" in run.stdout or "file=caf\\xe9_job.py," in run.stdout
    if output_format == "json":
        places = findings_by_place(json.loads(run.stdout))
        assert set(places) == {GOOD_FINDING, ("SPK001", "caf\\xe9_job.py", 2)}
    if output_format == "sarif":
        results = json.loads(run.stdout)["runs"][0]["results"]
        uris = {result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in results}
        assert uris == {"good.py", "caf%E9_job.py"}  # the name's own bytes, percent-encoded


# ---------------------------------------------------------------- how deep or long the code is


SHAPES = {
    "5,000 nested parentheses": "x = " + "(" * 5_000 + "1" + ")" * 5_000 + "\n",
    "50,000 nested parentheses": "x = " + "(" * 50_000 + "1" + ")" * 50_000 + "\n",
    "20,000 nested lambdas": "x = " + "lambda: " * 20_000 + "1\n",
    "a 5,000-step method chain": "x = df" + ".f()" * 5_000 + "\n",
    "a 10,000-term sum": "x = " + " + ".join(["a"] * 10_000) + "\n",
    "5,000 nested lists": "x = " + "[" * 5_000 + "]" * 5_000 + "\n",
}
REASONS = {
    "5,000 nested parentheses": "brackets nested more than 200 deep",
    "50,000 nested parentheses": "brackets nested more than 200 deep",
    "20,000 nested lambdas": "more than 200 nested lambdas",
    "a 5,000-step method chain": f"more than {MAX_CHAIN} chained operators or method calls",
    "a 10,000-term sum": f"more than {MAX_CHAIN} chained operators or method calls",
    "5,000 nested lists": "brackets nested more than 200 deep",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_code_too_deep_or_long_for_libcst_is_spk000_with_the_reason(tmp_path: Path, shape: str) -> None:
    project = project_with(tmp_path)
    (project / "generated.py").write_text(SHAPES[shape])
    run, seconds, peak = measured_run(project)
    assert run.returncode == 1, run.stderr
    places = findings_by_place(json.loads(run.stdout))
    assert set(places) == {GOOD_FINDING, ("SPK000", "generated.py", 1)}
    assert REASONS[shape] in places[("SPK000", "generated.py", 1)]["message"]
    assert seconds < SECONDS and peak < MEMORY_BYTES, (seconds, peak)


def test_the_screen_draws_its_lines_exactly_at_the_limits() -> None:
    def chain(steps: int) -> bytes:
        return b"x = df" + b".f()" * steps + b"\n"

    def nested(depth: int) -> bytes:
        return b"x = " + b"(" * depth + b"1" + b")" * depth + b"\n"

    assert too_complex(chain(MAX_CHAIN)) is None
    assert too_complex(chain(MAX_CHAIN + 1)) is not None
    assert too_complex(nested(MAX_NESTING)) is None
    assert too_complex(nested(MAX_NESTING + 1)) is not None
    assert too_complex(b"x = '" + b"(" * 5000 + b"'\n# " + b"a." * 5000 + b"\n") is None  # strings and comments


def test_code_just_inside_the_nesting_limit_is_analysed(tmp_path: Path) -> None:
    nested = "(" * (MAX_NESTING - 2) + "spark.read.table('t')" + ")" * (MAX_NESTING - 2)
    chain = nested + ".filter('x > 0')" * 100
    project = project_with(tmp_path, {"deep.py": f"def main(spark):\n    {chain}.coalesce(1).write.csv('s3://x')\n"})
    assert set(findings_by_place(checked(project).json())) == {GOOD_FINDING, ("SPK001", "deep.py", 2)}


def test_a_notebook_with_magics_and_shell_escapes_is_analysed_and_a_real_syntax_error_is_not_hidden(tmp_path: Path) -> None:
    notebook = textwrap.dedent("""\
        # Databricks notebook source
        %pip install dbldatagen
        # COMMAND ----------
        !ls /dbfs/tmp
        def main(spark):
            template = \"\"\"
        %d rows
        \"\"\"
            spark.read.table("raw.a").coalesce(1).write.parquet("s3://a")
          %sql SELECT 1
    """)
    project = project_with(tmp_path, {"notebook.py": notebook, "broken.py": "%pip install x\ndef f(:\n"})
    found = findings_by_place(checked(project).json())
    assert set(found) == {GOOD_FINDING, ("SPK001", "notebook.py", 9), ("SPK000", "broken.py", 2)}
    assert found[("SPK001", "notebook.py", 9)]["location"]["column"] == 31  # `coalesce`: columns kept


def test_a_native_parser_crash_costs_only_its_file(tmp_path: Path) -> None:
    """With the screen switched off, libcst really aborts on 20,000 nested lambdas: the worker
    dies and is replaced, the file is SPK000, the rest is checked."""
    project = project_with(tmp_path, {"other.py": GOOD_JOB})
    (project / "generated.py").write_text(SHAPES["20,000 nested lambdas"])
    unscreened = ("import sys, sparklint.frontends.screen as screen; screen.too_complex = lambda source: None; "
                  "from sparklint.cli import main; sys.argv[0] = 'sparklint'; main()")
    run = subprocess.run([sys.executable, "-c", unscreened, "check", ".", "--no-cache", "--output-format", "json"],
                         cwd=project, capture_output=True, text=True, timeout=SECONDS * 2)
    assert run.returncode == 1, run.stderr
    places = findings_by_place(json.loads(run.stdout))
    assert set(places) == {GOOD_FINDING, ("SPK001", "other.py", 2), ("SPK000", "generated.py", 1)}
    assert "the parser crashed (SIGABRT)" in places[("SPK000", "generated.py", 1)]["message"]


# ---------------------------------------------------------------- the workers themselves


def misbehave(payload: str) -> str:
    if payload == "abort":
        os.abort()
    if payload == "spin":
        while True:
            pass
    if payload == "sleep":
        time.sleep(60)
    if payload == "allocate":
        return "x" * (8 * 1024**3)
    if payload == "raise":
        raise ValueError("one file's problem")
    return payload.upper()


def test_workers_that_die_overrun_or_fail_cost_only_their_payload() -> None:
    payloads = ["a", "abort", "b", "spin", "c", "allocate", "d", "raise", "e"]
    results = run_isolated(misbehave, payloads, jobs=2, cpu_seconds=1, seconds_per_job=60)
    assert [result for result in results if isinstance(result, str)] == ["A", "B", "C", "D", "E"]
    reasons = {payload: result.reason for payload, result in zip(payloads, results) if isinstance(result, Failure)}
    assert reasons == {
        "abort": "the parser crashed (SIGABRT)",
        "spin": "parsing used more than 1 s of CPU time",
        "allocate": "parsing needed more than the memory limit",
        "raise": "the parser failed (ValueError)",
    }


def test_a_worker_that_waits_past_the_deadline_is_replaced() -> None:
    started = time.monotonic()
    results = run_isolated(misbehave, ["f", "sleep", "g"], jobs=1, seconds_per_job=2)
    assert results[0] == "F" and results[2] == "G"
    assert results[1] == Failure("parsing took more than 2 s")
    assert time.monotonic() - started < 30


WARMED: list[int] = []  # in each worker: the warm-ups it ran


def warm() -> None:
    WARMED.append(os.getpid())


def warmed_pid(payload: str) -> tuple[str, list[int]]:
    return payload, list(WARMED)


def failing_warm_up() -> None:
    raise RuntimeError("no head start")


def test_each_worker_warms_up_once_before_its_first_payload_even_one_that_replaces_a_dead_worker() -> None:
    payloads = ["a", "b", "c", "abort", "d", "e"]
    results = run_isolated(lambda p: misbehave(p) if p == "abort" else warmed_pid(p), payloads, jobs=2, warm_up=warm)
    served = [result for result in results if isinstance(result, tuple)]
    assert [payload for payload, _ in served] == ["a", "b", "c", "d", "e"]
    assert all(len(warm_ups) == 1 for _, warm_ups in served)  # once per process, before the first payload
    assert len({warm_ups[0] for _, warm_ups in served}) >= 2  # the replacement of the aborted worker warmed up too
    assert not WARMED  # never in the parent


def test_a_warm_up_that_fails_costs_nothing_but_the_head_start() -> None:
    assert run_isolated(misbehave, ["a", "b"], jobs=1, warm_up=failing_warm_up) == ["A", "B"]


def test_the_warm_up_sources_lower_in_their_language_without_errors() -> None:
    from sparklint.project import WARM_UP_SOURCES
    from sparklint.frontends import lower

    for language, (name, source) in WARM_UP_SOURCES.items():
        module = lower(name, source)
        assert module.language == language and not module.parse_errors


# ---------------------------------------------------------------- fuzzing


def nested_code(kinds: list[str], depth: int, length: int) -> str:
    opening = {"(": ")", "[": "]", "{": "}", "lambda": ""}
    inner = "df" + ".f(1)" * length
    for index in range(depth):
        kind = kinds[index % len(kinds)]
        inner = f"lambda: {inner}" if kind == "lambda" else f"{kind}{inner}{opening[kind]}"
    return f"x = {inner}\n"


# Sizes libcst parses quickly, or past the screen's limits: a chain just under the limit takes
# libcst seconds, too slow for every CI example (the boundary is tested on the screen alone).
@given(kinds=st.lists(st.sampled_from(["(", "[", "{", "lambda"]), min_size=1, max_size=4),
       depth=st.integers(0, 40) | st.integers(MAX_NESTING + 1, 3 * MAX_NESTING),
       length=st.integers(0, 40) | st.integers(MAX_CHAIN + 1, 3 * MAX_CHAIN))
def test_generated_deep_and_long_code_never_stops_the_run(tmp_path_factory, kinds, depth, length) -> None:
    project = project_with(tmp_path_factory.mktemp("fuzz"))
    source = nested_code(kinds, depth, length)
    (project / "generated.py").write_text(source)
    places = findings_by_place(checked(project).json())
    assert GOOD_FINDING in places
    if too_complex(source.encode()) is not None:
        assert ("SPK000", "generated.py", 1) in places


FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "story_py" / "sitevisits" / "lake" / "iceberg.py"


@given(data=st.data())
def test_mutated_source_files_never_stop_the_run(tmp_path_factory, data) -> None:
    original = FIXTURE.read_bytes()
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        position = data.draw(st.integers(0, len(mutated)), label="position")
        action = data.draw(st.sampled_from(["insert", "delete", "replace", "truncate", "repeat"]), label="action")
        chunk = data.draw(st.binary(min_size=1, max_size=64) | st.sampled_from(
            [b"(" * 300, b"lambda: " * 300, b"\x00", b"\xff\xfe", b'"""', b"\\\n", b"\t" * 50, b".x()" * 2500]),
            label="chunk")
        if action == "insert":
            mutated[position:position] = chunk
        elif action == "delete":
            del mutated[position:position + len(chunk)]
        elif action == "replace":
            mutated[position:position + len(chunk)] = chunk
        elif action == "truncate":
            del mutated[position:]
        else:
            mutated[position:position] = mutated[position:position + 200] * 20
    project = project_with(tmp_path_factory.mktemp("mutated"))
    (project / "iceberg.py").write_bytes(bytes(mutated))
    (project / "Iceberg.scala").write_bytes(bytes(mutated))
    assert GOOD_FINDING in findings_by_place(checked(project).json())


def test_spk000_says_what_to_do_for_each_kind_of_unreadable_file(tmp_path: Path) -> None:
    """A syntax error, a file that is not UTF-8 and one past the analysis limits each get their own advice."""
    from conftest import check_files

    project = tmp_path / "p"
    project.mkdir()
    (project / "latin1_job.py").write_bytes(b"# caf\xe9\nx = 1\n")
    report = check_files(project, {"broken_job.py": "def main(:\n", "deep_job.py": "x = " + "(" * 300 + "1" + ")" * 300 + "\n"})
    fixes = {finding["location"]["path"]: finding["fix"] for finding in report["findings"] if finding["rule"] == "SPK000"}
    assert fixes["broken_job.py"].startswith("fix the syntax error")
    assert fixes["latin1_job.py"].startswith("save the file as UTF-8")
    assert fixes["deep_job.py"].startswith("split or simplify the file")


def _noisy_work(payload: int) -> int:
    os.write(2, b"memory allocation of 1008 bytes failed\nstack backtrace:\n")  # as a native abort prints
    return payload * 2


def test_what_a_worker_prints_on_stderr_never_reaches_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    from sparklint.workers import run_isolated

    assert run_isolated(_noisy_work, [1, 2], 2) == [2, 4]
    assert "memory allocation" not in capfd.readouterr().err
