"""Invalid configuration is a one-line error (exit 2) naming the file, the key and what was
expected; never a traceback or an internal error. Deterministic cases for each class of bad
input, then fuzz tests over random `[tool.sparklint]` documents and random file bytes (the number
of examples comes from the hypothesis profile chosen in conftest.py)."""

from __future__ import annotations

import datetime
import json
import math
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import CliRun, run_cli
from hypothesis import event, given
from hypothesis import strategies as st

from sparklint.catalogue import all_rules
from sparklint.config import (
    PROFILE_READER_OPTIONS,
    TOP_LEVEL_KEYS,
    ConfigError,
    load_settings,
    profile_option_kinds,
)
from sparklint.profile.api import options_from
from sparklint.profile.runtime_rules import THRESHOLD_OPTIONS, threshold
from sparklint.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TINY_PROJECT = {"job.py": "x = 1\n"}


def write_tiny_project(root: Path, config_name: str, config: bytes) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for relative, text in TINY_PROJECT.items():
        (root / relative).write_text(text, encoding="utf-8")
    (root / config_name).write_bytes(config)
    return root / config_name


def check_project(project: Path, *extra: str) -> CliRun:
    return run_cli("check", ".", "--no-cache", *extra, cwd=project)


def assert_config_error(run: CliRun, config: Path, *fragments: str) -> None:
    assert run.exit_code == 2, (run.exit_code, run.stderr)
    assert run.stderr.count("\n") == 1 and run.stderr.endswith("\n"), run.stderr
    assert run.stderr.startswith(f"sparklint: error: {config}: "), run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in run.stderr


def assert_outcome_is_clean(run: CliRun, config: Path) -> None:
    """A valid configuration checks (0 or 1); an invalid one is one error line naming the file."""
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    if run.exit_code == 2:
        assert_config_error(run, config)
    else:
        assert run.exit_code in (0, 1), (run.exit_code, run.stderr)


# ---------------------------------------------------------------- each class of the issue

PYPROJECT_CASES = [
    # (id, [tool.sparklint] document, fragments of the one error line)
    ("tool-not-a-table", "tool = 5\n", ["top level tool: expected a table, got 5"]),
    ("sparklint-not-a-table", "[tool]\nsparklint = 5\n", ["[tool] sparklint: expected a table, got 5"]),
    ("syntax-error", "[tool.sparklint\n", ["invalid TOML"]),
    ("nested-arrays", "[tool.sparklint]\nselect = " + "[" * 5000 + "]" * 5000 + "\n", ["nested too deeply"]),
    ("nested-arrays-that-parse", "[tool.sparklint]\nselect = " + "[" * 200 + "]" * 200 + "\n",
     ["select: expected a list of strings, got [[...]]"]),
    ("table-for-string", "[tool.sparklint]\nfail-on = { a = 1 }\n", ["fail-on: expected a severity", "got a table"]),
    ("nested-tables", "[tool]\nsparklint = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n", ["nested too deeply"]),
    ("integer-of-5000-digits", "[tool.sparklint]\nx = " + "9" * 5000 + "\n", ["an integer too long to read"]),
    ("timeout-negative", "[tool.sparklint.profile-options]\ntimeout = -1\n",
     ["[tool.sparklint.profile-options] timeout: expected a positive number of seconds", "got -1"]),
    ("timeout-zero", "[tool.sparklint.profile-options]\ntimeout = 0\n", ["timeout: expected", "got 0"]),
    ("timeout-inf", "[tool.sparklint.profile-options]\ntimeout = inf\n", ["timeout: expected", "got inf"]),
    ("timeout-nan", "[tool.sparklint.profile-options]\ntimeout = nan\n", ["timeout: expected", "got nan"]),
    ("timeout-bool", "[tool.sparklint.profile-options]\ntimeout = true\n", ["timeout: expected", "got true"]),
    ("timeout-string", '[tool.sparklint.profile-options]\ntimeout = "30"\n', ["timeout: expected", 'got "30"']),
    ("max-log-bytes-1e400", "[tool.sparklint.profile-options]\nmax-log-bytes = 1e400\n",
     ["max-log-bytes: expected a positive whole number of bytes, got inf"]),
    ("max-log-bytes-negative", "[tool.sparklint.profile-options]\nmax-log-bytes = -1\n", ["max-log-bytes: expected"]),
    ("max-log-bytes-too-large", "[tool.sparklint.profile-options]\nmax-log-bytes = 99999999999999999999\n",
     ["max-log-bytes: expected", "got 99999999999999999999"]),
    ("app-name-integer", "[tool.sparklint.profile-options]\napp-name = 5\n", ["app-name: expected a string, got 5"]),
    ("app-id-list", "[tool.sparklint]\nprofile-options = { app-id = [1] }\n", ["app-id: expected a string, got [1]"]),
    ("last-zero", "[tool.sparklint.profile-options]\nlast = 0\n", ["last: expected a positive whole number of runs"]),
    ("last-bool", "[tool.sparklint.profile-options]\nlast = false\n", ["last: expected", "got false"]),
    ("unknown-profile-option", "[tool.sparklint.profile-options]\ncolour = 1\n", ["unknown option `colour`"]),
    ("threshold-nan", "[tool.sparklint.profile-options]\nskew-ratio = nan\n", ["skew-ratio: expected a finite number"]),
    ("threshold-string", '[tool.sparklint.profile-options]\nskew-ratio = "abc"\n', ['skew-ratio: expected', 'got "abc"']),
    ("threshold-huge-int-for-float", "[tool.sparklint.profile-options]\nskew-ratio = 99999999999999999999\n",
     ["skew-ratio: expected a finite number"]),
    ("profile-options-not-a-table", "[tool.sparklint]\nprofile-options = 5\n", ["profile-options: expected a table"]),
    ("rule-option-bool-for-int", "[tool.sparklint.coalesce-before-write]\nmax-partitions = true\n",
     ["[tool.sparklint.coalesce-before-write] max-partitions: expected a whole number", "got true"]),
    ("rule-option-negative", "[tool.sparklint.coalesce-before-write]\nmax-partitions = -5\n",
     ["max-partitions: expected a whole number from 0"]),
    ("rule-option-too-large", "[tool.sparklint.coalesce-before-write]\nmax-partitions = 9223372036854775808\n",
     ["max-partitions: expected a whole number"]),
    ("rule-option-float-for-int", "[tool.sparklint.coalesce-before-write]\nmax-partitions = 2.5\n",
     ["max-partitions: expected a whole number", "got 2.5"]),
    ("rule-list-of-non-strings", "[tool.sparklint.missing-broadcast-hint]\nsmall-tables = [1]\n",
     ["small-tables: expected a list of strings, got [1]"]),
    ("rule-string-for-list", '[tool.sparklint.missing-broadcast-hint]\nsmall-tables = "dim"\n',
     ['small-tables: expected a list of strings, got "dim"']),
    ("rule-table-not-a-table", "[tool.sparklint]\ncoalesce-before-write = 5\n",
     ["[tool.sparklint] coalesce-before-write: expected a table of SPK001's options, got 5"]),
    ("string-for-list", '[tool.sparklint]\nselect = "SPK001"\n', ['select: expected a list of strings, got "SPK001"']),
    ("list-of-non-strings", "[tool.sparklint]\nexclude = [1, 'x']\n", ['exclude: expected a list of strings, got [1, "x"]']),
    ("nested-list", "[tool.sparklint]\nignore = [['SPK001']]\n", ["ignore: expected a list of strings, got [[...]]"]),
    ("severity-integer", "[tool.sparklint]\nfail-on = 2\n", ["fail-on: expected a severity", "got 2"]),
    ("cache-dir-empty", '[tool.sparklint]\ncache-dir = ""\n', ["cache-dir: expected a path"]),
    ("cache-dir-nul", '[tool.sparklint]\ncache-dir = "a\\u0000b"\n', ["cache-dir: expected a path", '"a\\u0000b"']),
    ("profile-date", "[tool.sparklint]\nprofile = 1979-05-27\n", ["profile: expected", "got 1979-05-27"]),
    ("unknown-key-with-newline", '[tool.sparklint]\n"a\\nb" = 1\n', ['unknown key "a\\nb"']),
    ("unknown-rule-with-newline", '[tool.sparklint]\nselect = ["a\\nb"]\n', ['select: unknown rule "a\\nb"']),
    ("long-value-is-cut", '[tool.sparklint]\nfail-on = ' + json.dumps("x" * 500) + "\n", ["..."]),
]


@pytest.mark.parametrize(("document", "fragments"), [case[1:] for case in PYPROJECT_CASES],
                         ids=[case[0] for case in PYPROJECT_CASES])
def test_each_bad_value_is_one_line_naming_file_key_and_type(tmp_path: Path, document: str, fragments: list[str]) -> None:
    config = write_tiny_project(tmp_path, "pyproject.toml", document.encode("utf-8"))
    assert_config_error(check_project(tmp_path), config, *fragments)


ENCODING_CASES = [
    ("utf-16", '[tool.sparklint]\nselect = ["SPK001"]\n'.encode("utf-16"), "the file is UTF-16"),
    ("utf-16-be", b"\xfe\xff" + '[tool.sparklint]\n'.encode("utf-16-be"), "the file is UTF-16"),
    ("utf-32", '[tool.sparklint]\n'.encode("utf-32"), "the file is UTF-32"),
    ("utf-8-bom", b"\xef\xbb\xbf[tool.sparklint]\n", "the file is UTF-8 with a byte-order mark"),
    ("latin-1", '[tool.sparklint]\nextend-exclude = ["café"]\n'.encode("latin-1"), "not UTF-8: byte 0xe9 at line 2, column 23"),
    ("utf-16-without-bom", '[tool.sparklint]\n'.encode("utf-16-le"), "invalid TOML"),
]


@pytest.mark.parametrize(("content", "fragment"), [case[1:] for case in ENCODING_CASES], ids=[case[0] for case in ENCODING_CASES])
def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path, content: bytes, fragment: str) -> None:
    config = write_tiny_project(tmp_path, "pyproject.toml", content)
    assert_config_error(check_project(tmp_path), config, fragment)


@pytest.mark.parametrize("layout", ["sparklint.toml", "--config"])
def test_top_level_files_report_their_section(tmp_path: Path, layout: str) -> None:
    name = "sparklint.toml" if layout == "sparklint.toml" else "lint.toml"
    config = write_tiny_project(tmp_path, name, b"profile-options = { timeout = -1 }\n")
    extra = ("--config", name) if layout == "--config" else ()
    expected = config if layout == "sparklint.toml" else Path(name)
    assert_config_error(check_project(tmp_path, *extra), expected, "[profile-options] timeout: expected", "got -1")


def test_explicit_config_in_utf16(tmp_path: Path) -> None:
    write_tiny_project(tmp_path, "lint.toml", 'select = ["SPK001"]\n'.encode("utf-16"))
    assert_config_error(check_project(tmp_path, "--config", "lint.toml"), Path("lint.toml"), "the file is UTF-16")


def test_a_bad_pyproject_found_on_the_way_up_is_reported(tmp_path: Path) -> None:
    config = write_tiny_project(tmp_path, "pyproject.toml", b"tool = 5\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "job.py").write_text("x = 1\n", encoding="utf-8")
    assert_config_error(check_project(tmp_path / "sub"), config, "top level tool: expected a table")


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"profile_options": {"last": 0}}, "--last: expected a positive whole number of runs, got 0"),
    ({"profile_options": {"app-name": 5}}, "--app-name: expected a string, got 5"),
    ({"fail_on": "eror"}, "--fail-on: unknown severity `eror`"),
    ({"select": ["SPK3"]}, "--select: unknown rule `SPK3`"),
])
def test_command_line_values_pass_the_same_checks(tmp_path: Path, overrides: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, tmp_path, overrides)
    assert str(error.value).startswith(expected)


def test_a_flag_value_out_of_range_is_one_line(tmp_path: Path) -> None:
    write_tiny_project(tmp_path, "pyproject.toml", b"[tool.sparklint]\n")
    run = check_project(tmp_path, "--last", str(10**25))
    assert run.exit_code == 2
    assert run.stderr == f"sparklint: error: --last: expected a positive whole number of runs, got {10**25}\n"


def test_valid_values_of_every_kind_are_accepted(tmp_path: Path) -> None:
    write_tiny_project(tmp_path, "pyproject.toml", b"""
[tool.sparklint]
select = ["ALL"]
fail-on = "error"
profile = "logs"
cache-dir = "/tmp/elsewhere"
profile-options = { app-name = "hourly-*", app-id = "app-1", last = 5, timeout = 0.5, max-log-bytes = 4294967296, skew-ratio = 8, raise-on-spill = false }

[tool.sparklint.coalesce-before-write]
max-partitions = 0

[tool.sparklint.SPK002]
small-tables = []
""")
    settings = load_settings(None, tmp_path, {})
    assert settings.profile_options["timeout"] == 0.5 and settings.profile_options["skew-ratio"] == 8.0
    assert settings.profiles == (str(tmp_path / "logs"),)
    assert settings.rule_options == {"SPK001": {"max-partitions": 0}, "SPK002": {"small-tables": []}}
    run = check_project(tmp_path)
    assert run.exit_code == 0 and "error:" not in run.stderr


# ---------------------------------------------------------------- fuzzing

RULE_TABLE_NAMES = [name for rule in all_rules() for name in (rule.slug, rule.code)]
OPTION_NAMES = sorted({option.name for rule in all_rules() for option in rule.options} | set(profile_option_kinds()))
PLAUSIBLE_STRINGS = ["SPK001", "spk00", "ALL", "coalesce-before-write", "error", "warning", "note", "logs",
                     "*.py", "build", "hourly-*", "", "a,b", " SPK002 ", "x\x00y", "é"]

# No absolute paths, URLs or parent directories: `profile = "..."` must not make the check read
# event logs outside the temporary project or open a connection.
safe_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).filter(
    lambda text: "://" not in text and ".." not in text and not text.startswith(("/", "\\")))
strings = st.one_of(st.sampled_from(PLAUSIBLE_STRINGS), safe_text)
integers = st.one_of(st.integers(-3, 100), st.integers(-(10**30), 10**30),
                     st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**100]))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 0.5, 1e308, math.inf]))
date_times = st.one_of(st.datetimes(), st.datetimes(timezones=st.just(datetime.timezone.utc)), st.dates(), st.times())
scalars = st.one_of(st.booleans(), integers, floats, strings, date_times)
keys = st.one_of(st.sampled_from([*TOP_LEVEL_KEYS, *RULE_TABLE_NAMES, *OPTION_NAMES, "tool", "sparklint"]), safe_text)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)), max_leaves=12)
documents = st.dictionaries(keys, values, max_size=6)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (int, datetime.date, datetime.time)):
        return value.isoformat() if not isinstance(value, int) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_string(key)} = {toml_value(item)}" for key, item in value.items()) + "}"


def toml_string(text: str) -> str:
    # JSON's escapes are TOML's, but TOML also wants DEL escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_document(table: dict, section: str | None) -> str:
    lines = [f"{toml_string(key)} = {toml_value(value)}" for key, value in table.items()]
    return "\n".join(([f"[{section}]"] if section else []) + lines) + "\n"


LAYOUTS = {  # layout -> (file name, section, extra arguments)
    "pyproject": ("pyproject.toml", "tool.sparklint", ()),
    "whole pyproject": ("pyproject.toml", None, ()),
    "sparklint.toml": ("sparklint.toml", None, ()),
    "--config": ("lint.toml", None, ("--config", "lint.toml")),
}


def fuzz_check(layout: str, content: bytes) -> None:
    name, _section, extra = LAYOUTS[layout]
    with tempfile.TemporaryDirectory() as directory:
        project = Path(directory) / "project"
        config = write_tiny_project(project, name, content)
        named = Path(name) if extra else config
        run = check_project(project, *extra)
        event(f"exit {run.exit_code}")
        assert_outcome_is_clean(run, named)
        if run.exit_code != 2:
            assert_usable(load_settings(config if extra else None, project, {}))


def assert_usable(settings: Settings) -> None:
    """What the configuration accepted, the readers downstream can use as it is."""
    run_filter, read_options = options_from(settings.profile_options)
    assert 0 < read_options.timeout < math.inf and read_options.max_log_bytes >= 1
    assert run_filter.last is None or run_filter.last >= 1
    assert all(isinstance(text, (str, type(None))) for text in (run_filter.app_name, run_filter.app_id))
    for name, option in THRESHOLD_OPTIONS.items():
        value = threshold(settings, name)
        assert isinstance(value, option.type) and (option.type is bool or 0 <= value < math.inf)
    for code, options in settings.rule_options.items():
        declared = {option.name: option for rule in all_rules() if rule.code == code for option in rule.options}
        for name, value in options.items():
            expected = declared[name].type
            assert isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
            assert not isinstance(value, (int, float)) or 0 <= value < math.inf


@given(layout=st.sampled_from(sorted(LAYOUTS)), table=documents)
def test_fuzz_random_documents(layout: str, table: dict) -> None:
    text = toml_document(table, LAYOUTS[layout][1])
    tomllib.loads(text)  # the generator writes valid TOML: what is tested is the values
    fuzz_check(layout, text.encode("utf-8"))


@given(rule=st.sampled_from(RULE_TABLE_NAMES + ["profile-options"]),
       options=st.dictionaries(st.sampled_from(OPTION_NAMES + list(PROFILE_READER_OPTIONS)), values, max_size=4))
def test_fuzz_rule_and_profile_option_tables(rule: str, options: dict) -> None:
    text = toml_document(options, f"tool.sparklint.{toml_string(rule)}")
    tomllib.loads(text)
    fuzz_check("pyproject", text.encode("utf-8"))


@given(layout=st.sampled_from(sorted(LAYOUTS)), content=st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from([b"[tool.sparklint]\n", b"[tool]\n", b"\xff\xfe", b"\xef\xbb\xbf", b""]),
              st.binary(max_size=100)).map(b"".join)))
def test_fuzz_random_bytes(layout: str, content: bytes) -> None:
    fuzz_check(layout, content)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e400"])
def test_profile_timeout_flag_passes_the_same_check(tmp_path: Path, value: str) -> None:
    run = run_cli("profile", str(tmp_path), "--timeout", value)
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().endswith(f"'--timeout': expected a positive number of seconds (at most 86400), got {float(value)!r}")
