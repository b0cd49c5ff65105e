"""Reporters on hand-built CheckResults, so they do not depend on the engine.

Golden files live in tests/golden/; after an intended change run
`SPARKLINT_UPDATE_GOLDEN=1 python -m pytest tests/test_reporters.py` and review the diff.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from conftest import assert_golden

from sparklint.findings import ChainStep, CheckResult, Finding, Location, Related, Severity
from sparklint.report import github, sarif, text
from sparklint.report import json as json_report
from sparklint.report.fingerprint import fingerprints
from sparklint.catalogue import all_rules
from sparklint.settings import Settings

SETTINGS = Settings()
FIXED_ROOT = "/srv/sitevisits"  # does not exist: fingerprints then hash an empty line text

COALESCE = Finding(
    rule="SPK001",
    severity=Severity.ERROR,
    message="`coalesce(2)` before a sorted write: 2 tasks will sort all the data",
    location=Location("lake/compact.py", 7, 12, 7, 23),
    related=(Related(Location("lake/compact.py", 5, 5, 5, 30), "the write is sorted by `sortWithinPartitions`"),),
    chain=(
        ChainStep(Location("jobs/in_sites.py", 21, 5), "run() calls steps.publish(enriched, ...)"),
        ChainStep(Location("pipeline/steps.py", 6, 5), "publish() calls sink.persist(...)"),
    ),
    fix="use `repartition(N)` (N ≈ total executor cores) or the table's write.distribution-mode",
    key=("persist", "coalesce"),
    evidence=("stage 14: 2 tasks wrote 400 GB, 11.2 GiB spilled",),
    properties={"partitions": 2},
)
BROADCAST = Finding(
    rule="SPK002",
    severity=Severity.WARNING,
    message="join of `countries` (16 KiB): add `broadcast(...)`, 100% of rows, a, b",
    location=Location("jobs/a,b:c.py", 30, 9, 30, 40),
    key=("countries",),
)
GROUPING = Finding(
    rule="SPK003",
    severity=Severity.NOTE,
    message="`coalesce(origin_uid, \"\")` as a grouping key\nputs every missing id in one group",
    location=Location("keys/visitors.py", 11, 16),
)
RESULT = CheckResult(findings=(COALESCE, BROADCAST, GROUPING), files_checked=12, lines_checked=640,
                     root=FIXED_ROOT, warnings=("x.py: not UTF-8",), seconds=0.25)
CLEAN = CheckResult(findings=(), files_checked=1, lines_checked=10, root=FIXED_ROOT)


# ---------------------------------------------------------------- text


def test_text_golden() -> None:
    assert_golden("text.txt", text.render(RESULT, SETTINGS))


def test_text_statistics_golden() -> None:
    assert_golden("text_statistics.txt", text.render(RESULT, SETTINGS, statistics=True))


def test_text_summary_lines() -> None:
    assert text.render(CLEAN, SETTINGS) == "All checks passed on 1 file.\n"
    one = CheckResult(findings=(COALESCE,), files_checked=1, lines_checked=1, root=FIXED_ROOT)
    assert text.render(one, SETTINGS).endswith("\nFound 1 finding (1 error) in 1 file; 1 file checked.\n")
    assert text.render(CLEAN, SETTINGS, quiet=True) == ""


def test_text_colour_only_when_asked() -> None:
    assert "\x1b[" not in text.render(RESULT, SETTINGS)
    assert "\x1b[" in text.render(RESULT, SETTINGS, color=True)


# ---------------------------------------------------------------- json


def test_json_golden() -> None:
    assert_golden("report.json", json_report.render(RESULT, SETTINGS))


def test_json_follows_its_published_schema() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(json_report.JSON_SCHEMA)
    validator = jsonschema.Draft202012Validator(json_report.JSON_SCHEMA)
    for document in (json_report.document(RESULT), json_report.document(CLEAN),
                     json_report.document(RESULT, statistics=True)):
        validator.validate(document)
    broken = json_report.document(RESULT)
    broken["findings"][0]["severity"] = "fatal"
    assert not validator.is_valid(broken)


def test_json_statistics() -> None:
    document = json.loads(json_report.render(RESULT, SETTINGS, statistics=True))
    assert document["statistics"] == [
        {"rule": "SPK001", "name": "coalesce-before-write", "count": 1},
        {"rule": "SPK002", "name": "missing-broadcast-hint", "count": 1},
        {"rule": "SPK003", "name": "empty-string-grouping-key", "count": 1},
    ]
    assert "findings" not in document


# ---------------------------------------------------------------- github


def test_github_golden() -> None:
    assert_golden("github.txt", github.render(RESULT, SETTINGS, workspace=""))


def test_github_paths_follow_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "services" / "visits"
    root.mkdir(parents=True)
    result = CheckResult(findings=(GROUPING,), files_checked=1, lines_checked=1, root=str(root))
    line = github.render(result, SETTINGS, workspace=str(tmp_path))
    assert line.startswith("::notice file=services/visits/keys/visitors.py,line=11,col=16,title=SPK003 ")
    assert "\n" not in line.rstrip("\n") and "%0Aputs every missing id" in line


def test_github_escaping() -> None:
    assert github.escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert github.escape_property("a,b:c%") == "a%2Cb%3Ac%25"


# ---------------------------------------------------------------- sarif


def sarif_document(result: CheckResult = RESULT, warnings: list[str] | None = None) -> dict:
    collect = warnings.append if warnings is not None else (lambda message: None)
    return json.loads(sarif.render(result, SETTINGS, warn=collect))


def test_sarif_run_shape() -> None:
    document = sarif_document()
    assert document["version"] == "2.1.0"
    assert list(document)[:2] == ["$schema", "version"]
    (run,) = document["runs"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///srv/sitevisits/"}}
    driver = run["tool"]["driver"]
    assert driver["name"] == "sparklint"
    assert [rule["id"] for rule in driver["rules"]] == [rule.code for rule in all_rules()]
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"] == "x.py: not UTF-8."


def test_sarif_rule_metadata_comes_from_the_catalogue() -> None:
    rules = {rule["id"]: rule for rule in sarif_document()["runs"][0]["tool"]["driver"]["rules"]}
    for rule in all_rules():
        descriptor = rules[rule.code]
        assert descriptor["name"] == rule.slug  # as in config tables and `sparklint explain` (a SARIF2012 note)
        assert descriptor["shortDescription"]["text"].rstrip(".") == rule.summary.rstrip(".")
        assert descriptor["defaultConfiguration"]["level"] == sarif.LEVELS[rule.severity]
        assert descriptor["help"]["markdown"] and descriptor["help"]["text"]
        assert rule.slug in descriptor["properties"]["tags"]
        assert descriptor["properties"]["precision"] in ("very-high", "high", "medium", "low")


def test_sarif_result_carries_locations_chain_and_evidence() -> None:
    (run,) = sarif_document()["runs"]
    results = {result["ruleId"]: result for result in run["results"]}
    coalesce = results["SPK001"]
    assert run["tool"]["driver"]["rules"][coalesce["ruleIndex"]]["id"] == "SPK001"
    assert coalesce["level"] == "error"
    assert coalesce["message"]["text"].endswith("sort all the data.")
    assert coalesce["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "lake/compact.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7, "startColumn": 12, "endLine": 7, "endColumn": 23},
    }
    assert coalesce["relatedLocations"][0]["id"] == 0
    flow = coalesce["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [step["location"]["physicalLocation"]["artifactLocation"]["uri"] for step in flow] == [
        "jobs/in_sites.py", "pipeline/steps.py", "lake/compact.py"]
    assert flow[0]["location"]["message"]["text"] == "run() calls steps.publish(enriched, ...)."
    assert coalesce["properties"]["evidenceText"] == list(COALESCE.evidence)
    assert results["SPK003"]["level"] == "note"
    assert results["SPK002"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "jobs/a%2Cb%3Ac.py"


def test_sarif_fingerprints_ignore_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "compact.py").write_text("\n" * 6 + "    df.coalesce(2).write.parquet(p)\n")
    before = fingerprints([COALESCE], str(tmp_path))
    (tmp_path / "lake" / "compact.py").write_text("\n" * 9 + "df.coalesce(2).write.parquet(p)   \n")
    moved = Finding(**{**{f: getattr(COALESCE, f) for f in COALESCE.__dataclass_fields__},
                       "location": Location("lake/compact.py", 10, 1)})
    assert fingerprints([moved], str(tmp_path)) == before
    (tmp_path / "lake" / "compact.py").write_text("\n" * 9 + "df.coalesce(4).write.parquet(p)\n")
    assert fingerprints([moved], str(tmp_path)) != before
    assert fingerprints([COALESCE, COALESCE], str(tmp_path))[1].endswith(":1")
    document = sarif_document(CheckResult((moved,), 1, 1, str(tmp_path)))
    assert document["runs"][0]["results"][0]["partialFingerprints"]["sparklint/v1"] == fingerprints([moved], str(tmp_path))[0]


def test_sarif_caps_results_and_warns(monkeypatch) -> None:
    monkeypatch.setattr(sarif, "MAX_RESULTS_PER_RUN", 2)
    monkeypatch.setattr(sarif, "MAX_THREAD_FLOW_LOCATIONS", 2)
    warnings: list[str] = []
    (run,) = sarif_document(warnings=warnings)["runs"]
    assert sorted(result["ruleId"] for result in run["results"]) == ["SPK001", "SPK002"]  # the most severe two
    coalesce = next(result for result in run["results"] if result["ruleId"] == "SPK001")
    assert len(coalesce["codeFlows"][0]["threadFlows"][0]["locations"]) == 2
    assert any("3 results exceed GitHub's limit of 2" in warning for warning in warnings)
    assert any("lake/compact.py:7:12: keeping 2 of 3 chain steps" in warning for warning in warnings)


def test_sarif_cuts_the_file_to_githubs_size_limit(monkeypatch) -> None:
    empty_size = len(gzip.compress(sarif.render(CLEAN, SETTINGS).encode()))
    limit = empty_size + 1_500
    monkeypatch.setattr(sarif, "MAX_GZIPPED_BYTES", limit)
    warnings: list[str] = []
    many = CheckResult(
        findings=tuple(Finding("SPK002", Severity.WARNING, f"join number {n} with a unique message {n * 7919}",
                               Location(f"jobs/job_{n}.py", n + 1, 1)) for n in range(200)),
        files_checked=200, lines_checked=200, root=FIXED_ROOT)
    text_out = sarif.render(many, SETTINGS, warn=warnings.append)
    assert len(gzip.compress(text_out.encode())) <= limit
    assert 0 < len(json.loads(text_out)["runs"][0]["results"]) < 200
    assert warnings and "MiB (gzip) limit" in warnings[0]
