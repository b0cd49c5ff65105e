"""The trend and regression over runs (sparklint.profile.trend), on figures given directly."""

from __future__ import annotations

from dataclasses import replace

from sparklint.profile.model import RunProfile
from sparklint.profile.trend import regression, trend_of

BASE = RunProfile(app_id="", attempt_id="", app_name="job", spark_version="4.0", source="", started_ms=0,
                  ended_ms=0, complete=True, executors=1, max_cores=2, stages=(), sql_executions=(), problems=(),
                  events_read=1, decoded_bytes=1)


def runs(*figures: tuple[int, int]) -> list[tuple[RunProfile, dict]]:
    """(stage ms, input bytes) per run, oldest first; returned newest first like the evidence."""
    measured = [(replace(BASE, app_id=f"app-{index}", started_ms=index * 1000),
                 {"stage_wall_ms": wall, "input_bytes": size, "tasks": 2})
                for index, (wall, size) in enumerate(figures)]
    return measured[::-1]


def test_a_step_in_stage_time_at_the_same_input_is_a_regression() -> None:
    found = regression(runs((3000, 100), (3200, 100), (2900, 101), (40000, 100), (42000, 102), (41000, 100)))
    assert found == {"since_app_id": "app-3", "before_median_s": 3.0, "after_median_s": 41.0, "input_ratio": 1.0,
                     "slowdown": 13.67, "runs_before": 3, "runs_after": 3}


def test_slower_because_the_input_grew_as_much_is_not_a_regression() -> None:
    assert regression(runs((3000, 100), (3100, 100), (30000, 1000), (31000, 1000))) is None
    grew_less = regression(runs((3000, 100), (3100, 100), (30000, 200), (31000, 200)))
    assert grew_less is not None and grew_less["input_ratio"] == 2.0


def test_noise_a_blip_and_too_few_runs_are_not_regressions() -> None:
    assert regression(runs((3000, 1), (3500, 1), (2800, 1), (3300, 1))) is None  # noise
    assert regression(runs((3000, 1), (3100, 1), (40000, 1), (41000, 1), (3000, 1))) is None  # fast again
    assert regression(runs((100, 1), (120, 1), (400, 1), (420, 1))) is None  # under a second slower
    assert regression(runs((3000, 1), (40000, 1), (41000, 1))) is None  # two runs needed on each side


def test_the_trend_gives_worst_median_and_latest() -> None:
    trend = trend_of(runs((3000, 100), (5000, 300), (4000, 200)), "write")
    assert trend["runs"] == 3 and trend["regression"] is None
    assert trend["worst"] == {"stage_wall_ms": 5000, "tasks": 2, "input_bytes": 300}
    assert trend["median"] == {"stage_wall_ms": 4000, "tasks": 2, "input_bytes": 200}
    assert trend["latest"] == {"stage_wall_ms": 4000, "tasks": 2, "input_bytes": 200}
