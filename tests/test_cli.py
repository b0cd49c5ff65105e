"""The `sparklint` command as users drive it: flags, exit codes, messages.

Tests marked `needs_engine` run a real check through `sparklint.engine.run_check` on a small
multi-file project written into the test's tmp dir (see conftest.CROSS_FILE_PROJECT).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from conftest import CROSS_FILE_FINDING, CROSS_FILE_PROJECT, REPO_ROOT, needs_engine, run_cli, write_project

from sparklint import __version__
from sparklint.docs import rule_document
from sparklint.report.json import JSON_SCHEMA
from sparklint.catalogue import all_rules


def finding_triples(document: dict) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["location"]["path"], f["location"]["line"]) for f in document["findings"]}


# ---------------------------------------------------------------- without the engine


def test_version() -> None:
    run = run_cli("--version")
    assert (run.exit_code, run.stdout) == (0, f"sparklint {__version__}\n")


def test_rules_lists_every_rule_on_one_line() -> None:
    run = run_cli("rules")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert len(lines) == len(all_rules())
    for line, rule in zip(lines, all_rules()):
        assert line.split()[:3] == [rule.code, rule.slug, rule.severity.label]
        assert line.endswith(rule.summary)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_explain_by_code_and_slug(rule) -> None:
    by_code, by_slug = run_cli("explain", rule.code.lower()), run_cli("explain", rule.slug)
    assert by_code.exit_code == by_slug.exit_code == 0
    assert by_code.stdout == by_slug.stdout == rule_document(rule)


def test_explain_unknown_rule_suggests_one() -> None:
    run = run_cli("explain", "coalesce-befor-write")
    assert run.exit_code == 2
    assert run.stderr == ("sparklint: error: unknown rule `coalesce-befor-write` (did you mean "
                          "`coalesce-before-write`?); `sparklint rules` lists them\n")


def test_unknown_option_is_a_one_line_usage_error(tmp_path: Path) -> None:
    run = run_cli("check", "--output-fromat", "json", str(tmp_path))
    assert run.exit_code == 2
    assert run.stderr.startswith("sparklint: error: No such option")
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_unknown_rule_in_select(tmp_path: Path) -> None:
    run = run_cli("check", "--select", "SPK001,SPK02", str(tmp_path))
    assert run.exit_code == 2
    assert run.stderr == "sparklint: error: --select: unknown rule `SPK02` (did you mean `SPK002`?)\n"


def test_bad_config_exits_2_with_did_you_mean(tmp_path: Path) -> None:
    write_project(tmp_path, {"pyproject.toml": "[tool.sparklint]\nfail_on = 'error'\n"})
    run = run_cli("check", str(tmp_path))
    assert run.exit_code == 2
    assert run.stderr == (f"sparklint: error: {tmp_path / 'pyproject.toml'}: [tool.sparklint] unknown key "
                          "`fail_on` (did you mean `fail-on`?)\n")


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    run = run_cli("check", str(tmp_path / "nope"))
    assert run.exit_code == 2 and "does not exist" in run.stderr


def test_statistics_needs_text_or_json(tmp_path: Path) -> None:
    run = run_cli("check", "--statistics", "--output-format", "sarif", str(tmp_path))
    assert run.exit_code == 2 and "--statistics works with" in run.stderr


def test_console_script_runs_without_arguments_and_shows_help() -> None:
    completed = subprocess.run([sys.executable, "-m", "sparklint.cli"], capture_output=True, text=True, check=False)
    assert completed.returncode == 2
    assert "Usage: sparklint" in completed.stderr and "check" in completed.stderr


def test_progress_appears_only_after_a_moment(monkeypatch, capsys) -> None:
    import time

    from sparklint import cli

    monkeypatch.setattr(cli, "PROGRESS_DELAY_SECONDS", 0.05)
    with cli.Progress(enabled=True) as quick:
        pass
    assert not quick.shown and capsys.readouterr().err == ""
    with cli.Progress(enabled=True) as slow:
        slow.update("parsing 120 files")
        time.sleep(0.3)
    assert slow.shown
    assert "sparklint: parsing 120 files... 0s" in capsys.readouterr().err
    with cli.Progress(enabled=False) as disabled:
        time.sleep(0.1)
    assert not disabled.shown


# ---------------------------------------------------------------- through the engine


@needs_engine
def test_cross_file_finding_and_exit_1(cross_file_project: Path) -> None:
    run = run_cli("check", "--output-format", "json", str(cross_file_project))
    assert run.exit_code == 1, run.stderr
    document = run.json()
    jsonschema.Draft202012Validator(JSON_SCHEMA).validate(document)
    assert CROSS_FILE_FINDING in finding_triples(document)
    finding = next(f for f in document["findings"] if f["rule"] == "SPK001")
    assert any(step["location"]["path"] == "jobs/daily.py" for step in finding["chain"])
    assert document["summary"]["files_checked"] == 3


@needs_engine
def test_text_output_and_summary(cross_file_project: Path) -> None:
    run = run_cli("check", "--no-color", str(cross_file_project))
    rule, path, line = CROSS_FILE_FINDING
    assert run.exit_code == 1
    assert any(row.startswith(f"{path}:{line}:") and f" {rule} [warning] " in row for row in run.stdout.splitlines())
    assert "  note: jobs/daily.py:" in run.stdout  # the chain from the entry point
    assert run.stdout.rstrip().splitlines()[-1] == "Found 1 finding (1 warning) in 1 file; 3 files checked."
    assert "\x1b[" not in run.stdout


@needs_engine
def test_clean_project_exits_0(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"jobs/ok.py": '''
        def publish(df, path):
            df.repartition(200).write.parquet(path)
    '''})
    run = run_cli("check", str(project))
    assert (run.exit_code, run.stdout) == (0, "All checks passed on 1 file.\n")


@needs_engine
def test_ignore_and_select(cross_file_project: Path) -> None:
    ignored = run_cli("check", "--ignore", "coalesce-before-write", str(cross_file_project))
    assert ignored.exit_code == 0
    selected_other = run_cli("check", "--select", "SPK002", str(cross_file_project))
    assert selected_other.exit_code == 0
    selected = run_cli("check", "--select", "SPK001", "--output-format", "json", str(cross_file_project))
    assert selected.exit_code == 1 and CROSS_FILE_FINDING in finding_triples(selected.json())


@needs_engine
def test_fail_on_and_exit_zero(tmp_path: Path) -> None:
    # An unused noqa (SPK100, a warning) is the only finding.
    project = write_project(tmp_path, {"jobs/ok.py": """
        def publish(df, path):
            df.repartition(200).write.parquet(path)  # noqa: SPK001
    """})
    assert run_cli("check", str(project)).exit_code == 1
    assert run_cli("check", "--fail-on", "error", str(project)).exit_code == 0
    assert run_cli("check", "--exit-zero", str(project)).exit_code == 0
    (project / "pyproject.toml").write_text("[tool.sparklint]\nfail-on = 'error'\n", encoding="utf-8")
    assert run_cli("check", str(project)).exit_code == 0
    assert run_cli("check", "--fail-on", "note", str(project)).exit_code == 1


@needs_engine
def test_fail_on_error_lets_warnings_pass(cross_file_project: Path) -> None:
    assert run_cli("check", str(cross_file_project)).exit_code == 1
    assert run_cli("check", "--fail-on", "error", str(cross_file_project)).exit_code == 0


@needs_engine
def test_command_line_select_wins_over_config_ignore(tmp_path: Path) -> None:
    project = write_project(tmp_path, {**CROSS_FILE_PROJECT, "pyproject.toml": "[tool.sparklint]\nignore = ['SPK001']\n"})
    assert run_cli("check", str(project)).exit_code == 0
    assert run_cli("check", "--select", "SPK001", str(project)).exit_code == 1


@needs_engine
def test_statistics(cross_file_project: Path) -> None:
    run = run_cli("check", "--statistics", "--no-color", str(cross_file_project))
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0].split("\t")[:2] == ["1", "SPK001"]


@needs_engine
def test_output_file(cross_file_project: Path, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "sparklint.sarif"
    run = run_cli("check", "--output-format", "sarif", "-o", str(target), "--exit-zero", str(cross_file_project))
    assert (run.exit_code, run.stdout) == (0, "")
    results = json.loads(target.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert any(result["ruleId"] == "SPK001" for result in results)


@needs_engine
def test_github_annotations(cross_file_project: Path) -> None:
    run = run_cli("check", "--output-format", "github", str(cross_file_project))
    rule, path, line = CROSS_FILE_FINDING
    assert run.exit_code == 1
    assert run.stdout.startswith(f"::warning file={path},line={line},")  # an unsorted write: a warning


@needs_engine
def test_syntax_error_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"jobs/broken.py": "def broken(:\n    pass\n"})
    run = run_cli("check", "--output-format", "json", str(project))
    assert run.exit_code == 1, run.stderr
    assert [(f["rule"], f["location"]["path"]) for f in run.json()["findings"]] == [("SPK000", "jobs/broken.py")]


@needs_engine
def test_noqa_names_the_rule(tmp_path: Path) -> None:
    project = write_project(tmp_path, {**CROSS_FILE_PROJECT, "jobs/sink.py": '''
        def publish(df, path):
            df.coalesce(2).write.mode("overwrite").parquet(path)  # noqa: SPK001
    '''})
    run = run_cli("check", "--output-format", "json", str(project))
    assert (run.exit_code, run.json()["findings"]) == (0, [])


@needs_engine
def test_profiles_without_the_profile_module_or_with_a_missing_log(cross_file_project: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-eventlog"
    run = run_cli("check", "--profile", str(missing), "--exit-zero", "--output-format", "json", str(cross_file_project))
    assert run.exit_code == 0
    assert CROSS_FILE_FINDING in finding_triples(run.json())
    required = run_cli("check", "--profile", str(missing), "--profile-required", str(cross_file_project))
    profile_module = Path(__file__).resolve().parent.parent / "sparklint" / "profile" / "api.py"
    if profile_module.exists():
        assert required.exit_code == 2 and required.stderr.startswith("sparklint: error: ")
    else:
        assert "run profiles are not available in this build" in required.stderr


@needs_engine
def test_readme_sample_output_is_real() -> None:
    """Every line of the README's sample report appears in a real run on the bundled example."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    sample = readme.split("(this is the bundled example, `fixtures/story_py`):\n\n", 1)[1].split("\n\n", 1)[0]
    sample_lines = [line[4:] for line in sample.splitlines()]
    assert sample_lines and sample_lines[0].startswith("sitevisits/")
    run = run_cli("check", "--no-color", str(REPO_ROOT / "fixtures" / "story_py"))
    assert [line for line in sample_lines if line not in run.stdout.splitlines()] == []
    assert run.exit_code == 1  # as the README says next to the demo command


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    command = readme.split("\nRun the tests", 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]
    assert command.startswith("pip install -e '.[test]' && python -m pytest")
    assert command in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


@needs_engine
def test_unwritable_output_file_is_a_one_line_error(cross_file_project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    run = run_cli("check", "-o", str(blocker / "report.json"), str(cross_file_project))
    assert run.exit_code == 2
    assert run.stderr.startswith(f"sparklint: error: cannot write {blocker / 'report.json'}: ")
    assert run.stderr.count("\n") == 1


def test_internal_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, tmp_path: Path) -> None:
    import sparklint.engine

    def broken_engine(paths, settings, progress=None):
        raise RuntimeError("interpreter lost its way")

    monkeypatch.setattr(sparklint.engine, "run_check", broken_engine)
    run = run_cli("check", str(tmp_path))
    assert run.exit_code == 2
    assert run.stderr == ("sparklint: error: internal error: RuntimeError: interpreter lost its way "
                          "(run with --debug for the traceback)\n")
    debug = run_cli("check", "--debug", str(tmp_path))
    assert debug.exit_code == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.rstrip().endswith("sparklint: error: internal error: RuntimeError: interpreter lost its way")


def test_readme_run_profile_excerpt_is_real() -> None:
    """The README's evidence excerpt is what its own command prints on the shipped test job."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Evidence** looks like this: `", 1)[1]
    command = section.split("`", 1)[0].replace("\n", " ").split()
    excerpt = section.split(":\n\n", 1)[1].split("\n\n", 1)[0]
    lines = [line[4:] for line in excerpt.splitlines() if line.strip() != "..."]
    assert command[:2] == ["sparklint", "check"] and lines
    run = run_cli(*command[1:], "--no-cache", "--no-color", cwd=REPO_ROOT)
    assert [line for line in lines if line not in run.stdout.splitlines()] == []
    assert "run profiles: no evidence for lookup/lake/archive.py:9:8" in run.stderr


def _agrees(shown, real) -> bool:
    """`shown` (the README's example) is `real` where it does not say "...": a dict's keys, a
    list's leading items, every other value exactly."""
    if shown == "..." or shown == {"...": "..."}:
        return True
    if isinstance(shown, dict):
        return isinstance(real, dict) and all(key in real and _agrees(value, real[key]) for key, value in shown.items())
    if isinstance(shown, list):
        items = [item for item in shown if item != "..."]
        exact = "..." not in shown
        return isinstance(real, list) and (len(real) == len(items) if exact else len(real) >= len(items)) \
            and all(_agrees(item, other) for item, other in zip(items, real))
    return shown == real


def test_readme_json_example_is_the_demo_s_real_output() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    shown = json.loads(readme.split("\n## JSON output\n", 1)[1].split("```json\n", 1)[1].split("```", 1)[0])
    run = run_cli("check", "--output-format", "json", "--no-cache", str(REPO_ROOT / "fixtures" / "story_py"))
    real = run.json()
    assert real["root"].endswith("fixtures/story_py")
    shown["root"] = real["root"]
    assert _agrees(shown, real)


def test_readme_fixes_excerpt_is_real() -> None:
    """The *Fixes* excerpt is the demo's own output: whole lines exactly, a line cut with "..."
    by its beginning."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    excerpt = readme.split("\n### Fixes\n", 1)[1].split("how safe it is:\n\n", 1)[1].split("\n\n|", 1)[0]
    lines = [line[4:] for line in excerpt.splitlines() if line.strip() not in ("", "...")]
    run = run_cli("check", "--no-color", str(REPO_ROOT / "fixtures" / "story_py"))
    real = run.stdout.splitlines()
    missing = [line for line in lines
               if not any(have == line or (line.endswith(", ...") and have.startswith(line[:-3])) for have in real)]
    assert len(lines) >= 4 and missing == []
