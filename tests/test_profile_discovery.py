"""`sparklint profile DIR` and `check --profile DIR`: log directories with sub-folders, and
`--last N` by when the applications started, not by when their files were last touched."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import run_cli
from derived_runs import derived_app_id, write_derived_runs


def app_ids(*args: str) -> list[str]:
    run = run_cli("profile", "--output-format", "json", *args)
    assert run.exit_code == 0, run.stderr
    return [entry["app_id"] for entry in json.loads(run.stdout)["runs"]]


def test_runs_in_sub_folders_are_found_and_hidden_folders_are_not(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    write_derived_runs(logs / "2026-11-01", 1)
    (logs / "team-b" / "2026-11-02").mkdir(parents=True)
    for path in write_derived_runs(tmp_path / "more", 3)[1:]:
        path.rename(logs / "team-b" / "2026-11-02" / path.name)
    write_derived_runs(logs / ".sparklint_cache", 1)  # never a source of runs
    assert sorted(app_ids(str(logs))) == [derived_app_id(0), derived_app_id(1), derived_app_id(2)]


def test_last_takes_the_runs_that_started_last_whatever_the_files_modification_times(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    paths = write_derived_runs(logs, 4)
    # A copy or re-upload touches the oldest run's file last: it must not count as the newest.
    os.utime(paths[0], ns=(2**62, 2**62))
    assert app_ids(str(logs), "--last", "2") == [derived_app_id(3), derived_app_id(2)]
