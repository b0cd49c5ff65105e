"""`sparklint mcp` end to end: the MCP SDK's own client launches the server over stdio, the way an
AI assistant does, and calls its tools and reads its resources."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from conftest import REPO_ROOT, STORY_PY_CHAIN, needs_engine, run_cli

pytest.importorskip("mcp")

import mcp.types as types  # noqa: E402
from mcp import Client, ClientSession, StdioServerParameters, stdio_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

from sparklint.catalogue import all_rules  # noqa: E402
from sparklint.docs import rule_document  # noqa: E402
from sparklint.report.json import JSON_SCHEMA  # noqa: E402

pytestmark = needs_engine

HERE = Path(__file__).resolve().parent
SERVER_ARGS = ["-c", "from sparklint.cli import main; main()", "mcp"]
LOOKUP_LOG = HERE / "data" / "eventlogs" / "lookup"
LOOKUP_LOG_FILE = "local-1795612089523.zstd"
TOOLS = {"check", "explain", "profile", "rules"}
HANDSHAKE_PROTOCOL = "2025-11-25"  # what ClientSession.initialize() negotiates
MODERN_PROTOCOL = "2026-07-28"


class Server:
    """A client session on a `sparklint mcp` subprocess."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, tool: str, arguments: dict | None = None) -> types.CallToolResult:
        return await self.session.call_tool(tool, arguments or {})


class StrayOutput(logging.Handler):
    """What the SDK's stdio client could not parse as a protocol message: anything else on stdout."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@asynccontextmanager
async def started(cwd: Path, log: Path, roots: list[Path] | None = None) -> AsyncIterator[Server]:
    """`sparklint mcp` run from `cwd`, its stderr in `log`; a client offering `roots` when given.
    Nothing but protocol messages may reach stdout, and nothing may crash on the way."""
    stray = StrayOutput()
    client_log = logging.getLogger("mcp.client.stdio")
    client_log.addHandler(stray)
    parameters = StdioServerParameters(command=sys.executable, args=SERVER_ARGS, cwd=cwd)
    try:
        with log.open("w", encoding="utf-8") as errlog:
            async with stdio_client(parameters, errlog=errlog) as (read, write):
                async with ClientSession(read, write, list_roots_callback=roots_answer(roots) if roots is not None
                                         else None) as session:
                    await session.initialize()
                    yield Server(session)
    finally:
        client_log.removeHandler(stray)
    assert stray.messages == []
    assert "Traceback" not in log.read_text(encoding="utf-8")


def roots_answer(roots: list[Path]):
    """A client's `roots/list` callback offering `roots`."""
    async def list_roots(_context: object) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=root.as_uri()) for root in roots])

    return list_roots


def copy_project(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".sparklint_cache", "__pycache__"))
    return target


def project_files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and ".sparklint_cache" not in path.parts}


def chain(finding: dict) -> list[tuple[str, int]]:
    return [(step["location"]["path"], step["location"]["line"]) for step in finding["chain"]]


def by_rule(report: dict) -> dict[str, dict]:
    return {finding["rule"]: finding for finding in report["findings"]}


def only_text(result: types.CallToolResult) -> str:
    (block,) = result.content
    assert isinstance(block, types.TextContent)
    return block.text


def without_timing(report: dict) -> dict:
    return {**report, "summary": {**report["summary"], "seconds": 0}}


# ---------------------------------------------------------------- tools and schemas


@pytest.mark.asyncio
async def test_lists_four_read_only_tools_with_schemas_and_descriptions(tmp_path: Path) -> None:
    async with started(tmp_path, tmp_path / "stderr.log") as server:
        listed = {tool.name: tool for tool in (await server.session.list_tools()).tools}
    assert set(listed) == TOOLS
    check = listed["check"]
    assert set(check.input_schema["properties"]) == {"paths", "select", "ignore", "profile", "app_name", "last"}
    assert check.input_schema["properties"]["paths"]["default"] == ["."]
    assert check.input_schema.get("required", []) == []
    assert check.output_schema == JSON_SCHEMA
    assert listed["explain"].input_schema["required"] == ["rule"]
    assert set(listed["profile"].input_schema["properties"]) == {"sources", "app_name", "app_id", "last"}
    assert listed["profile"].input_schema["required"] == ["sources"]
    assert listed["rules"].input_schema["properties"] == {}
    for tool in listed.values():
        assert tool.description and tool.title
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert "roots" not in tool.input_schema["properties"]  # filled from the client, not by the model


# ---------------------------------------------------------------- check


@pytest.mark.asyncio
async def test_check_reports_the_story_coalesce_with_its_five_file_chain_as_check_does(tmp_path: Path) -> None:
    project = copy_project(REPO_ROOT / "fixtures" / "story_py", tmp_path / "story_py")
    before = project_files(project)
    async with started(tmp_path, tmp_path / "stderr.log") as server:
        result = await server.call("check", {"paths": ["story_py"]})
    assert not result.is_error
    report = result.structured_content  # the client validated it against the published JSON_SCHEMA
    assert report is not None and report["root"] == str(project)
    finding = by_rule(report)["SPK001"]
    assert (finding["location"]["path"], finding["location"]["line"]) == ("sitevisits/lake/iceberg.py", 16)
    assert chain(finding) == STORY_PY_CHAIN
    assert len({path for path, _ in chain(finding)}) == 5
    assert finding["fix"] and finding["fingerprint"] and finding["related"]

    cli = run_cli("check", "--output-format", "json", "--exit-zero", "--no-cache", "story_py", cwd=tmp_path)
    assert without_timing(cli.json()) == without_timing(report)
    assert without_timing(json.loads(only_text(result))) == without_timing(report)
    # Read-only: the project is as it was; what the check wrote is its cache, as `sparklint check` does.
    assert project_files(project) == before
    assert (project / ".sparklint_cache").is_dir()


@pytest.mark.asyncio
async def test_check_with_the_committed_event_log_returns_the_measured_evidence(tmp_path: Path) -> None:
    project = copy_project(HERE / "spark_jobs" / "lookup", tmp_path / "lookup")
    (project / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
    async with started(project, tmp_path / "stderr.log") as server:
        result = await server.call("check", {"profile": [str(LOOKUP_LOG)]})
    assert not result.is_error
    report = result.structured_content
    assert report["warnings"] == []
    findings = {(item["rule"], item["location"]["path"], item["location"]["line"]): item for item in report["findings"]}
    join = findings["SPK002", "lookup_job.py", 46]  # found only with the run's measurements
    assert join["evidence"][0].endswith("right side 640 B (40 rows)")
    assert "measured small (640 B, 40 rows)" in join["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("protocol", [HANDSHAKE_PROTOCOL, MODERN_PROTOCOL])
async def test_relative_paths_resolve_against_the_clients_first_root(protocol: str, tmp_path: Path) -> None:
    """On a handshake-era session the server asks `roots/list`; from 2026-07-28 the SDK's client
    answers the same question through the tool call's input-required round."""
    project = copy_project(REPO_ROOT / "fixtures" / "story_py", tmp_path / "story_py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    arguments = {"paths": ["sitevisits/lake"], "select": ["SPK001"]}
    if protocol == HANDSHAKE_PROTOCOL:
        async with started(elsewhere, tmp_path / "stderr.log", roots=[project, elsewhere]) as server:
            assert server.session.protocol_version == protocol
            result = await server.call("check", arguments)
    else:
        parameters = StdioServerParameters(command=sys.executable, args=SERVER_ARGS, cwd=elsewhere)
        with (tmp_path / "stderr.log").open("w", encoding="utf-8") as errlog:
            async with Client(stdio_client(parameters, errlog=errlog), mode=protocol,
                              list_roots_callback=roots_answer([project, elsewhere])) as client:
                assert client.session.protocol_version == protocol
                result = await client.call_tool("check", arguments)
    assert not result.is_error, only_text(result)
    report = result.structured_content
    assert report["root"] == str(project)
    assert [finding["rule"] for finding in report["findings"]] == ["SPK001"]


@pytest.mark.asyncio
async def test_without_client_roots_relative_paths_resolve_against_the_working_directory(tmp_path: Path) -> None:
    project = copy_project(REPO_ROOT / "fixtures" / "story_py", tmp_path / "story_py")
    async with started(project / "sitevisits", tmp_path / "stderr.log") as server:
        result = await server.call("check", {"paths": ["lake"], "select": ["SPK001"]})
    assert result.structured_content["root"] == str(project)  # the project root is still found upward
    assert [finding["rule"] for finding in result.structured_content["findings"]] == ["SPK001"]


# ---------------------------------------------------------------- explain, rules, resources


@pytest.mark.asyncio
async def test_explain_rules_and_the_rule_documents_as_resources(tmp_path: Path) -> None:
    catalogue = all_rules()
    spk001 = next(rule for rule in catalogue if rule.code == "SPK001")
    async with started(tmp_path, tmp_path / "stderr.log") as server:
        by_slug = await server.call("explain", {"rule": "coalesce-before-write"})
        by_code = await server.call("explain", {"rule": "spk001"})
        listing = await server.call("rules")
        resources = (await server.session.list_resources()).resources
        read = await server.session.read_resource("sparklint://rules/SPK001")
    assert not by_slug.is_error and only_text(by_slug) == only_text(by_code) == rule_document(spk001)

    assert not listing.is_error
    rules = listing.structured_content["rules"]
    assert [rule["code"] for rule in rules] == [rule.code for rule in catalogue]
    assert rules[1] == {"code": "SPK001", "name": "coalesce-before-write", "severity": spk001.severity.label,
                        "summary": spk001.summary, "document": "sparklint://rules/SPK001"}

    assert [str(resource.uri) for resource in resources] == [f"sparklint://rules/{rule.code}" for rule in catalogue]
    assert all(resource.mime_type == "text/markdown" and resource.description for resource in resources)
    (contents,) = read.contents
    assert isinstance(contents, types.TextResourceContents)
    assert contents.text == rule_document(spk001) and contents.mime_type == "text/markdown"


@pytest.mark.asyncio
async def test_profile_prints_what_the_event_log_holds(tmp_path: Path) -> None:
    shutil.copytree(LOOKUP_LOG, tmp_path / "logs" / "lookup")
    async with started(tmp_path, tmp_path / "stderr.log") as server:
        result = await server.call("profile", {"sources": ["logs/lookup"], "last": 1})
    assert not result.is_error
    (run,) = result.structured_content["runs"]
    assert run["app_name"] == "lookup" and run["hottest_stages"]
    assert run["source"] == str(tmp_path / "logs" / "lookup" / LOOKUP_LOG_FILE)  # resolved against the cwd
    cli = run_cli("profile", "--output-format", "json", "--no-cache", str(tmp_path / "logs" / "lookup"), "--last", "1")
    assert result.structured_content == cli.json()
    assert json.loads(only_text(result)) == cli.json()


# ---------------------------------------------------------------- errors


@pytest.mark.asyncio
async def test_errors_are_one_line_results_and_the_session_keeps_serving(tmp_path: Path) -> None:
    project = copy_project(REPO_ROOT / "fixtures" / "story_py", tmp_path / "story_py")
    garbage = tmp_path / "garbage.log"
    garbage.write_text("not an event log\nat all\n", encoding="utf-8")
    calls = [
        ("check", {"paths": ["no/such/dir"]}, "path 'no/such/dir' does not exist"),
        ("check", {"paths": ["story_py"], "select": ["SPK999"]}, "unknown rule `SPK999`"),
        ("check", {"paths": ["story_py"], "profile": ["garbage.log"]}, "garbage.log"),
        ("check", {"paths": ["story_py"], "last": 0}, "greater than or equal to 1"),
        ("explain", {"rule": "SPK999"}, "unknown rule `SPK999`"),
        ("profile", {"sources": ["garbage.log"]}, "not a plain event log"),
        ("profile", {"sources": ["missing.log"]}, "no such file or directory"),
    ]
    async with started(tmp_path, tmp_path / "stderr.log") as server:
        for tool, arguments, expected in calls:
            result = await server.call(tool, arguments)
            assert result.is_error, (tool, arguments)
            message = only_text(result)
            assert expected in message and "\n" not in message, message
        with pytest.raises(MCPError, match="sparklint://rules/SPK999"):
            await server.session.read_resource("sparklint://rules/SPK999")
        after = await server.call("check", {"paths": ["story_py"], "select": ["SPK001"]})
    assert not after.is_error
    assert by_rule(after.structured_content)["SPK001"]["location"]["path"] == "sitevisits/lake/iceberg.py"
    assert project.is_dir()


def test_an_unexpected_exception_is_a_one_line_error_result() -> None:
    from sparklint.mcp.app import answer

    def crash() -> types.CallToolResult:
        raise RuntimeError("boom\nsecond line")

    result = answer(crash)
    assert result.is_error
    assert only_text(result) == "internal error: RuntimeError: boom second line"
