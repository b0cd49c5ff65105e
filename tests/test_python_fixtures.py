"""The bundled PySpark fixture projects, checked through the CLI: exact findings, exact chains.

Every line of a fixture that must be reported carries `# expect: SPKnnn`; no other line may be.
The story's chains are spelled out hop by hop, as fixtures/story_py/README.md describes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO_ROOT, STORY_PY_CHAIN, project_markers, run_cli

FIXTURES = REPO_ROOT / "fixtures"


def check_json(project: Path) -> dict:
    run = run_cli("check", "--output-format", "json", "--exit-zero", "--no-cache", str(project))
    assert run.exit_code == 0, run.stderr
    return run.json()


@pytest.mark.parametrize("name", ["story_py", "story_py_fixed", "traps_py", "sql_py", "rules_py"])
def test_fixture_findings_are_exactly_the_marked_lines(name: str) -> None:
    project = FIXTURES / name
    report = check_json(project)
    found = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in report["findings"]}
    assert found == project_markers(project, (".py",))


def test_fixed_twin_is_silent_and_exits_zero() -> None:
    run = run_cli("check", "--no-cache", str(FIXTURES / "story_py_fixed"))
    assert run.exit_code == 0
    assert "All checks passed" in run.stdout


def _chain(finding: dict) -> list[tuple[str, int]]:
    return [(step["location"]["path"], step["location"]["line"]) for step in finding["chain"]]


def _by_rule(report: dict) -> dict[str, dict]:
    return {finding["rule"]: finding for finding in report["findings"]}


def test_story_coalesce_chain_crosses_five_files_from_the_main_block() -> None:
    finding = _by_rule(check_json(FIXTURES / "story_py"))["SPK001"]
    assert finding["severity"] == "error"
    assert (finding["location"]["path"], finding["location"]["line"], finding["location"]["column"]) == (
        "sitevisits/lake/iceberg.py", 16, 12)
    assert "`coalesce(2)` before a sorted write" in finding["message"]
    assert _chain(finding) == STORY_PY_CHAIN
    files = {path for path, _ in _chain(finding)}
    assert len(files) == 5
    related = {(r["location"]["path"], r["location"]["line"]) for r in finding["related"]}
    assert ("sitevisits/lake/iceberg.py", 19) in related  # the write
    assert ("sitevisits/lake/iceberg.py", 17) in related  # the sort between
    assert "repartition" in finding["fix"]


def test_story_join_names_the_literal_dimension_as_evidence() -> None:
    finding = _by_rule(check_json(FIXTURES / "story_py"))["SPK002"]
    assert "right side is small (built from 10 literal rows)" in finding["message"]
    assert [(r["location"]["path"], r["location"]["line"]) for r in finding["related"]] == [
        ("sitevisits/dims/countries.py", 11)]
    assert _chain(finding) == [
        ("sitevisits/jobs/hourly_visits.py", 51),
        ("sitevisits/jobs/hourly_visits.py", 43),
        ("sitevisits/pipeline/steps.py", 43),
    ]


def test_story_grouping_key_follows_the_constant_and_the_helper_in_another_file() -> None:
    finding = _by_rule(check_json(FIXTURES / "story_py"))["SPK003"]
    assert "`visitor_key`" in finding["message"]
    assert "coalesce(origin_uid, cookie_uid, device_id)` with no empty-string normalisation; no code states the column types" in finding["message"]
    assert [(r["location"]["path"], r["location"]["line"]) for r in finding["related"]] == [
        ("sitevisits/keys/visitors.py", 14)]
    assert _chain(finding) == [
        ("sitevisits/jobs/hourly_visits.py", 51),
        ("sitevisits/jobs/hourly_visits.py", 44),
        ("sitevisits/pipeline/sessions.py", 13),
        ("sitevisits/keys/visitors.py", 14),
        ("sitevisits/pipeline/sessions.py", 14),
    ]


def test_text_output_shows_the_chain_as_notes() -> None:
    run = run_cli("check", "--no-cache", "--no-color", str(FIXTURES / "story_py"))
    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith("sitevisits/lake/iceberg.py:16:12: SPK001 [error]")
    assert lines[1] == "  note: sitevisits/jobs/hourly_visits.py:51 the `__main__` block calls `main(...)`"
    assert "Found 3 findings (1 error, 2 warnings)" in run.stdout


def test_checking_one_file_still_uses_the_whole_project_graph() -> None:
    """pre-commit passes only changed files: a finding whose chain touches the file is reported."""
    job = FIXTURES / "story_py" / "sitevisits" / "jobs" / "hourly_visits.py"
    report = check_json(job)
    assert {f["rule"] for f in report["findings"]} == {"SPK001", "SPK002", "SPK003"}
    unrelated = FIXTURES / "story_py" / "sitevisits" / "config.py"
    assert check_json(unrelated)["findings"] == []
