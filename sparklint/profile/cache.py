"""A disk cache of parsed runs, so the next check does not re-read a log.

An entry is keyed by what identifies the bytes of a run without reading them: for files and
rolling directories the resolved path, total size and newest modification time; for a
History Server the base URL, application id, attempt and its last-updated time; plus the
sparklint version (a new parser invalidates old entries). Entries are JSON files written
atomically; an unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import orjson

from sparklint.atomic import write_atomically
from sparklint.profile.model import RunProfile, run_from_dict, to_dict
from sparklint.profile.sources import RunRef

CACHE_FORMAT = 2  # 2: stages keep the bytes their tasks sent to the driver


def _sparklint_version() -> str:
    try:
        from importlib.metadata import version

        return version("sparklint")
    except Exception:  # not installed (running from a checkout)
        return "0"


@dataclass(frozen=True, slots=True)
class ProfileCache:
    directory: Path

    @staticmethod
    def key(ref: RunRef) -> str:
        if ref.kind == "server":
            identity = f"server|{ref.location}|{ref.name}|{ref.attempt_id}|{ref.mtime_ns}"
        else:
            identity = f"{ref.kind}|{Path(ref.location).resolve()}|{ref.size}|{ref.mtime_ns}"
        return f"{CACHE_FORMAT}|{_sparklint_version()}|{identity}"

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".json")

    def get(self, ref: RunRef) -> RunProfile | None:
        if ref.kind == "server" and ref.mtime_ns == 0:
            return None  # no last-updated time: nothing tells a changed run apart
        key = self.key(ref)
        try:
            data = orjson.loads(self._path(key).read_bytes())
            if data.get("key") != key:
                return None
            return run_from_dict(data["run"])
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def put(self, ref: RunRef, run: RunProfile) -> None:
        if ref.kind == "server" and ref.mtime_ns == 0:
            return
        key = self.key(ref)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # a read-only cache directory only costs a re-read next time
        write_atomically(self._path(key), orjson.dumps({"key": key, "run": to_dict(run)}), prefix="tmp")
