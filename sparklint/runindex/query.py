"""Reading an index in place: the filters become SQL over the small columns of `runs` (DuckDB),
and only the chosen runs' profiles are read and rebuilt as `RunProfile`s."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sparklint.profile.model import RunProfile, run_from_dict
from sparklint.runindex import require
from sparklint.runindex.store import table_files

# Without --last, --since, --app-name or --app-id an index is read for its newest runs only.
DEFAULT_INDEX_RUNS = 100


@dataclass(frozen=True, slots=True)
class IndexSelection:
    app_name: str | None = None  # a name or glob pattern
    app_id: str | None = None
    last: int | None = None
    since_ms: int | None = None  # runs that started at or after this epoch millisecond

    @property
    def names_runs(self) -> bool:
        return bool(self.app_name or self.app_id or self.last or self.since_ms is not None)


@dataclass(frozen=True, slots=True)
class IndexRuns:
    runs: tuple[RunProfile, ...]
    matched: int  # runs that passed the filters, before --last or the default cap
    warnings: tuple[str, ...]


def runs_glob(directory: str | Path) -> str:
    return str(Path(directory) / "runs" / "app_name=*" / "date=*" / "*.parquet")


def _where(selection: IndexSelection) -> tuple[str, list[Any]]:
    clauses, parameters = [], []
    if selection.app_name:
        clauses.append("(app_name = ? OR app_name GLOB ?)")
        parameters += [selection.app_name, selection.app_name]
    if selection.app_id:
        clauses.append("(app_id = ? OR starts_with(app_id, ?))")
        parameters += [selection.app_id, selection.app_id + "_"]
    if selection.since_ms is not None:
        clauses.append("started_ms >= ?")
        parameters.append(selection.since_ms)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", parameters


def load_index_runs(directory: str | Path, selection: IndexSelection) -> IndexRuns:
    """The runs of the index at `directory` that pass `selection`, newest first."""
    duckdb = require("duckdb")
    if not table_files(Path(directory), "runs"):
        return IndexRuns((), 0, (f"run profile {directory}: the run index holds no runs",))
    source = f"read_parquet({_quote(runs_glob(directory))}, hive_partitioning = false, filename = true)"
    where, parameters = _where(selection)
    limit = selection.last or (None if selection.names_runs else DEFAULT_INDEX_RUNS)
    limit_sql = f" LIMIT {int(limit)}" if limit else ""
    with duckdb.connect() as connection:
        # one scan of the small columns: the newest runs that pass, how many passed, and their files
        chosen_rows = connection.execute(
            f"SELECT app_id, attempt_id, filename, count(*) OVER () FROM {source}{where}"
            f" ORDER BY started_ms DESC, app_id DESC, attempt_id DESC{limit_sql}", parameters).fetchall()
        chosen = [(app_id, attempt) for app_id, attempt, _, _ in chosen_rows]
        matched = chosen_rows[0][3] if chosen_rows else 0
        profiles = _profiles(connection, sorted({row[2] for row in chosen_rows}), chosen)
    runs = tuple(run_from_dict(orjson.loads(profiles[key])) for key in chosen if key in profiles)
    warnings = []
    if not selection.names_runs and matched > len(runs):
        warnings.append(f"run profile {directory}: read the newest {len(runs)} of {matched} runs in the index "
                        f"(--last N reads more; --app-name, --app-id or --since picks runs)")
    return IndexRuns(runs, matched, tuple(warnings))


def _profiles(connection: Any, files: list[str], chosen: list[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
    """The profiles of the chosen runs, read from the files that hold them only."""
    if not chosen:
        return {}
    app_ids = sorted({app_id for app_id, _ in chosen})
    marks = ", ".join("?" for _ in app_ids)
    source = f"read_parquet([{', '.join(_quote(name) for name in files)}], hive_partitioning = false)"
    rows = connection.execute(f"SELECT app_id, attempt_id, profile FROM {source} WHERE app_id IN ({marks})",
                              app_ids).fetchall()
    wanted = set(chosen)
    return {(app_id, attempt): bytes(profile) for app_id, attempt, profile in rows if (app_id, attempt) in wanted}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
