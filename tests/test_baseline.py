"""`sparklint baseline` and `sparklint check --baseline`: adopting sparklint on an old code base.
The real CLI on copies of the story fixture; the pre-commit hook with the baseline option runs
the real pre-commit (slow)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import CROSS_FILE_PROJECT, REPO_ROOT, run_cli, write_project

from sparklint.report.json import JSON_SCHEMA

STORY = REPO_ROOT / "fixtures" / "story_py"


@pytest.fixture
def story(tmp_path: Path) -> Path:
    target = tmp_path / "story_py"
    shutil.copytree(STORY, target, ignore=shutil.ignore_patterns(".sparklint_cache", "__pycache__"))
    return target


def check_json(project: Path, *args: str) -> dict:
    run = run_cli("check", "--no-cache", "--output-format", "json", "--exit-zero", *args, str(project))
    assert run.exit_code == 0, run.stderr
    document = run.json()
    jsonschema.Draft202012Validator(JSON_SCHEMA).validate(document)
    return document


def places(document: dict) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["location"]["path"], f["location"]["line"]) for f in document["findings"]}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_baseline_records_todays_findings_and_hides_them(story: Path) -> None:
    written = run_cli("baseline", "--no-cache", str(story))
    assert written.exit_code == 0, written.stderr
    baseline = story / ".sparklint-baseline.json"
    assert f"wrote 3 findings to {baseline}" in written.stderr
    document = json.loads(baseline.read_text(encoding="utf-8"))
    assert document["version"] == 1 and document["fingerprint"] == "sparklint/v1"
    assert [(entry["rule"], entry["path"]) for entry in document["findings"]] == [
        ("SPK001", "sitevisits/lake/iceberg.py"), ("SPK003", "sitevisits/pipeline/sessions.py"),
        ("SPK002", "sitevisits/pipeline/steps.py")]
    run = run_cli("check", "--no-cache", "--baseline", str(baseline), str(story))
    assert run.exit_code == 0
    assert run.stdout.splitlines()[-2:] == [f"The baseline {baseline} hid 3 findings.", "All checks passed on 16 files."]
    summary = check_json(story, "--baseline", str(baseline))["summary"]
    assert summary["baseline"] == {"path": str(baseline), "hidden": 3, "stale": 0}


def test_moved_code_stays_hidden_and_exactly_the_new_finding_is_reported(story: Path) -> None:
    baseline = story / "known.json"
    assert run_cli("baseline", "--no-cache", "-o", str(baseline), str(story)).exit_code == 0
    steps = story / "sitevisits/pipeline/steps.py"
    # lines move: a block above the join, the function moved below the next one, a longer docstring
    edit(story / "sitevisits/lake/iceberg.py", "SORT_COLUMNS =", "# Sorted for the readers' range scans.\n\n\nSORT_COLUMNS =")
    text = steps.read_text(encoding="utf-8")
    start, end = text.index("def add_country("), text.index("def publish(")
    steps.write_text(text[:start] + text[end:] + "\n\n" + text[start:end].rstrip() + "\n", encoding="utf-8")
    edit(story / "sitevisits/keys/visitors.py", '"""The visitor key:', '"""\nThe visitor key:')
    # and one new finding
    edit(story / "sitevisits/lake/tables.py", "def write_table(",
         'def export(df: DataFrame, path: str) -> None:\n    df.coalesce(1).write.csv(path)\n\n\ndef write_table(')
    document = check_json(story, "--baseline", str(baseline))
    assert places(document) == {("SPK001", "sitevisits/lake/tables.py", 15)}
    assert document["summary"]["baseline"] == {"path": str(baseline), "hidden": 3, "stale": 0}


def test_a_new_copy_of_an_old_line_is_reported(story: Path) -> None:
    baseline = story / "known.json"
    assert run_cli("baseline", "--no-cache", "-o", str(baseline), str(story)).exit_code == 0
    edit(story / "sitevisits/pipeline/steps.py", "def publish(", '''def add_country_again(spark: SparkSession, events: DataFrame) -> DataFrame:
    countries = country_dimension(spark)
    return events.join(countries, "country_code", "left")  # expect: SPK002


def publish(''')
    document = check_json(story, "--baseline", str(baseline))
    assert places(document) == {("SPK002", "sitevisits/pipeline/steps.py", 48)}


def test_entries_that_match_nothing_are_counted_so_the_file_can_be_refreshed(story: Path) -> None:
    baseline = story / "known.json"
    assert run_cli("baseline", "--no-cache", "-o", str(baseline), str(story)).exit_code == 0
    assert run_cli("check", "--no-cache", "--fix", str(story)).exit_code == 1  # the safe fix: SPK002
    run = run_cli("check", "--no-cache", "--baseline", str(baseline), str(story))
    assert run.exit_code == 0
    assert (f"The baseline {baseline} hid 2 findings; 1 entry no longer matches anything: refresh it with "
            "`sparklint baseline`.") in run.stdout
    # a check of some of the files counts only their entries
    partial = check_json(story / "sitevisits" / "config.py", "--baseline", str(baseline))
    assert partial["summary"]["baseline"]["stale"] == 0
    assert run_cli("baseline", "--no-cache", "-o", str(baseline), str(story)).exit_code == 0
    assert check_json(story, "--baseline", str(baseline))["summary"]["baseline"]["stale"] == 0


def test_baseline_in_the_configuration_is_relative_to_it(story: Path) -> None:
    pyproject = story / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + 'baseline = "lint/baseline.json"\n', encoding="utf-8")
    missing = run_cli("check", "--no-cache", str(story / "sitevisits"))
    assert missing.exit_code == 2
    assert missing.stderr == (f"sparklint: error: baseline {story / 'lint/baseline.json'} not found "
                              f"(write it with `sparklint baseline -o {story / 'lint/baseline.json'}`)\n")
    assert run_cli("baseline", "--no-cache", str(story)).exit_code == 0  # writes the configured file
    assert (story / "lint" / "baseline.json").is_file()
    assert check_json(story)["findings"] == []


def test_a_broken_baseline_is_one_line_and_exit_2(story: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    for text, complaint in (("{not json", "cannot read the baseline"), ('{"version": 9, "findings": []}',
                                                                          "is not a sparklint baseline of version 1")):
        broken.write_text(text, encoding="utf-8")
        run = run_cli("check", "--no-cache", "--baseline", str(broken), str(story))
        assert run.exit_code == 2
        assert run.stderr.startswith("sparklint: error: ") and complaint in run.stderr
        assert run.stderr.count("\n") == 1


def test_fix_with_a_baseline_fixes_only_the_new_findings(story: Path) -> None:
    baseline = story / "known.json"
    assert run_cli("baseline", "--no-cache", "-o", str(baseline), str(story)).exit_code == 0
    edit(story / "sitevisits/lake/tables.py", "def write_table(",
         'def export(df: DataFrame, path: str) -> None:\n    df.coalesce(1).write.csv(path)\n\n\ndef write_table(')
    before = (story / "sitevisits/lake/iceberg.py").read_text(encoding="utf-8")
    run = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "--baseline", str(baseline), str(story))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "df.repartition(200).write.csv(path)" in (story / "sitevisits/lake/tables.py").read_text(encoding="utf-8")
    assert (story / "sitevisits/lake/iceberg.py").read_text(encoding="utf-8") == before


# ---------------------------------------------------------------- pre-commit


@pytest.mark.slow
def test_precommit_hook_with_the_baseline_fails_only_on_new_findings(tmp_path: Path) -> None:
    from test_precommit import git, pre_commit, snapshot_of_this_checkout

    repo_path, rev = snapshot_of_this_checkout()
    project = write_project(tmp_path / "pipelines", {
        **CROSS_FILE_PROJECT,
        ".pre-commit-config.yaml": f"""
            repos:
              - repo: {repo_path}
                rev: {rev}
                hooks:
                  - id: sparklint
                    args: [--baseline, .sparklint-baseline.json]
        """,
    })
    assert run_cli("baseline", "--no-cache", str(project)).exit_code == 0
    git("init", "-q", "-b", "main", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "pipelines", cwd=project)
    passing = pre_commit("run", "--files", "jobs/daily.py", cwd=project)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    sink = project / "jobs" / "sink.py"
    sink.write_text(sink.read_text(encoding="utf-8") + "\n\ndef export(df, path):\n    df.coalesce(1).write.csv(path)\n",
                    encoding="utf-8")
    failing = pre_commit("run", "--files", "jobs/sink.py", cwd=project)
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "jobs/sink.py:6:" in output and "jobs/sink.py:2:" not in output
