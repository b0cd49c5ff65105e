"""The real pre-commit, installing sparklint as a remote hook from this checkout.

pre-commit needs a committed `rev`, and this checkout may hold uncommitted work, so the test
copies the working tree (tracked and untracked files that .gitignore does not exclude) into
tests/.tools/hook-repo-<content hash> and commits it there with a fixed author and date: the same
content gives the same commit, so pre-commit's environment cache (tests/.tools/pre-commit-home)
is reused between runs. pre-commit then pip-installs that commit into its own virtualenv from PyPI.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CROSS_FILE_PROJECT, REPO_ROOT, TOOLS_DIR, write_project

pytestmark = pytest.mark.slow

FIXED_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "sparklint tests", "GIT_AUTHOR_EMAIL": "tests@sparklint.invalid",
    "GIT_COMMITTER_NAME": "sparklint tests", "GIT_COMMITTER_EMAIL": "tests@sparklint.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **FIXED_GIT_IDENTITY}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def snapshot_of_this_checkout() -> tuple[Path, str]:
    """A git repository holding exactly the current working tree, and its commit.

    It lives in tests/.tools/hook-repo-<content hash>: built in a temporary directory and renamed
    into place, so parallel test workers never see half a snapshot and unchanged content reuses
    both the snapshot and pre-commit's installed environment.
    """
    listed = sorted(filter(None, git("ls-files", "--cached", "--others", "--exclude-standard", "-z",
                                     cwd=REPO_ROOT).split("\0")))
    files = [relative for relative in listed if (REPO_ROOT / relative).is_file()]
    digest = hashlib.sha256()
    for relative in files:
        digest.update(relative.encode() + b"\0" + (REPO_ROOT / relative).read_bytes() + b"\0")
    repo = TOOLS_DIR / f"hook-repo-{digest.hexdigest()[:16]}"
    if not (repo / ".git").is_dir():
        TOOLS_DIR.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="hook-repo-", dir=TOOLS_DIR))
        for relative in files:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / relative, target)
        git("init", "-q", "-b", "main", cwd=staging)
        git("add", "-A", cwd=staging)
        git("commit", "-q", "-m", "snapshot for the pre-commit test", cwd=staging)
        try:
            staging.rename(repo)
        except OSError:  # another worker got there first with the same content
            shutil.rmtree(staging, ignore_errors=True)
    return repo, git("rev-parse", "HEAD", cwd=repo).strip()


def pre_commit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(TOOLS_DIR / "pre-commit-home"), "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    executable = Path(sys.executable).parent / "pre-commit"
    return subprocess.run([str(executable), *args, "--color", "never"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def hook_repo() -> Iterator[tuple[Path, str]]:
    repo, rev = snapshot_of_this_checkout()
    yield repo, rev
    # Snapshots of older content, and pre-commit environments no config refers to any more.
    for stale in TOOLS_DIR.glob("hook-repo-*"):
        if stale != repo:
            shutil.rmtree(stale, ignore_errors=True)
    pre_commit("gc", cwd=TOOLS_DIR)


def readme_snippet(repo_path: Path, rev: str) -> str:
    """The README's pre-commit configuration, exactly, with its two values filled in."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## pre-commit\n", 1)[1]
    snippet = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "<sparklint git URL>" in snippet and "<commit SHA>" in snippet
    return snippet.replace("<sparklint git URL>", str(repo_path)).replace("<commit SHA>", rev)


@pytest.fixture
def user_repo(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    repo_path, rev = hook_repo
    project = write_project(tmp_path / "pipelines", {
        **CROSS_FILE_PROJECT,
        "jobs/unrelated.py": "GREETING = 'hello'\n",
        "setup.py": "from setuptools import setup\nsetup()\n",
        "build.sbt": 'name := "not-a-job"\n',
        ".pre-commit-config.yaml": readme_snippet(repo_path, rev),
    })
    git("init", "-q", "-b", "main", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "pipelines", cwd=project)
    return project


def test_hook_reports_a_cross_file_finding_then_passes_on_an_unrelated_change(user_repo: Path) -> None:
    failing = pre_commit("run", "--files", "jobs/daily.py", cwd=user_repo)
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "sparklint" in output and "Failed" in output
    assert "jobs/sink.py:2:" in output and "SPK001" in output  # reported where the coalesce is
    assert "jobs/daily.py" in output  # ... with the chain through the job file that was passed

    (user_repo / "jobs" / "unrelated.py").write_text("GREETING = 'hello, world'\n", encoding="utf-8")
    passing = pre_commit("run", "--files", "jobs/unrelated.py", cwd=user_repo)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout


def test_build_files_are_not_checked(user_repo: Path) -> None:
    skipped = pre_commit("run", "--files", "setup.py", "build.sbt", cwd=user_repo)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "(no files to check)Skipped" in skipped.stdout
