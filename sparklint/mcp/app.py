"""`sparklint mcp`: the Model Context Protocol face of sparklint, over stdio, on the official SDK.

Four tools (`check`, `explain`, `profile`, `rules`) and one resource per rule document
(`sparklint://rules/SPKnnn`). Every tool answers with a result, never a dead server: sparklint's
own errors and unexpected exceptions alike become an error result of one line. The tools only read
(the checked code is never run); the one thing written is sparklint's cache, where `sparklint check`,
`sparklint server` and `sparklint profile` write it.
"""

from __future__ import annotations

import inspect
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, ListRoots, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources import FunctionResource
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, ListRootsResult, TextContent, ToolAnnotations
from pydantic import Field

from sparklint import __version__
from sparklint.cli import UserError, one_line, rule_document_text
from sparklint.mcp import operations

INSTRUCTIONS = """\
sparklint is a static linter for Apache Spark jobs in PySpark and Scala. It analyses the whole
project across files and reports each finding with the call chain from the job's entry point.
Call `check` on the project (or on the files you are looking at), read a finding's `chain` to see
how the code reaches it, and `explain` its rule for why it matters and how to fix it. Pass Spark
event logs or a History Server URL as `profile` to attach what a real run measured (`evidence`);
`profile` alone shows what a run holds. `rules` lists every rule. Nothing here runs the checked
code or changes the project: the only files written are sparklint's own cache."""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# `check` and `profile` may read a History Server named in the call or the configuration.
READS_NETWORK = READ_ONLY.model_copy(update={"open_world_hint": True})

RuleIds = Annotated[list[str] | None, Field(
    description="Rule codes (SPK001), names (coalesce-before-write), code prefixes (SPK0) or ALL.")]
AppName = Annotated[str | None, Field(
    description="Only runs of the Spark application with this name (glob patterns allowed).")]
Last = Annotated[int | None, Field(ge=1, description="Only the newest N runs of each source.")]


# ---------------------------------------------------------------- where relative paths start


def client_roots(context: Context) -> ListRoots | None:
    """Ask the client for its roots when it declares them; the SDK sends `roots/list`."""
    capabilities = context.client_capabilities
    return ListRoots() if capabilities is not None and capabilities.roots is not None else None


ClientRoots = Annotated[ListRootsResult | None, Resolve(client_roots)]


def base_directory(roots: ListRootsResult | None) -> Path:
    """The client's first `file://` root, else the server's working directory."""
    from sparklint.server.convert import uri_to_path

    for root in roots.roots if roots is not None else ():
        path = uri_to_path(str(root.uri))
        if path is not None:
            return path
    return Path.cwd()


# ---------------------------------------------------------------- the tools


def check(
    paths: Annotated[list[str], Field(
        description="Files or directories to report on (default: the project in the working directory). "
                    "The whole project is analysed; findings whose location or chain touches a path are reported.",
    )] = ["."],  # noqa: B006 - pydantic copies the default; it is never mutated
    select: RuleIds = None,
    ignore: RuleIds = None,
    profile: Annotated[list[str] | None, Field(
        description="Spark event logs, event-log directories or History Server URLs whose measurements "
                    "become the findings' evidence. They must be readable.",
    )] = None,
    app_name: AppName = None,
    last: Last = None,
    roots: ClientRoots = None,
) -> CallToolResult:
    """Check a Spark project (PySpark or Scala) for performance problems. Returns the document of
    `sparklint check --output-format json`, also as structured content: `findings`, each with `rule`,
    `severity`, `message`, `location` (path relative to `root`, 1-based line and column), `related`
    places, the `chain` of calls from the job's entry point to the finding, a `fix` hint, `evidence`
    measured by run profiles and a stable `fingerprint`; a `summary`; and `warnings`. Relative paths
    resolve against the client's first root, else the server's working directory. The project's
    configuration ([tool.sparklint] in pyproject.toml, or sparklint.toml) applies. Read-only: the
    code is parsed, never run."""
    return answer(lambda: document_result(*operations.check_document(
        paths, base_directory(roots), select=select, ignore=ignore, profile=profile, app_name=app_name, last=last)))


def explain(
    rule: Annotated[str, Field(description="A rule code (SPK001) or name (coalesce-before-write).")],
) -> CallToolResult:
    """The document of one rule, in Markdown, as `sparklint explain` prints it: what it reports, why it is
    slow, an example with its fix, the rule's options and references."""
    return answer(lambda: text_result(rule_document_text(rule)))


def profile(
    sources: Annotated[list[str], Field(
        min_length=1, description="Spark event logs, event-log directories or History Server URLs.")],
    app_name: AppName = None,
    app_id: Annotated[str | None, Field(description="Only the run with this Spark application id.")] = None,
    last: Last = None,
    roots: ClientRoots = None,
) -> CallToolResult:
    """What Spark run profiles hold, without checking code: the document of `sparklint profile
    --output-format json`, also as structured content: `runs` (application, executors and cores, the
    hottest stages with their measured evidence, SQL executions with their plans and writes) and
    `warnings`. Relative paths resolve against the client's first root, else the server's working
    directory; a History Server is read over the network."""
    return answer(lambda: document_result(*operations.profile_document(
        sources, base_directory(roots), app_name=app_name, app_id=app_id, last=last)))


def rules() -> CallToolResult:
    """Every sparklint rule: code, name, default severity, one-line summary and the URI of its document
    (a resource, also what `explain` returns)."""
    return answer(lambda: document_result(*operations.rule_catalogue()))


RULES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["rules"],
    "properties": {"rules": {"type": "array", "items": {
        "type": "object",
        "required": ["code", "name", "severity", "summary", "document"],
        "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                       "severity": {"enum": ["note", "warning", "error"]}, "summary": {"type": "string"},
                       "document": {"type": "string"}},
    }}},
}


def tools() -> list[Tool]:
    from sparklint.report.json import JSON_SCHEMA

    specs = [
        (check, "Check Spark code", READS_NETWORK, JSON_SCHEMA),
        (explain, "Explain a rule", READ_ONLY, None),
        (profile, "Read Spark run profiles", READS_NETWORK, None),
        (rules, "List the rules", READ_ONLY, RULES_SCHEMA),
    ]
    built = []
    for function, title, hints, output_schema in specs:
        description = " ".join((inspect.getdoc(function) or "").split())  # a paragraph, not docstring lines
        tool = Tool.from_function(function, title=title, description=description, annotations=hints)
        # A tool returning its own CallToolResult publishes no schema unless given one.
        tool.fn_metadata.output_schema = output_schema
        built.append(tool)
    return built


# ---------------------------------------------------------------- results


def answer(produce: Callable[[], CallToolResult]) -> CallToolResult:
    """The result of `produce`, or an error result of one line, whatever it raised."""
    try:
        return produce()
    except UserError as error:
        return error_result(str(error))
    except Exception as error:  # noqa: BLE001 - a crash costs the client one call, never the server
        traceback.print_exc(file=sys.stderr)
        return error_result(f"internal error: {type(error).__name__}: {error}")


def document_result(text: str, value: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=value)


def text_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)])


def error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=one_line(message))], is_error=True)


async def one_line_errors(context: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """The SDK's own tool errors (arguments that fail the schema, an unknown tool) on one line too.
    The result reaching a middleware is already the wire dict."""
    result = await call_next(context)
    if context.method != "tools/call" or not isinstance(result, dict) or not result.get("isError"):
        return result
    content = [{**block, "text": one_line(block["text"])} if block.get("type") == "text" else block
               for block in result.get("content", [])]
    return {**result, "content": content}


# ---------------------------------------------------------------- resources


def rule_resources() -> list[FunctionResource]:
    from sparklint.catalogue import all_rules

    return [FunctionResource.from_function(document_reader(rule.code), uri=operations.rule_uri(rule.code),
                                           name=f"{rule.code} {rule.slug}", title=f"{rule.code} {rule.slug}",
                                           description=rule.summary, mime_type="text/markdown")
            for rule in all_rules()]


def document_reader(code: str) -> Callable[[], str]:
    def read() -> str:
        try:
            return rule_document_text(code)
        except UserError as error:
            raise ResourceError(one_line(str(error))) from None

    return read


# ---------------------------------------------------------------- the server


def build_server() -> MCPServer:
    return MCPServer("sparklint", title="sparklint", version=__version__, instructions=INSTRUCTIONS,
                     tools=tools(), resources=rule_resources(), middleware=[one_line_errors],
                     log_level="WARNING")


def serve() -> int:
    """Serve MCP on stdin/stdout until the client closes the stream."""
    build_server().run("stdio")
    return 0
