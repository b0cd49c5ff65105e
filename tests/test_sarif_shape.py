"""Python and Scala findings of the same story produce SARIF of the same shape: same rules, same
keys on every result, and a code flow for every chain."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO_ROOT, run_cli


def sarif_of(fixture: str, tmp_path: Path) -> dict:
    out = tmp_path / f"{fixture}.sarif"
    run = run_cli("check", "--output-format", "sarif", "-o", str(out), "--exit-zero", "--no-cache",
                  str(REPO_ROOT / "fixtures" / fixture))
    assert run.exit_code == 0, run.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def shape(result: dict) -> tuple:
    flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
    return (
        result["ruleId"],
        result["level"],
        tuple(sorted(result)),
        len(result["relatedLocations"]),
        tuple(sorted(result["partialFingerprints"])),
        bool(flow),
    )


def test_python_and_scala_stories_have_the_same_sarif_shape(tmp_path: Path) -> None:
    python = sarif_of("story_py", tmp_path)["runs"][0]["results"]
    scala = sarif_of("story_scala", tmp_path)["runs"][0]["results"]
    assert sorted(map(shape, python)) == sorted(map(shape, scala))
    for result in python + scala:
        flow = result["codeFlows"][0]["threadFlows"][0]["locations"]
        assert len(flow) >= 3  # entry point, at least one hop, the line itself
