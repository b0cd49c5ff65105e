"""`[tool.sparklint]`, `sparklint.toml` and command-line overrides -> Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparklint.config import ConfigError, load_settings
from sparklint.findings import Severity
from sparklint.catalogue import all_rules
from sparklint.settings import DEFAULT_EXCLUDE, Settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def first_option_of_type(*types: type):
    for rule in all_rules():
        for option in rule.options:
            if option.type in types:
                return rule, option
    pytest.skip(f"no rule declares an option of type {types}")


def test_no_configuration_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(None, tmp_path, {}) == Settings()


def test_pyproject_keys_are_read(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", """
[project]
name = "x"

[tool.sparklint]
select = ["SPK001", "missing-broadcast-hint"]
ignore = ["SPK100"]
fail-on = "error"
extend-exclude = ["generated"]
cache-dir = ".cache/sparklint"
profile = ["logs/app-1", "http://127.0.0.1:18080"]

[tool.sparklint.profile-options]
app-name = "hourly-*"
timeout = 30
""")
    settings = load_settings(None, tmp_path / "jobs", {})
    assert settings.select == frozenset({"SPK001", "SPK002"})
    assert settings.ignore == frozenset({"SPK100"})
    assert settings.fail_on is Severity.ERROR
    assert settings.exclude == DEFAULT_EXCLUDE
    assert settings.extend_exclude == ("generated",)
    assert settings.cache_dir == tmp_path / ".cache/sparklint"
    assert settings.profiles == (str(tmp_path / "logs/app-1"), "http://127.0.0.1:18080")
    assert settings.profile_options == {"app-name": "hourly-*", "timeout": 30.0}


def test_exclude_replaces_the_defaults(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.sparklint]\nexclude = ["vendored"]\n')
    assert load_settings(None, tmp_path, {}).exclude == ("vendored",)


def test_nearest_configuration_upward_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.sparklint]\nfail-on = "error"\n')
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "no-sparklint-table"\n')
    write(tmp_path / "sub" / "deeper" / "sparklint.toml", 'fail-on = "note"\n')
    assert load_settings(None, tmp_path / "sub", {}).fail_on is Severity.ERROR  # skips a pyproject without the table
    assert load_settings(None, tmp_path / "sub" / "deeper", {}).fail_on is Severity.NOTE


def test_explicit_config_file_with_top_level_keys(tmp_path: Path) -> None:
    config = write(tmp_path / "elsewhere" / "lint.toml", 'ignore = ["SPK003"]\n')
    write(tmp_path / "pyproject.toml", '[tool.sparklint]\nignore = ["SPK001"]\n')
    assert load_settings(config, tmp_path, {}).ignore == frozenset({"SPK003"})


def test_per_rule_options_by_slug(tmp_path: Path) -> None:
    rule, option = first_option_of_type(int)
    write(tmp_path / "pyproject.toml", f"[tool.sparklint.{rule.slug}]\n{option.name} = 7\n")
    assert load_settings(None, tmp_path, {}).rule_options == {rule.code: {option.name: 7}}


def test_list_options_are_read(tmp_path: Path) -> None:
    rule, option = first_option_of_type(list, tuple, frozenset)
    write(tmp_path / "pyproject.toml", f'[tool.sparklint.{rule.slug}]\n{option.name} = ["a", "b"]\n')
    value = load_settings(None, tmp_path, {}).rule_options[rule.code][option.name]
    assert list(value) == ["a", "b"]


def test_command_line_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.sparklint]\nfail-on = "error"\nselect = ["SPK001"]\n')
    settings = load_settings(None, tmp_path, {"fail_on": "note", "select": ["SPK002,SPK003"], "ignore": None,
                                              "profile_options": {"last": 3}})
    assert settings.fail_on is Severity.NOTE
    assert settings.select == frozenset({"SPK002", "SPK003"})
    assert settings.profile_options == {"last": 3}


def test_command_line_select_overrides_file_ignore(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.sparklint]\nignore = ["SPK001", "SPK002"]\n')
    settings = load_settings(None, tmp_path, {"select": ["SPK001"]})
    assert (settings.select, settings.ignore) == (frozenset({"SPK001"}), frozenset({"SPK002"}))
    assert settings.rule_enabled("SPK001")


def test_code_prefix_and_all_select_several_rules(tmp_path: Path) -> None:
    codes = {rule.code for rule in all_rules()}
    assert load_settings(None, tmp_path, {"select": ["ALL"]}).select == frozenset(codes)
    assert load_settings(None, tmp_path, {"select": ["SPK00"]}).select == frozenset(c for c in codes if c.startswith("SPK00"))


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[tool.sparklint]\nselct = ["SPK001"]\n', "unknown key `selct` (did you mean `select`?)"),
        ('[tool.sparklint]\nselect = ["SPK3"]\n', "unknown rule `SPK3` (did you mean `SPK003`?)"),
        ('[tool.sparklint]\nselect = "SPK001"\n', 'select: expected a list of strings, got "SPK001"'),
        ('[tool.sparklint]\nfail-on = "eror"\n', "unknown severity `eror` (did you mean `error`?)"),
        ('[tool.sparklint]\nfail-on = 2\n', "fail-on: expected a severity (note, warning, error), got 2"),
        ('[tool.sparklint.coalesce-before-wrte]\n', "unknown key `coalesce-before-wrte` (did you mean `coalesce-before-write`?)"),
        ("[tool.sparklint\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path: Path, toml: str, expected: str) -> None:
    write(tmp_path / "pyproject.toml", toml)
    with pytest.raises(ConfigError) as error:
        load_settings(None, tmp_path, {})
    assert expected in str(error.value)
    assert str(tmp_path / "pyproject.toml") in str(error.value)
    assert "\n" not in str(error.value)


def test_unknown_rule_option_names_the_known_ones(tmp_path: Path) -> None:
    rule, option = first_option_of_type(int, list, str, bool, float, tuple, frozenset)
    misspelt = option.name[:-1]
    write(tmp_path / "pyproject.toml", f"[tool.sparklint.{rule.slug}]\n{misspelt} = 1\n")
    with pytest.raises(ConfigError, match=rf"unknown option `{misspelt}` \(did you mean `{option.name}`\?\)"):
        load_settings(None, tmp_path, {})


def test_wrong_option_type(tmp_path: Path) -> None:
    rule, option = first_option_of_type(int)
    write(tmp_path / "pyproject.toml", f'[tool.sparklint.{rule.slug}]\n{option.name} = "many"\n')
    with pytest.raises(ConfigError, match=rf'\[tool.sparklint.{rule.slug}\] {option.name}: expected a whole number .*, got "many"'):
        load_settings(None, tmp_path, {})


def test_booleans_are_not_integers(tmp_path: Path) -> None:
    rule, option = first_option_of_type(int)
    write(tmp_path / "pyproject.toml", f"[tool.sparklint.{rule.slug}]\n{option.name} = true\n")
    with pytest.raises(ConfigError, match="expected a whole number .*, got true"):
        load_settings(None, tmp_path, {})


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.toml", tmp_path, {})
