"""`[tool.sparklint]` (or a `sparklint.toml`) plus the command line -> one `Settings` value.

The file is found from `root_hint` upward: the nearest `sparklint.toml`, or the nearest
`pyproject.toml` that has a `[tool.sparklint]` table. `--config FILE` names it explicitly (a
`pyproject.toml`, read from `[tool.sparklint]`, or any other TOML file, read from its top level).
Keys are kebab-case. Every value is checked against what its key declares (`TOP_LEVEL`,
`PROFILE_READER_OPTIONS` and the options rules declare); unknown keys, unknown rules, wrong types
and values out of range are a `ConfigError` of one line naming the file, the key and what was
expected. Command-line values win over the file and pass the same checks.
"""

from __future__ import annotations

import codecs
import datetime
import difflib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sparklint.catalogue import all_rules
from sparklint.findings import Severity
from sparklint.profile.runtime_rules import THRESHOLD_OPTIONS
from sparklint.rules import Rule, RuleOption
from sparklint.settings import DEFAULT_EXCLUDE, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SEVERITY_NAMES = tuple(severity.label for severity in Severity)
# TOML integers are 64-bit; tomllib reads larger ones, which nothing downstream should see.
LARGEST_INTEGER = 2**63 - 1
LONGEST_TIMEOUT_SECONDS = 24 * 60 * 60
LONGEST_SHOWN_VALUE = 40


class ConfigError(Exception):
    """A configuration problem the user must fix; its text is the one-line message."""


@dataclass(frozen=True, slots=True)
class ConfigFile:
    path: Path
    table: dict[str, Any]  # the [tool.sparklint] table (or the whole sparklint.toml)

    @property
    def directory(self) -> Path:
        return self.path.parent


# ---------------------------------------------------------------- what each value must be


@dataclass(frozen=True, slots=True)
class Kind:
    """What a value must be: the phrase error messages show, the test, and how it is stored."""

    expected: str
    accepts: Callable[[Any], bool]
    normalise: Callable[[Any], Any] = lambda value: value


def is_whole_number(value: Any, lowest: int) -> bool:
    # bool is an int in Python, but `true` is not a number in TOML.
    return isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= LARGEST_INTEGER


def is_finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= LARGEST_INTEGER if isinstance(value, int) else math.isfinite(value)


def is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_path(value: Any) -> bool:
    return isinstance(value, str) and value != "" and "\x00" not in value


def is_path_or_paths(value: Any) -> bool:
    return is_path(value) or (isinstance(value, list) and all(is_path(item) for item in value))


STRING = Kind("a string", lambda value: isinstance(value, str))
BOOLEAN = Kind("true or false", lambda value: isinstance(value, bool))
STRING_LIST = Kind("a list of strings", is_string_list, list)
WHOLE_NUMBER = Kind(f"a whole number from 0 to {LARGEST_INTEGER}", lambda value: is_whole_number(value, 0))
RATIO = Kind("a finite number, 0 or more", lambda value: is_finite_number(value) and value >= 0, float)
PATH = Kind("a path (a non-empty string without NUL characters)", is_path)
SEVERITY_NAME = Kind(f"a severity ({', '.join(SEVERITY_NAMES)})", lambda value: isinstance(value, str))
PROFILE_SOURCES = Kind("an event log, log directory or History Server URL, or a list of them", is_path_or_paths,
                       lambda value: [value] if isinstance(value, str) else value)
SECONDS = Kind(f"a positive number of seconds (at most {LONGEST_TIMEOUT_SECONDS})",
               lambda value: is_finite_number(value) and 0 < value <= LONGEST_TIMEOUT_SECONDS, float)
BYTE_LIMIT = Kind("a positive whole number of bytes", lambda value: is_whole_number(value, 1))
RUN_COUNT = Kind("a positive whole number of runs", lambda value: is_whole_number(value, 1))
TABLE = Kind("a table", lambda value: isinstance(value, dict))
SPARK_CONF = Kind("a table of Spark properties (`\"spark.sql.autoBroadcastJoinThreshold\" = -1`)",
                  lambda value: isinstance(value, dict) and all(
                      isinstance(key, str) and (isinstance(item, (str, bool)) or is_finite_number(item))
                      for key, item in value.items()),
                  lambda value: {key: str(item).lower() if isinstance(item, bool) else str(item) for key, item in value.items()})
OPTIONS_TABLE = Kind("a table of options", lambda value: isinstance(value, dict))

# A rule option declares only a Python type; the range follows from what every option of that
# type is: sizes, counts and durations (whole, 0 or more), ratios, or lists of globs and names.
OPTION_KINDS: dict[type, Kind] = {
    bool: BOOLEAN,
    int: WHOLE_NUMBER,
    float: RATIO,
    str: STRING,
    list: STRING_LIST,
    tuple: Kind("a list of strings", is_string_list, tuple),
    frozenset: Kind("a list of strings", is_string_list, frozenset),
}

# Read by the run-profile reader (`sparklint.profile.api.options_from`).
PROFILE_READER_OPTIONS: dict[str, Kind] = {
    "app-name": STRING,
    "app-id": STRING,
    "last": RUN_COUNT,
    "since": STRING,  # a date or ISO date and time (`sparklint.profile.api.parse_since`)
    "timeout": SECONDS,
    "max-log-bytes": BYTE_LIMIT,
    "max-download-bytes": BYTE_LIMIT,
}


def option_kind(option: RuleOption) -> Kind:
    declared = OPTION_KINDS.get(option.type)
    if declared is not None:
        return declared
    return Kind(toml_type_name_of(option.type), lambda value: isinstance(value, option.type))


def profile_option_kinds() -> dict[str, Kind]:
    return PROFILE_READER_OPTIONS | {name: option_kind(option) for name, option in THRESHOLD_OPTIONS.items()}


def checked(kind: Kind, value: Any, label: str) -> Any:
    """`value` as stored, or a ConfigError `<label>: expected <kind>, got <value>`."""
    if not kind.accepts(value):
        raise ConfigError(f"{label}: expected {kind.expected}, got {shown(value)}")
    return kind.normalise(value)


# ---------------------------------------------------------------- the top-level keys


@dataclass(frozen=True, slots=True)
class Place:
    """Where a key was written: for messages, and for paths relative to the file."""

    config: ConfigFile
    key: str

    @property
    def label(self) -> str:  # `pyproject.toml: [tool.sparklint] select`
        return f"{self.config.path}: {section_name(self.config, None)} {self.key}"

    @property
    def table_label(self) -> str:  # `pyproject.toml: [tool.sparklint.profile-options]`
        return f"{self.config.path}: {section_name(self.config, self.key)}"


@dataclass(frozen=True, slots=True)
class TopLevelKey:
    name: str
    field: str  # the Settings field it sets
    kind: Kind
    parse: Callable[[Any, Place], Any]  # the checked value -> the Settings value


TOP_LEVEL = (
    TopLevelKey("select", "select", STRING_LIST, lambda value, place: parse_rule_selection(value, place.label)),
    TopLevelKey("ignore", "ignore", STRING_LIST, lambda value, place: parse_rule_selection(value, place.label)),
    TopLevelKey("fail-on", "fail_on", SEVERITY_NAME, lambda value, place: parse_severity(value, place.label)),
    TopLevelKey("exclude", "exclude", STRING_LIST, lambda value, _place: tuple(value)),
    TopLevelKey("extend-exclude", "extend_exclude", STRING_LIST, lambda value, _place: tuple(value)),
    TopLevelKey("cache-dir", "cache_dir", PATH, lambda value, place: place.config.directory / value),
    TopLevelKey("profile", "profiles", PROFILE_SOURCES,
                lambda value, place: tuple(resolve_profile_source(source, place.config.directory) for source in value)),
    TopLevelKey("profile-options", "profile_options", OPTIONS_TABLE,
                lambda value, place: parse_profile_options(value, place.table_label)),
    TopLevelKey("spark-conf", "spark_conf", SPARK_CONF, lambda value, _place: dict(value)),
    TopLevelKey("fixable", "fixable", STRING_LIST, lambda value, place: parse_rule_selection(value, place.label)),
    TopLevelKey("unfixable", "unfixable", STRING_LIST, lambda value, place: parse_rule_selection(value, place.label)),
    TopLevelKey("baseline", "baseline", PATH, lambda value, place: place.config.directory / value),
    TopLevelKey("test-paths", "test_paths", STRING_LIST, lambda value, _place: tuple(value)),
)
TOP_LEVEL_KEYS = tuple(key.name for key in TOP_LEVEL)


# ---------------------------------------------------------------- public entry point


def load_settings(config_file: Path | None, root_hint: Path, cli_overrides: Mapping[str, Any]) -> Settings:
    """Settings from the configuration file (explicit or discovered) and the command line.

    `cli_overrides` uses Settings field names; a value of None means "not given on the command
    line". `select` / `ignore` may be lists of rule codes or slugs (or code prefixes such as `SPK0`).
    """
    config = read_config_file(config_file) if config_file is not None else discover_config(root_hint)
    settings = settings_from_table(config) if config is not None else Settings()
    return apply_overrides(settings, cli_overrides)


def apply_overrides(settings: Settings, cli_overrides: Mapping[str, Any]) -> Settings:
    changes: dict[str, Any] = {}
    for name, value in cli_overrides.items():
        if value is None:
            continue
        if name in ("select", "ignore"):
            value = parse_rule_selection(value, source=f"--{name}")
        elif name == "fail_on":
            value = parse_severity(value, source="--fail-on")
        elif name == "profile_options":
            value = {**settings.profile_options, **parse_flag_profile_options(value)}
        elif name == "rule_options":
            raise ValueError("rule options are not command-line overrides")
        changes[name] = value
    if "select" in changes and "ignore" not in changes:
        # `--select SPK001` on the command line re-enables a rule the file ignores.
        changes["ignore"] = settings.ignore - changes["select"]
    return replace(settings, **changes)


def parse_flag_profile_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """`--app-name` and friends, checked as the same keys in `profile-options` are."""
    kinds = profile_option_kinds()
    return {name: checked(kinds[name], value, f"--{name}") for name, value in options.items()}


# ---------------------------------------------------------------- finding and reading the file


def discover_config(root_hint: Path) -> ConfigFile | None:
    start = Path(os.path.realpath(root_hint))  # never raises, even on a symlink loop
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        dedicated = directory / "sparklint.toml"
        if dedicated.is_file():
            return read_config_file(dedicated)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            table = sparklint_table(read_toml(pyproject), pyproject)
            if table is not None:
                return ConfigFile(pyproject, table)
    return None


def read_config_file(path: Path) -> ConfigFile:
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    document = read_toml(path)
    if path.name == "pyproject.toml":
        return ConfigFile(path, sparklint_table(document, path) or {})
    return ConfigFile(path, document)


def sparklint_table(document: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The `[tool.sparklint]` table of a pyproject.toml, None when it has none."""
    tool = document.get("tool")
    if tool is None:
        return None
    checked(TABLE, tool, f"{path}: top level tool")
    table = tool.get("sparklint")
    if table is None:
        return None
    return checked(TABLE, table, f"{path}: [tool] sparklint")


# Longest first: the UTF-32 little-endian mark begins with the UTF-16 one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"), (codecs.BOM_UTF8, "UTF-8 with a byte-order mark"),
)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    text = decode_utf8(data, path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {one_line(str(error))}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # int() refuses to read more than 4300 digits
        raise ConfigError(f"{path}: invalid TOML: an integer too long to read") from None


def decode_utf8(data: bytes, path: Path) -> str:
    """TOML is UTF-8 without a byte-order mark (tomllib, and so pip, refuse anything else)."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            raise ConfigError(f"{path}: the file is {encoding}; TOML files must be UTF-8 without a byte-order mark")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        raise ConfigError(f"{path}: not UTF-8: byte 0x{data[error.start]:02x} at line {line}, column {column}; "
                          "TOML files must be UTF-8") from None


# ---------------------------------------------------------------- the table -> Settings


def settings_from_table(config: ConfigFile) -> Settings:
    table = config.table
    rules_by_id = rule_table_ids()
    reject_unknown(table, [*TOP_LEVEL_KEYS, *rules_by_id], f"{config.path}: {section_name(config, None)} unknown key")
    changes: dict[str, Any] = {}
    for key in TOP_LEVEL:
        if key.name in table:
            place = Place(config, key.name)
            changes[key.field] = key.parse(checked(key.kind, table[key.name], place.label), place)
    rule_options = {
        rules_by_id[key].code: parse_rule_options(rules_by_id[key], value, Place(config, key))
        for key, value in table.items()
        if key in rules_by_id
    }
    if rule_options:
        changes["rule_options"] = rule_options
    return replace(Settings(), **changes)


def section_name(config: ConfigFile, rule_key: str | None) -> str:
    in_pyproject = config.path.name == "pyproject.toml"
    if rule_key is None:
        return "[tool.sparklint]" if in_pyproject else "top level"
    return f"[tool.sparklint.{rule_key}]" if in_pyproject else f"[{rule_key}]"


def rule_table_ids() -> dict[str, Rule]:
    """Rule tables may be named by slug (documented) or by code."""
    ids: dict[str, Rule] = {}
    for rule in all_rules():
        ids[rule.slug] = rule
        ids[rule.code] = rule
    return ids


def parse_rule_options(rule: Rule, value: Any, place: Place) -> dict[str, Any]:
    table = checked(Kind(f"a table of {rule.code}'s options", lambda value: isinstance(value, dict)), value, place.label)
    declared = {option.name: option for option in rule.options}
    known = ", ".join(f"`{name}`" for name in declared) or "none"
    reject_unknown(table, list(declared), f"{place.table_label} unknown option", f" ({rule.code} options: {known})")
    return {name: checked(option_kind(declared[name]), option_value, f"{place.table_label} {name}")
            for name, option_value in table.items()}


def parse_profile_options(table: dict[str, Any], where: str) -> dict[str, Any]:
    kinds = profile_option_kinds()
    reject_unknown(table, list(kinds), f"{where} unknown option", f" (profile options: {', '.join(kinds)})")
    return {name: checked(kinds[name], value, f"{where} {name}") for name, value in table.items()}


def reject_unknown(table: dict[str, Any], known: list[str], complaint: str, known_note: str = "") -> None:
    for key in table:
        if key not in known:
            raise ConfigError(f"{complaint} {quoted_name(key)}{did_you_mean(key, known)}{known_note}")


# ---------------------------------------------------------------- small parsers shared with the CLI


def parse_rule_selection(items: Iterable[str], source: str) -> frozenset[str]:
    """Rule codes from codes, slugs, code prefixes (`SPK0`) or `ALL`."""
    rules = all_rules()
    codes: set[str] = set()
    for raw in items:
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            matched = match_rules(item, rules)
            if not matched:
                names = [rule.code for rule in rules] + [rule.slug for rule in rules]
                raise ConfigError(f"{source}: unknown rule {quoted_name(item)}{did_you_mean(item, names)}")
            codes.update(matched)
    return frozenset(codes)


def match_rules(item: str, rules: Iterable[Rule]) -> set[str]:
    if item.upper() == "ALL":
        return {rule.code for rule in rules}
    exact = {rule.code for rule in rules if item.upper() == rule.code or item.lower() == rule.slug}
    if exact:
        return exact
    return {rule.code for rule in rules if len(item) >= 3 and rule.code.startswith(item.upper())}


def parse_severity(text: str, source: str) -> Severity:
    try:
        return Severity.parse(text)
    except KeyError:
        raise ConfigError(
            f"{source}: unknown severity {quoted_name(text)}{did_you_mean(text.lower(), list(SEVERITY_NAMES))} "
            f"(one of {', '.join(SEVERITY_NAMES)})"
        ) from None


def resolve_profile_source(source: str, base: Path) -> str:
    """Relative file paths in a config file are relative to that file; URLs stay as written."""
    if "://" in source or Path(source).is_absolute():
        return source
    return str(base / source)


def did_you_mean(word: str, candidates: list[str]) -> str:
    close = _closest(word, candidates) or _closest(word.lower(), [c.lower() for c in candidates])
    return f" (did you mean `{close}`?)" if close else ""


def _closest(word: str, candidates: list[str], cutoff: float = 0.6) -> str | None:
    """The most similar candidate; on a tie the first one listed (`SPK01` -> `SPK001`, not `SPK201`)."""
    best, best_score = None, cutoff
    for candidate in candidates:
        score = difflib.SequenceMatcher(None, word, candidate).ratio()
        if score > best_score or (best is None and score == best_score):
            best, best_score = candidate, score
    return best


# ---------------------------------------------------------------- values and names in messages


BARE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def quoted_name(name: str) -> str:
    """A key or rule name as written: bare in backticks, or quoted when it holds other characters."""
    return f"`{name}`" if BARE_NAME.fullmatch(name) and len(name) <= LONGEST_SHOWN_VALUE else shorten(toml_string(name))


def shown(value: Any) -> str:
    """A value as TOML would write it, on one line and cut short."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        text = "[" + ", ".join(scalar_literal(item) for item in value[:5]) + (", ..." if len(value) > 5 else "") + "]"
    else:
        text = scalar_literal(value)
    return shorten(text)


def scalar_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # str() refuses over 4300 digits; the size is what matters here anyway.
        return str(value) if value.bit_length() <= 128 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else "inf" if value == math.inf else "-inf" if value == -math.inf else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return "[...]" if isinstance(value, list) else "{...}" if isinstance(value, dict) else type(value).__name__


def toml_string(text: str) -> str:
    # ASCII escapes keep the message on one line and printable on any terminal.
    return json.dumps(text, ensure_ascii=True)


def shorten(text: str) -> str:
    return text if len(text) <= LONGEST_SHOWN_VALUE else text[: LONGEST_SHOWN_VALUE - 3] + "..."


def one_line(text: str) -> str:
    return " ".join(text.split())


TOML_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
                   list: "a list", dict: "a table"}


def toml_type_name_of(expected: type) -> str:
    return TOML_TYPE_NAMES.get(expected, f"a {expected.__name__}")


__all__ = [
    "DEFAULT_EXCLUDE",
    "TOP_LEVEL_KEYS",
    "ConfigError",
    "load_settings",
    "parse_rule_selection",
    "parse_severity",
]
