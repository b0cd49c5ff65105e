"""A long-lived process (the language server) does not read unchanged files again on every
keystroke, and never misses a change: a file whose status is as it was is reused, any write
changes its status (its change time cannot be set back), and a file changed just before it was
read is always read again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sparklint import project as project_files
from sparklint.project import FileMemory, discover, read_sources
from sparklint.settings import Settings

LONG_AGO = time.time() - 3600
SETTLED = 0.3  # instead of seconds: a change's time cannot be set back, so the tests wait this long


@pytest.fixture(autouse=True)
def quickly_settled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(project_files, "SETTLED_SECONDS", SETTLED)


def settled(*paths: Path) -> None:
    for path in paths:
        os.utime(path, (LONG_AGO, LONG_AGO))
    time.sleep(SETTLED + 0.05)


def project(tmp_path: Path) -> Path:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a.py").write_text("x = 1\n")
    (tmp_path / "jobs" / "b.py").write_text("y = 2\n")
    return tmp_path


def test_an_unchanged_file_is_reused_and_a_rewritten_one_is_read_again(tmp_path: Path) -> None:
    root = project(tmp_path)
    a, b = root / "jobs" / "a.py", root / "jobs" / "b.py"
    memory, settings = FileMemory(), Settings()
    files = discover(root, settings)
    first, _ = read_sources(files, {}, memory)
    assert not memory.texts  # both were written moments ago: not trusted yet
    settled(a, b)
    second, _ = read_sources(files, {}, memory)
    third, _ = read_sources(files, {}, memory)
    assert [text.digest for text in second] == [text.digest for text in first]
    assert all(new is old for new, old in zip(third, second))  # status unchanged: not read
    status = a.stat()
    a.write_text("x = 3\n")  # same size, and its modification time set back as `touch -r` would
    os.utime(a, ns=(status.st_atime_ns, status.st_mtime_ns))
    fourth, _ = read_sources(files, {}, memory)
    assert fourth[0].data == b"x = 3\n" and fourth[1] is third[1]


def test_an_overlay_is_never_taken_for_the_file_on_disk(tmp_path: Path) -> None:
    root = project(tmp_path)
    settled(root / "jobs" / "a.py", root / "jobs" / "b.py")
    memory, settings = FileMemory(), Settings()
    files = discover(root, settings)
    read_sources(files, {}, memory)
    edited, _ = read_sources(files, {"jobs/a.py": b"x = 9\n"}, memory)
    closed, _ = read_sources(files, {}, memory)
    assert edited[0].data == b"x = 9\n" and closed[0].data == b"x = 1\n"


def test_the_listing_is_reused_until_a_directory_changes(tmp_path: Path) -> None:
    root = project(tmp_path)
    settled(root, root / "jobs")
    memory, settings = FileMemory(), Settings()
    first = discover(root, settings, memory)
    assert discover(root, settings, memory) is first
    (root / "jobs" / "c.py").write_text("z = 3\n")
    added = discover(root, settings, memory)
    assert [source.rel for source in added] == ["jobs/a.py", "jobs/b.py", "jobs/c.py"]
    assert discover(root, settings, memory) is not added  # the directory changed just now: walked again
