"""The texts of the last run's fixes on disk, so a warm check that shows them (JSON, SARIF) does
not parse every file a fix edits again. Keyed by the files' contents and sparklint's own code;
the file keeps only what the last run used, and is replaced atomically."""

from __future__ import annotations

import pickle
from pathlib import Path

from sparklint.atomic import write_atomically
from sparklint.fixes.plan import ChangesMemo
from sparklint.incremental import engine_fingerprint
from sparklint.project import cache_directory
from sparklint.settings import Settings


class FixChangesStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_project(cls, root: Path, settings: Settings) -> FixChangesStore | None:
        return cls(cache_directory(root, settings) / "fix-changes.pickle") if settings.use_cache else None

    def load(self) -> ChangesMemo:
        try:
            with self.path.open("rb") as handle:
                engine, earlier = pickle.load(handle)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return ChangesMemo()
        return ChangesMemo(earlier if engine == engine_fingerprint() and isinstance(earlier, dict) else None)

    def save(self, memo: ChangesMemo) -> None:
        if memo.used == memo.earlier:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = pickle.dumps((engine_fingerprint(), memo.used), protocol=pickle.HIGHEST_PROTOCOL)
        except (OSError, pickle.PickleError, RecursionError):
            return  # costs the next run time, never this run's result
        write_atomically(self.path, data, prefix=".fix-changes-")
