"""The Spark properties a project's jobs run with, as far as the project says.

Read from the code (`SparkSession.builder.config(k, v)`, `spark.conf.set(k, v)`,
`SparkConf().set(k, v)`, with a constant key and value), from `spark-defaults.conf` files and
`spark-submit --conf k=v` lines in the repository, and from `[tool.sparklint] spark-conf`. Rules
ask for one property and get every place that sets it; they decide what that means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sparklint import model as m
from sparklint.findings import Location

SETTERS = frozenset({"config", "set", "setConf"})
CONF_FILES = ("spark-defaults.conf",)
_SUBMIT_CONF = re.compile(r"--conf[\s=]+[\"']?(spark\.[\w.]+)=([^\s\"']+)")
_DEFAULTS_LINE = re.compile(r"^\s*(spark\.[\w.]+)[\s=:]+(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class ConfSetting:
    key: str
    value: str
    where: str  # how a finding names it: "`.config(...)` in jobs/main.py:12", "spark-defaults.conf"
    location: Location | None = None


class SparkConf:
    def __init__(self, settings: list[ConfSetting]) -> None:
        self._by_key: dict[str, list[ConfSetting]] = {}
        for setting in settings:
            self._by_key.setdefault(setting.key, []).append(setting)

    def settings_of(self, key: str) -> list[ConfSetting]:
        return self._by_key.get(key, [])

    def __repr__(self) -> str:  # by content: a re-check compares the configuration its rules saw
        return f"SparkConf({sorted(self._by_key.items())!r})"


def project_conf(modules: list[m.Module], configured: dict[str, str],
                 files: list[tuple[str, str]] = ()) -> SparkConf:
    """What the configuration, the code and the files (relative path, text) of a project set."""
    found = [ConfSetting(key, value, "`[tool.sparklint] spark-conf`") for key, value in configured.items()]
    for module in modules:
        found.extend(conf_in_code(module))
    for shown, text in files:
        found.extend(_conf_in_text(shown, text))
    return SparkConf(found)


def conf_in_code(module: m.Module) -> tuple[ConfSetting, ...]:
    """What a module's code sets, computed when it is lowered and kept with it in the cache."""
    known = module.extra.get("conf_in_code")
    if known is None:
        known = module.extra["conf_in_code"] = tuple(_conf_in_code(module))
    return known


def _conf_in_code(module: m.Module):
    for node in m.expressions_of(module):
        if type(node) is not m.Call or type(node.func) is not m.Attr or node.func.attr not in SETTERS:
            continue
        if len(node.args) != 2 or type(node.args[0]) is not m.Const or type(node.args[1]) is not m.Const:
            continue
        key, value = node.args[0].value, node.args[1].value
        if isinstance(key, str) and key.startswith("spark."):
            span = node.name_span if node.name_span.line else node.span
            location = Location(module.path, span.line, span.col, span.end_line, span.end_col)
            text = str(value).lower() if isinstance(value, bool) else str(value)
            yield ConfSetting(key, text, f"`.{node.func.attr}(\"{key}\", {text})` at {module.path}:{span.line}", location)


def _conf_in_text(shown: str, text: str):
    is_defaults = shown.rsplit("/", 1)[-1] in CONF_FILES
    for number, line in enumerate(text.splitlines(), start=1):
        matches = [_DEFAULTS_LINE.match(line)] if is_defaults else list(_SUBMIT_CONF.finditer(line))
        for match in matches:
            if match is not None:
                where = f"{shown}:{number}" if is_defaults else f"`--conf` in {shown}:{number}"
                yield ConfSetting(match.group(1), match.group(2), where, Location(shown, number, 1))
