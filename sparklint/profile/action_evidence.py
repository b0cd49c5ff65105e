"""Run evidence of three static rules, in numbers:

- SPK004 (collect-to-driver): what the collect's tasks sent to the driver. Its SQL execution is
  the one whose call site (`collect at jobs/x.py:21`) is the finding's line (an RDD collect: the
  stages named so); the figure is the task metric "Result Size" summed over the result stages
  (the stages that wrote no shuffle), with the rows the plan's top operator produced. It is
  raised when that reaches `collect-max-result-share` of the `spark.driver.maxResultSize` the
  run recorded, or, with no limit recorded (or 0, none), `collect-max-result-bytes`; a collect
  that failed on the limit is raised too.
- SPK010 (partitioned-write-scatter): the files the write made and their average size, SPK203's
  measure (the write command's `numFiles` / `numOutputBytes`), the write matched as SPK001's
  is. Raised when they are at least `small-files-min-count` files averaging under
  `small-file-bytes`.
- SPK006 (recomputed-without-cache): generic over the finding's shape: its location and related
  locations are the actions and writes that recompute a DataFrame. Each is tied to executions
  by call site (a write also by its target, as SPK001's), and the finding is confirmed when two
  or more of those executions scan the same input (a file scan of the same paths, or the same
  table). It is raised when the executions after the first read at least `rescan-min-bytes` of
  it again.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from sparklint.findings import Finding, Location
from sparklint.profile import matching as m
from sparklint.profile.model import PlanNode, RunProfile, ScanProfile, SqlExecutionProfile, StageProfile
from sparklint.profile.runtime_rules import threshold
from sparklint.profile.summary import format_bytes
from sparklint.settings import Settings

MAX_RESULT_SIZE = "spark.driver.maxResultSize"
_SIZE = re.compile(r"^\s*(\d{1,19})\s*([kmgtp]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_size(text: str | None) -> int | None:
    """A Spark byte size as `spark.driver.maxResultSize` takes it (`8m`, `1g`, `1024`: bytes); None
    when it is not one."""
    match = _SIZE.match(text or "")
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _share(fraction: float) -> str:
    return "under 1%" if 0 < fraction < 0.01 else f"{fraction:.0%}"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


# ---------------------------------------------------------------- SPK004


def measure_collect(static: dict, run: RunProfile, settings: Settings) -> tuple[m.RunEvidence, int | None] | None:
    executions = [execution for execution in run.sql_executions if m._site_identifies(execution, static)]
    if executions:
        by_execution = [(execution, _result_stages(run.stages_of(execution))) for execution in executions]
    else:  # an RDD collect runs no SQL execution: its stages carry the call site
        location = static.get("location") or {}
        named = [stage for stage in run.stages
                 if m._call_site_matches(m.call_site(stage.name), str(location.get("path", "")),
                                         int(location.get("line", 0)))]
        by_execution = [(None, _result_stages(tuple(named)))] if named else []
    by_execution = [(execution, stages) for execution, stages in by_execution if stages or execution is not None]
    if not by_execution:
        return None
    # the execution that brought the most back (a collect in a loop runs several)
    execution, stages = max(by_execution, key=lambda item: sum(stage.result_bytes for stage in item[1]))
    sent = sum(stage.result_bytes for stage in stages)
    tasks = sum(stage.task_time_ms.count for stage in stages)
    failed = execution is not None and MAX_RESULT_SIZE in execution.error
    # (an aborted job's operators counted rows it never delivered)
    rows = _top_rows(execution.plan) if execution is not None and execution.plan is not None and not failed else None
    recorded = run.spark_property(MAX_RESULT_SIZE, execution)
    limit = parse_size(recorded)
    if limit:
        share = threshold(settings, "collect-max-result-share")
        raise_at = int(limit * share)
        against = f"{_share(sent / limit)} of {MAX_RESULT_SIZE}={recorded}"
        rule = f"collect-max-result-share {share:g}"
    else:
        raise_at = threshold(settings, "collect-max-result-bytes")
        against = f"no {MAX_RESULT_SIZE} recorded" if recorded is None else f"{MAX_RESULT_SIZE}={recorded}: no limit"
        rule = f"collect-max-result-bytes {format_bytes(raise_at)}"
    harm = failed or sent >= raise_at
    stage_ids = [stage.stage_id for stage in stages]
    facts: dict[str, Any] = {
        "app_id": run.app_id,
        "app_name": run.app_name,
        "sql_execution": execution.execution_id if execution is not None else None,
        "stage_ids": stage_ids,
        "tasks": tasks,
        "result_bytes": sent,
        "rows": rows,
        "max_result_size": recorded,
        "max_result_size_bytes": limit,
        "raise_at_bytes": raise_at,
        "failed_on_limit": failed,
        "executions_at_call_site": len(by_execution),
        "matched_by": (m.matched_by(execution, static, False) if execution is not None
                       else f"call site of stage {stage_ids[0] if stage_ids else '?'}"),
    }
    if len(stages) == 1:
        m._add_stage_facts(facts, stages[0])
    shown_rows = f" ({rows:,} rows)" if rows is not None else ""
    where = f"SQL execution {execution.execution_id}" if execution is not None else "an RDD job"
    stage_text = ", ".join(str(stage_id) for stage_id in stage_ids) or "none"
    lines = [
        f"{m._run_label(run)}: {_count(tasks, 'task')} sent {format_bytes(sent)}{shown_rows} to the driver "
        f"in {where} (result {'stage' if len(stage_ids) == 1 else 'stages'} {stage_text})",
    ]
    verdict = "at or over" if sent >= raise_at else "under"
    lines.append(f"that is {against}; {verdict} the {format_bytes(raise_at)} it is raised at ({rule})")
    if failed:
        lines.append(f"the collect failed on {MAX_RESULT_SIZE}: {execution.error.splitlines()[0][:200]}")
    if len(by_execution) > 1:
        lines.append(f"the call site ran {len(by_execution)} times; the largest result is shown")
    return m.RunEvidence(run, tuple(lines), facts, harm), (stage_ids[0] if len(stage_ids) == 1 else None)


def _result_stages(stages: tuple[StageProfile, ...]) -> list[StageProfile]:
    """The stages whose task results are the action's rows: those that wrote no shuffle (a
    shuffle-map stage only sends back where its blocks are)."""
    return [stage for stage in stages
            if not stage.shuffle_write_bytes.total and not stage.shuffle_write_records and stage.task_time_ms.count]


def _top_rows(plan: PlanNode) -> int | None:
    """The rows the plan's topmost operator that counts its rows produced: what a collect brings back."""
    for node in plan.walk():
        metric = node.metric("number of output rows")
        if metric is not None:
            return metric.value
    return None


# ---------------------------------------------------------------- SPK010


def measure_scatter(static: dict, operations: list[dict], run: RunProfile,
                    settings: Settings) -> tuple[m.RunEvidence, int | None] | None:
    runtime = m.match_write(static, operations, run)
    if runtime is None:
        return None
    lines, facts = m.write_evidence(runtime)
    facts["matched_by"] = m.matched_by(runtime.execution, static, m._target_identifies(static, runtime))
    files, written = runtime.write.files_written, runtime.write.bytes_written
    min_files, small = threshold(settings, "small-files-min-count"), threshold(settings, "small-file-bytes")
    harm = False
    if files:
        average = (written or 0) // files
        facts["average_file_bytes"] = average
        harm = files >= min_files and average < small
        verdict = (f"at least {min_files:,} files under {format_bytes(small)} (SPK203's small-files-min-count and "
                   f"small-file-bytes)" if harm else f"not {min_files:,} or more files under {format_bytes(small)}")
        lines.insert(min(1, len(lines)), f"the write made {_count(files, 'file')} averaging {format_bytes(average)} "
                                         f"({format_bytes(written)} in all): {verdict}")
    stage_id = runtime.stage.stage_id if runtime.stage is not None else None
    return m.RunEvidence(run, tuple(lines), facts, harm), stage_id


# ---------------------------------------------------------------- SPK006


def rescan_evidence(finding: Finding, operations: list[dict], runs: tuple[RunProfile, ...],
                    settings: Settings) -> Finding:
    """The finding with, for the newest run that ran two or more of its actions, the input those
    executions scanned each time; unchanged when no run did."""
    places = [finding.location, *(item.location for item in finding.related)]
    for run in runs:  # newest first
        measured = _rescans(places, operations, run, settings)
        if measured is None:
            continue
        lines, facts, harm = measured
        severity = finding.severity.raised() if harm else finding.severity
        evidence = {"runs": [facts], "confirmed": harm, "rescanned": True, "static_severity": finding.severity.label}
        return replace(finding, evidence=(*finding.evidence, *lines), severity=severity,
                       properties={**finding.properties, "evidence": evidence})
    return finding


def _rescans(places: list[Location], operations: list[dict], run: RunProfile,
             settings: Settings) -> tuple[list[str], dict[str, Any], bool] | None:
    tied: dict[int, tuple[SqlExecutionProfile, Location, str]] = {}
    for place in places:
        for execution, how in _executions_at(place, operations, run):
            tied.setdefault(execution.execution_id, (execution, place, how))
    if len(tied) < 2:
        return None
    by_input: dict[str, list[tuple[SqlExecutionProfile, Location, str, ScanProfile]]] = {}
    for execution, place, how in sorted(tied.values(), key=lambda item: item[0].execution_id):
        for key, scan in _stored_inputs(execution).items():
            by_input.setdefault(key, []).append((execution, place, how, scan))
    shared = {key: items for key, items in by_input.items() if len({place for _, place, _, _ in items}) >= 2}
    if not shared:
        return None
    key, items = max(shared.items(), key=lambda item: (len(item[1]), item[0]))
    executions = []
    for execution, place, how, scan in items:
        node = _scan_node(execution.plan, scan)
        read = _bytes_read(run, execution)
        executions.append({
            "sql_execution": execution.execution_id,
            "location": f"{place.path}:{place.line}",
            "matched_by": how,
            "rows": _metric(node, "number of output rows"),
            "files": _metric(node, "number of files read"),
            "files_bytes": _metric(node, "size of files read"),
            "bytes_read": read,
        })
    again = sum((item["bytes_read"] if item["bytes_read"] is not None else item["files_bytes"] or 0)
                for item in executions[1:])
    raise_at = threshold(settings, "rescan-min-bytes")
    harm = again >= raise_at
    facts: dict[str, Any] = {
        "app_id": run.app_id,
        "app_name": run.app_name,
        "input": key,
        "scans": len(executions),
        "sql_executions": [item["sql_execution"] for item in executions],
        "bytes_read_again": again,
        "raise_at_bytes": raise_at,
        "executions": executions,
        "other_shared_inputs": sorted(other for other in shared if other != key),
    }
    lines = [f"{m._run_label(run)}: {_count(len(executions), 'execution')} of these actions scanned "
             f"`{key}` each time:"]
    for item in executions:
        read = f"read {format_bytes(item['bytes_read'])}" if item["bytes_read"] is not None else "read ?"
        files = (f", {_count(item['files'], 'file')} of {format_bytes(item['files_bytes'])}"
                 if item["files"] is not None and item["files_bytes"] is not None else "")
        rows = f", {item['rows']:,} rows" if item["rows"] is not None else ""
        lines.append(f"SQL execution {item['sql_execution']} (the action at {item['location']}, "
                     f"{item['matched_by']}): {read}{rows}{files}")
    verdict = "at or over" if harm else "under"
    lines.append(f"the input was read again for {format_bytes(again)}: {verdict} rescan-min-bytes "
                 f"{format_bytes(raise_at)}")
    return lines, facts, harm


def _executions_at(place: Location, operations: list[dict], run: RunProfile) -> list[tuple[SqlExecutionProfile, str]]:
    """The executions one action or write of the code ran as: by call site, and for a write the
    one its target (or SPK001's matching) ties to it."""
    static = {"location": {"path": place.path, "line": place.line}}
    found = [(execution, f"call site `{execution.description}`") for execution in run.sql_executions
             if m._site_identifies(execution, static)]
    writes = [op for op in operations if op.get("kind") == "write"]
    for op in writes:
        if (op.get("location") or {}).get("path") != place.path or (op.get("location") or {}).get("line") != place.line:
            continue
        runtime = m.match_write(op, writes, run)
        if runtime is not None and all(runtime.execution is not execution for execution, _ in found):
            how = m.matched_by(runtime.execution, op, m._target_identifies(op, runtime))
            found.append((runtime.execution, "its target" if how == "target" else how))
    return found


def _stored_inputs(execution: SqlExecutionProfile) -> dict[str, ScanProfile]:
    """The stored inputs an execution scanned: file scans by their paths, table scans by table
    (a scan of rows the plan holds, or of a range, is no stored input)."""
    found: dict[str, ScanProfile] = {}
    for scan in execution.scans:
        key = scan.table or scan.path
        if key:
            found.setdefault(key, scan)
    return found


def _scan_node(plan: PlanNode | None, scan: ScanProfile) -> PlanNode | None:
    """The plan leaf of a scan: the only leaf of its operator, else the one naming its path or
    table (Spark shortens a long location in the plan text, `spark.sql.maxMetadataStringLength`)."""
    if plan is None:
        return None
    leaves = [node for node in plan.walk() if not node.children and node.name.strip() == scan.operator]
    if len(leaves) == 1:
        return leaves[0]
    named = [node for node in leaves
             if (scan.path and scan.path in node.description) or (scan.table and scan.table in node.name + node.description)]
    return named[0] if len(named) == 1 else None


def _metric(node: PlanNode | None, name: str) -> int | None:
    metric = node.metric(name) if node is not None else None
    return metric.value if metric is not None else None


def _bytes_read(run: RunProfile, execution: SqlExecutionProfile) -> int | None:
    """What the execution's tasks read from storage (task input metrics), when it scanned one
    stored input only (else the figure is not that input's alone)."""
    if len(_stored_inputs(execution)) != 1:
        return None
    return sum(stage.input_bytes.total for stage in run.stages_of(execution))
