"""Many runs made from one real event log: new app ids, times shifted by a day per run, and from
some run on a slower stage (its completion and its tasks' finish times pushed later), the way a
write stage went from seconds to minutes in the story. Used by tests/test_runindex*.py and
benchmarks/bench_index.py."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "data" / "eventlogs" / "plain" / "local-1795611014940"
TEMPLATE_APP_ID = "local-1795611014940"
DAY_MS = 86_400_000
_TIME_KEYS = frozenset({"Timestamp", "Submission Time", "Completion Time", "Launch Time", "Finish Time",
                        "Getting Result Time", "time"})


def template_events(template: Path = TEMPLATE) -> list[dict]:
    return [orjson.loads(line) for line in template.read_bytes().splitlines() if line.strip()]


def derived_app_id(index: int) -> str:
    return f"local-{1795611014940 + (index + 1) * DAY_MS}"


def _shift(value, offset: int):
    if isinstance(value, dict):
        return {key: (item + offset if key in _TIME_KEYS and isinstance(item, int) and item > 10**12
                      else _shift(item, offset)) for key, item in value.items()}
    if isinstance(value, list):
        return [_shift(item, offset) for item in value]
    return value


def _slow_down(event: dict, stage_id: int, delay_ms: int) -> dict:
    name = event.get("Event")
    if name == "SparkListenerStageCompleted" and event["Stage Info"]["Stage ID"] == stage_id:
        info = event["Stage Info"]
        return {**event, "Stage Info": {**info, "Completion Time": info["Completion Time"] + delay_ms}}
    if name == "SparkListenerTaskEnd" and event.get("Stage ID") == stage_id:
        info = event["Task Info"]
        return {**event, "Task Info": {**info, "Finish Time": info["Finish Time"] + delay_ms}}
    return event


def derived_log(events: list[dict], index: int, slow_stage: int | None = None, delay_ms: int = 0,
                app_name: str | None = None) -> bytes:
    """The bytes of run `index` (0-based): app id `derived_app_id(index)`, started `index + 1` days
    after the template; `slow_stage` takes `delay_ms` longer."""
    offset = (index + 1) * DAY_MS
    lines = []
    for event in events:
        event = _shift(event, offset)
        if slow_stage is not None and delay_ms:
            event = _slow_down(event, slow_stage, delay_ms)
        if event.get("Event") == "SparkListenerApplicationStart":
            event = {**event, "App ID": derived_app_id(index), **({"App Name": app_name} if app_name else {})}
        lines.append(orjson.dumps(event))
    return b"\n".join(lines) + b"\n"


def write_derived_runs(directory: Path, count: int, slow_from: int | None = None, slow_stage: int | None = None,
                       delay_ms: int = 60_000, app_name: str | None = None,
                       events: list[dict] | None = None) -> list[Path]:
    """`count` logs in `directory`, runs `slow_from`.. (0-based) with `slow_stage` slowed; each
    log's modification time is its run's start, so a directory lists them in run order."""
    events = events if events is not None else template_events()
    started_ms = next(event["Timestamp"] for event in events if event.get("Event") == "SparkListenerApplicationStart")
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        slow = slow_from is not None and index >= slow_from
        data = derived_log(events, index, slow_stage if slow else None, delay_ms if slow else 0, app_name)
        path = directory / derived_app_id(index)
        path.write_bytes(data)
        moment_ns = (started_ms + (index + 1) * DAY_MS) * 1_000_000
        os.utime(path, ns=(moment_ns, moment_ns))
        paths.append(path)
    return paths
