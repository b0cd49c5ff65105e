"""The trend of one finding's figures over the runs that measured it, and the regression, if any.

`properties.evidence.trend` = {"runs": n, "worst": {...}, "median": {...}, "latest": {...},
"regression": {...} | null}: per figure the worst value over the runs, the median and the
newest run's.

A regression is a step in the stage's wall time: the runs (oldest first) split where the log of
the time changes most (least squares, at least `MIN_RUNS_EACH_SIDE` runs on each side), and it
counts when the later runs' median is at least `SLOWDOWN` times the earlier runs' median times
the growth of the input (so a stage that got slower because its input grew as much is not one),
at least `MIN_SLOWDOWN_MS` slower, and the newest run is still slow. It names the first slow run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sparklint.profile.model import RunProfile, StageProfile
from sparklint.profile.summary import format_bytes, format_ms

SLOWDOWN = 2.0
MIN_SLOWDOWN_MS = 1000
MIN_RUNS_EACH_SIDE = 2


@dataclass(frozen=True, slots=True)
class Figure:
    name: str  # the fact it follows
    label: str
    higher_is_worse: bool
    kind: str  # how it is printed: "ms", "bytes", "count", "ratio", "share"


_STAGE_FIGURES = (
    Figure("stage_wall_ms", "stage time", True, "ms"),
    Figure("tasks", "tasks", False, "count"),
    Figure("bytes_per_task_max", "bytes per task", True, "bytes"),
    Figure("spill_bytes", "spill", True, "bytes"),
    Figure("skew", "skew", True, "ratio"),
    Figure("input_bytes", "input", True, "bytes"),
)
FIGURES: dict[str, tuple[Figure, ...]] = {
    "write": (*_STAGE_FIGURES, Figure("core_utilisation", "core utilisation", False, "share")),
    "join": (*_STAGE_FIGURES, Figure("small_side_bytes", "small side", True, "bytes")),
    "grouping": _STAGE_FIGURES,
    "action": (*_STAGE_FIGURES, Figure("result_bytes", "result sent to the driver", True, "bytes")),
}


def stage_facts(stage: StageProfile | None) -> dict[str, Any]:
    """The stage figures a trend follows. Bytes per task and skew are of what the stage mainly
    moved: its output if it wrote any, else its shuffle read, else its input."""
    if stage is None:
        return {}
    moved = next((figure for figure in (stage.output_bytes, stage.shuffle_read_bytes, stage.input_bytes)
                  if figure.total), stage.output_bytes)
    return {
        "stage_wall_ms": stage.wall_ms,
        "tasks": stage.task_time_ms.count,
        "bytes_per_task_max": moved.max,
        "spill_bytes": stage.spill_bytes,
        "skew": round(moved.skew, 2),
        "input_bytes": stage.input_bytes.total + stage.shuffle_read_bytes.total,
    }


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def trend_of(measured: Sequence[tuple[RunProfile, dict[str, Any]]], kind: str) -> dict[str, Any]:
    """`measured` is (run, facts) per run, newest first."""
    trend: dict[str, Any] = {"runs": len(measured), "worst": {}, "median": {}, "latest": {}}
    for figure in FIGURES.get(kind, ()):
        values = [facts[figure.name] for _, facts in measured if _is_number(facts.get(figure.name))]
        if not values:
            continue
        trend["worst"][figure.name] = max(values) if figure.higher_is_worse else min(values)
        trend["median"][figure.name] = median(values)
        trend["latest"][figure.name] = values[0]
    trend["regression"] = regression(measured)
    return trend


def regression(measured: Sequence[tuple[RunProfile, dict[str, Any]]]) -> dict[str, Any] | None:
    timed = sorted(((run, facts) for run, facts in measured if _is_number(facts.get("stage_wall_ms"))),
                   key=lambda item: (item[0].started_ms, item[0].app_id))
    if len(timed) < 2 * MIN_RUNS_EACH_SIDE:
        return None
    times = [float(facts["stage_wall_ms"]) for _, facts in timed]
    inputs = [float(facts.get("input_bytes") or 0) for _, facts in timed]
    split = _change_point(times)
    before, after = median(times[:split]), median(times[split:])
    before_input, after_input = median(inputs[:split]), median(inputs[split:])
    input_ratio = after_input / before_input if before_input > 0 else None
    growth = max(1.0, input_ratio or 1.0)
    if after - before < MIN_SLOWDOWN_MS or after < SLOWDOWN * growth * max(before, 1.0):
        return None
    if times[-1] < SLOWDOWN * max(before, 1.0):
        return None  # the newest run is fast again
    return {
        "since_app_id": timed[split][0].app_id,
        "before_median_s": round(before / 1000, 3),
        "after_median_s": round(after / 1000, 3),
        "input_ratio": round(input_ratio, 3) if input_ratio is not None else None,
        "slowdown": round(after / max(before, 1.0), 2),
        "runs_before": split,
        "runs_after": len(times) - split,
    }


def _change_point(times: list[float]) -> int:
    """The index of the first run after the split that best separates the runs' log times."""
    logs = [math.log(max(value, 1.0)) for value in times]
    best, best_cost = MIN_RUNS_EACH_SIDE, math.inf
    for split in range(MIN_RUNS_EACH_SIDE, len(logs) - MIN_RUNS_EACH_SIDE + 1):
        cost = _squared_deviation(logs[:split]) + _squared_deviation(logs[split:])
        if cost < best_cost - 1e-12:
            best, best_cost = split, cost
    return best


def _squared_deviation(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((value - mean) ** 2 for value in values)


def trend_lines(trend: dict[str, Any], kind: str, app_names: dict[str, str]) -> list[str]:
    """One trend line (figures that are 0 in every run left out), and a regression line."""
    parts = []
    for figure in FIGURES.get(kind, ()):
        if figure.name not in trend["worst"]:
            continue
        values = [trend[which][figure.name] for which in ("worst", "median", "latest")]
        if figure.kind in ("bytes", "ms", "ratio") and not any(values):
            continue
        parts.append(f"{figure.label} " + " / ".join(format_figure(figure, value) for value in values))
    lines = [f"trend over {trend['runs']} runs (worst / median / latest): " + "; ".join(parts)] if parts else []
    found = trend.get("regression")
    if found:
        grew = found["input_ratio"]
        input_text = (f"while input changed {grew:.2f}x" if grew is not None else "input not measured")
        name = app_names.get(found["since_app_id"])
        run = f"run {found['since_app_id']}" + (f" `{name}`" if name else "")
        lines.append(
            f"regression since {run}: the stage takes {_seconds(found['after_median_s'])} (median of "
            f"{found['runs_after']} runs) against {_seconds(found['before_median_s'])} before "
            f"({found['slowdown']:.1f}x), {input_text}")
    return lines


def format_figure(figure: Figure, value: float) -> str:
    if figure.kind == "ms":
        return format_ms(int(value))
    if figure.kind == "bytes":
        return format_bytes(int(value))
    if figure.kind == "ratio":
        return f"{value:.1f}x"
    if figure.kind == "share":
        return f"{value:.0%}"
    return f"{value:g}"


def _seconds(value: float) -> str:
    return format_ms(int(round(value * 1000)))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
