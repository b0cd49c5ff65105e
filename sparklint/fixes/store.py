"""The texts of the last run's fixes on disk, so a warm check that shows them (JSON, SARIF) does
not parse every file a fix edits again. Keyed by the files' contents and sparklint's own code;
the file keeps only what the last run used, and is replaced atomically."""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

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
        temporary: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".fix-changes-", suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                pickle.dump((engine_fingerprint(), memo.used), out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
        except (OSError, pickle.PickleError, RecursionError):
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)  # costs the next run time, never this run's result
