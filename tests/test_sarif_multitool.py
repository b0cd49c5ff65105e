"""sparklint's SARIF, validated by Microsoft's SARIF Multitool with its SARIF and GitHub rule sets.

The test installs the npm package `@microsoft/sarif-multitool` into tests/.tools/npm (git-ignored)
when it is not there, then runs
`npx sarif-multitool validate --rule-kind "Sarif;Gh" --level "Error;Warning;Note" -o OUT FILE`
and reads OUT (itself a SARIF log): no result may be an error or a warning. Notes (advice such as
"consider message ids instead of text", "add snippets") are allowed.

One warning is tolerated while the distribution declares no documentation URL: SARIF2005
("provide informationUri"), because sparklint has no published home page yet and inventing one
would be worse. Declaring `[project.urls] Documentation` in pyproject.toml turns it off.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO_ROOT, TOOLS_DIR, needs_engine, run_cli
from test_reporters import RESULT

from sparklint.docs import documentation_url
from sparklint.findings import CheckResult
from sparklint.report import sarif
from sparklint.settings import Settings

pytestmark = pytest.mark.slow

NPM_DIR = TOOLS_DIR / "npm"
MULTITOOL = NPM_DIR / "node_modules" / ".bin" / "sarif-multitool"


def ensure_multitool() -> None:
    if MULTITOOL.exists():
        return
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to install @microsoft/sarif-multitool")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NPM_DIR),
                    "@microsoft/sarif-multitool"], check=True, capture_output=True, timeout=600)


def validate(sarif_file: Path, tmp_path: Path) -> list[dict]:
    """The Multitool's findings about `sarif_file` as (rule id, level, message) dicts."""
    ensure_multitool()
    report = tmp_path / "validation.sarif"
    # The npm wrapper runs the .NET tool through a shell: quote the semicolon lists.
    arguments = ["validate", "--rule-kind", "Sarif;Gh", "--level", "Error;Warning;Note", "-o", str(report),
                 str(sarif_file)]
    completed = subprocess.run(["npx", "--no-install", "sarif-multitool", *map(shlex.quote, arguments)],
                               cwd=NPM_DIR, capture_output=True, text=True, timeout=300, check=False)
    assert report.exists(), completed.stdout + completed.stderr
    (run,) = json.loads(report.read_text(encoding="utf-8"))["runs"]
    rules = run["tool"]["driver"].get("rules", [])
    problems = []
    for result in run.get("results", []):
        rule = rules[result["ruleIndex"]] if 0 <= result.get("ruleIndex", -1) < len(rules) else {}
        level = result.get("level") or rule.get("defaultConfiguration", {}).get("level") or "warning"
        problems.append({"rule": result.get("ruleId"), "level": level, "message": result["message"]})
    for invocation in run.get("invocations", []):
        assert invocation.get("executionSuccessful", False), invocation
        for notification in invocation.get("toolExecutionNotifications", []) + invocation.get(
                "toolConfigurationNotifications", []):
            problems.append({"rule": "notification", "level": notification.get("level", "warning"),
                             "message": notification["message"]})
    return problems


def blocking(problems: list[dict]) -> list[dict]:
    tolerated = set() if documentation_url() else {"SARIF2005"}
    return [p for p in problems if p["level"] in ("error", "warning") and p["rule"] not in tolerated]


def write_sources(root: Path) -> None:
    """The files RESULT points at, so fingerprints hash real lines."""
    for finding in RESULT.findings:
        for location in (finding.location, *(r.location for r in finding.related), *(s.location for s in finding.chain)):
            path = root / location.path
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text("x = 1\n" * 40, encoding="utf-8")


def test_hand_built_result_is_valid_sarif_for_github(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_sources(root)
    result = CheckResult(RESULT.findings, RESULT.files_checked, RESULT.lines_checked, str(root), RESULT.warnings)
    sarif_file = tmp_path / "sparklint.sarif"
    sarif_file.write_text(sarif.render(result, Settings()), encoding="utf-8")
    problems = validate(sarif_file, tmp_path)
    assert blocking(problems) == []


def test_validator_catches_a_broken_log(tmp_path: Path) -> None:
    """Guards the test itself: a log with a relative uri base and no driver name must be rejected."""
    sarif_file = tmp_path / "broken.sarif"
    document = json.loads(sarif.render(RESULT, Settings()))
    document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "relative/dir"
    del document["runs"][0]["tool"]["driver"]["name"]
    sarif_file.write_text(json.dumps(document), encoding="utf-8")
    assert blocking(validate(sarif_file, tmp_path))


@needs_engine
def test_engine_output_is_valid_sarif_for_github(cross_file_project: Path, tmp_path: Path) -> None:
    sarif_file = tmp_path / "engine.sarif"
    run = run_cli("check", "--output-format", "sarif", "-o", str(sarif_file), "--exit-zero", str(cross_file_project))
    assert run.exit_code == 0, run.stderr
    assert json.loads(sarif_file.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert blocking(validate(sarif_file, tmp_path)) == []


@pytest.mark.parametrize("fixture", ["story_py", "story_scala"])
def test_story_fixtures_are_valid_sarif_for_github(fixture: str, tmp_path: Path) -> None:
    sarif_file = tmp_path / f"{fixture}.sarif"
    project = REPO_ROOT / "fixtures" / fixture
    run = run_cli("check", "--output-format", "sarif", "-o", str(sarif_file), "--exit-zero", "--no-cache", str(project))
    assert run.exit_code == 0, run.stderr
    assert len(json.loads(sarif_file.read_text(encoding="utf-8"))["runs"][0]["results"]) == 3
    assert blocking(validate(sarif_file, tmp_path)) == []
