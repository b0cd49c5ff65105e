"""`[tool.sparklint]` (or a `sparklint.toml`) plus the command line -> one `Settings` value.

The file is found from `root_hint` upward: the nearest `sparklint.toml`, or the nearest
`pyproject.toml` that has a `[tool.sparklint]` table. `--config FILE` names it explicitly (a
`pyproject.toml`, read from `[tool.sparklint]`, or any other TOML file, read from its top level).
Keys are kebab-case; unknown keys, unknown rules and wrong types are errors with a "did you mean".
Command-line values win over the file.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sparklint.findings import Severity
from sparklint.rules import Rule, RuleOption
from sparklint.catalogue import all_rules
from sparklint.settings import DEFAULT_EXCLUDE, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

TOP_LEVEL_KEYS = (
    "select", "ignore", "fail-on", "exclude", "extend-exclude", "cache-dir", "profile",
    "profile-options",
)
SEVERITY_NAMES = tuple(severity.label for severity in Severity)


class ConfigError(Exception):
    """A configuration problem the user must fix; its text is the one-line message."""


@dataclass(frozen=True, slots=True)
class ConfigFile:
    path: Path
    table: dict[str, Any]  # the [tool.sparklint] table (or the whole sparklint.toml)

    @property
    def directory(self) -> Path:
        return self.path.parent


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
            value = {**settings.profile_options, **value}
        elif name == "rule_options":
            raise ValueError("rule options are not command-line overrides")
        changes[name] = value
    if "select" in changes and "ignore" not in changes:
        # `--select SPK001` on the command line re-enables a rule the file ignores.
        changes["ignore"] = settings.ignore - changes["select"]
    return replace(settings, **changes)


# ---------------------------------------------------------------- finding and reading the file


def discover_config(root_hint: Path) -> ConfigFile | None:
    start = root_hint.resolve()
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        dedicated = directory / "sparklint.toml"
        if dedicated.is_file():
            return read_config_file(dedicated)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "sparklint" in read_toml(pyproject).get("tool", {}):
            return read_config_file(pyproject)
    return None


def read_config_file(path: Path) -> ConfigFile:
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    document = read_toml(path)
    if path.name == "pyproject.toml":
        tool = document.get("tool", {})
        table = tool.get("sparklint", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.sparklint] must be a table")
        return ConfigFile(path, table)
    return ConfigFile(path, document)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


# ---------------------------------------------------------------- the table -> Settings


def settings_from_table(config: ConfigFile) -> Settings:
    table = config.table
    where = f"{config.path}: {section_name(config, None)}"
    rules_by_id = rule_table_ids()
    for key in table:
        if key not in TOP_LEVEL_KEYS and key not in rules_by_id:
            raise ConfigError(f"{where} unknown key `{key}`{did_you_mean(key, [*TOP_LEVEL_KEYS, *rules_by_id])}")
    changes: dict[str, Any] = {}
    if "select" in table:
        changes["select"] = parse_rule_selection(string_list(table["select"], f"{where} select"), f"{where} select")
    if "ignore" in table:
        changes["ignore"] = parse_rule_selection(string_list(table["ignore"], f"{where} ignore"), f"{where} ignore")
    if "fail-on" in table:
        changes["fail_on"] = parse_severity(expect_type(table["fail-on"], str, f"{where} fail-on"), f"{where} fail-on")
    if "exclude" in table:
        changes["exclude"] = tuple(string_list(table["exclude"], f"{where} exclude"))
    if "extend-exclude" in table:
        changes["extend_exclude"] = tuple(string_list(table["extend-exclude"], f"{where} extend-exclude"))
    if "cache-dir" in table:
        cache_dir = Path(expect_type(table["cache-dir"], str, f"{where} cache-dir"))
        changes["cache_dir"] = cache_dir if cache_dir.is_absolute() else config.directory / cache_dir
    if "profile" in table:
        sources = table["profile"]
        sources = [sources] if isinstance(sources, str) else string_list(sources, f"{where} profile")
        changes["profiles"] = tuple(resolve_profile_source(source, config.directory) for source in sources)
    if "profile-options" in table:
        changes["profile_options"] = dict(expect_type(table["profile-options"], dict, f"{where} profile-options"))
    rule_options = {
        rules_by_id[key].code: parse_rule_options(rules_by_id[key], value, f"{config.path}: {section_name(config, key)}")
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


def parse_rule_options(rule: Rule, value: Any, where: str) -> dict[str, Any]:
    table = expect_type(value, dict, where)
    declared = {option.name: option for option in rule.options}
    parsed: dict[str, Any] = {}
    for name, option_value in table.items():
        option = declared.get(name)
        if option is None:
            known = ", ".join(f"`{known_name}`" for known_name in declared) or "none"
            raise ConfigError(
                f"{where} unknown option `{name}`{did_you_mean(name, list(declared))} "
                f"({rule.code} options: {known})"
            )
        parsed[name] = coerce_option(option, option_value, f"{where} {name}")
    return parsed


def coerce_option(option: RuleOption, value: Any, where: str) -> Any:
    expected = option.type
    if expected in (list, tuple, frozenset, set):
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, not {toml_type_name(value)}")
        return expected(value) if expected is not list else list(value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return expect_type(value, expected, where)


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
                raise ConfigError(f"{source}: unknown rule `{item}`{did_you_mean(item, names)}")
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
            f"{source}: unknown severity `{text}`{did_you_mean(text.lower(), list(SEVERITY_NAMES))} "
            f"(one of {', '.join(SEVERITY_NAMES)})"
        ) from None


def resolve_profile_source(source: str, base: Path) -> str:
    """Relative file paths in a config file are relative to that file; URLs stay as written."""
    if "://" in source or Path(source).is_absolute():
        return source
    return str(base / source)


def string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings, not {toml_type_name(value)}")
    return value


def expect_type(value: Any, expected: type, where: str) -> Any:
    wrong_bool = isinstance(value, bool) and expected is not bool
    if not isinstance(value, expected) or wrong_bool:
        raise ConfigError(f"{where} must be {toml_type_name_of(expected)}, not {toml_type_name(value)}")
    return value


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


TOML_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
                   list: "a list", dict: "a table"}


def toml_type_name_of(expected: type) -> str:
    return TOML_TYPE_NAMES.get(expected, f"a {expected.__name__}")


def toml_type_name(value: Any) -> str:
    for python_type in (bool, int, float, str, list, dict):
        if isinstance(value, python_type):
            return TOML_TYPE_NAMES[python_type]
    return type(value).__name__


__all__ = ["ConfigError", "DEFAULT_EXCLUDE", "load_settings", "parse_rule_selection", "parse_severity"]
