"""`sparklint server` end to end: a real LSP client (pytest-lsp's) drives the server over stdio
on copies of the fixtures, the way an editor does."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types  # noqa: E402
from pygls import uris  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, LanguageClient, register_lsp_features  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
LOOKUP = HERE / "spark_jobs" / "lookup"
LOOKUP_LOG = HERE / "data" / "eventlogs" / "lookup"
SERVER = ("-c", "from sparklint.cli import main; main()", "server")
WAIT_SECONDS = 60.0

PY_ICEBERG = "sitevisits/lake/iceberg.py"
PY_CONFIG = "sitevisits/config.py"
SCALA_ICEBERG = "src/main/scala/com/acme/sitevisits/lake/IcebergUtil.scala"
SCALA_CONFIG = "src/main/scala/com/acme/sitevisits/Config.scala"


@dataclass(frozen=True)
class Story:
    """A story fixture: where its SPK001 is, the chain's first and last files, the language."""

    fixture: str
    language: str
    iceberg: str
    config: str
    line: int  # 0-based line of the `coalesce`
    character: int  # 0-based column of `coalesce`
    entry: str  # the file of the chain's entry point
    marker: str  # the comment marker of the language


PYTHON = Story("story_py", "python", PY_ICEBERG, PY_CONFIG, 15, 11, "sitevisits/jobs/hourly_visits.py", "#")
SCALA = Story("story_scala", "scala", SCALA_ICEBERG, SCALA_CONFIG, 14, 7,
              "src/main/scala/com/acme/sitevisits/HourlyJob.scala", "//")
STORIES = [pytest.param(PYTHON, id="python"), pytest.param(SCALA, id="scala")]


# ---------------------------------------------------------------- the client


@dataclass(frozen=True)
class Publication:
    uri: str
    version: int | None
    diagnostics: Sequence[types.Diagnostic]


class Client:
    """pytest-lsp's client, recording every `publishDiagnostics` with its version."""

    def __init__(self, lsp: LanguageClient, root: Path) -> None:
        self.lsp = lsp
        self.root = root
        self.publications: list[Publication] = []
        self.changed = asyncio.Condition()
        self.versions: dict[str, int] = {}

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def open(self, rel: str, language: str, text: str | None = None) -> str:
        uri = self.uri(rel)
        self.versions[uri] = 1
        body = (self.root / rel).read_text(encoding="utf-8") if text is None else text
        self.lsp.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, body)))
        return uri

    def change(self, rel: str, *changes: types.TextDocumentContentChangeEvent) -> int:
        uri = self.uri(rel)
        self.versions[uri] += 1
        self.lsp.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), list(changes)))
        return self.versions[uri]

    def replace_all(self, rel: str, text: str) -> int:
        return self.change(rel, types.TextDocumentContentChangeWholeDocument(text=text))

    def latest(self, uri: str) -> Publication | None:
        for publication in reversed(self.publications):
            if publication.uri == uri:
                return publication
        return None

    async def wait_for(self, uri: str, accept: Callable[[Publication], bool]) -> Publication:
        """The newest publication for `uri` once one is accepted."""

        async def accepted() -> Publication:
            async with self.changed:
                while True:
                    publication = self.latest(uri)
                    if publication is not None and accept(publication):
                        return publication
                    await self.changed.wait()

        return await asyncio.wait_for(accepted(), WAIT_SECONDS)


@asynccontextmanager
async def started(root: Path, server: Sequence[str] = SERVER) -> AsyncIterator[Client]:
    lsp = LanguageClient(converter_factory=default_converter)
    client = Client(lsp, root)

    async def record(_lsp: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        async with client.changed:
            client.publications.append(Publication(params.uri, params.version, params.diagnostics))
            client.changed.notify_all()

    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record  # pygls passes the client to an annotated first parameter
    register_lsp_features(lsp, features)
    await lsp.start_io(sys.executable, *server, cwd=str(root))
    await lsp.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
    ))
    try:
        yield client
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


def copy_story(story: Story, tmp_path: Path, constant_elsewhere: bool = False) -> Path:
    """A copy of the story fixture in a directory whose name needs percent-encoding. With
    `constant_elsewhere` the write parallelism moves from the iceberg file to the config file, so
    an edit of the config file decides the finding in the iceberg file."""
    root = tmp_path / "my projects ü" / story.fixture
    shutil.copytree(FIXTURES / story.fixture, root, ignore=shutil.ignore_patterns(".sparklint_cache", "__pycache__"))
    if constant_elsewhere:
        iceberg, config = root / story.iceberg, root / story.config
        if story is PYTHON:
            iceberg.write_text(iceberg.read_text().replace(
                "WRITE_PARALLELISM = 2\n", "from sitevisits.config import WRITE_PARALLELISM\n"), encoding="utf-8")
            config.write_text(config.read_text() + "\nWRITE_PARALLELISM = 2\n", encoding="utf-8")
        else:
            text = iceberg.read_text().replace("  final val WriteParallelism = 2\n", "")
            text = text.replace("df.coalesce(WriteParallelism)", "df.coalesce(Config.WriteParallelism)")
            text = text.replace("import org.apache", "import com.acme.sitevisits.Config\nimport org.apache", 1)
            iceberg.write_text(text, encoding="utf-8")
            config.write_text(config.read_text().replace(
                "object Config {\n", "object Config {\n  final val WriteParallelism = 2\n"), encoding="utf-8")
    return root


def spk001(publication: Publication) -> list[types.Diagnostic]:
    return [diagnostic for diagnostic in publication.diagnostics if diagnostic.code == "SPK001"]


def has_spk001(publication: Publication) -> bool:
    return bool(spk001(publication))


def project_files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and ".sparklint_cache" not in path.parts}


def position_of(text: str, needle: str) -> types.Position:
    offset = text.index(needle)
    line = text.count("\n", 0, offset)
    return types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))


# ---------------------------------------------------------------- diagnostics


@pytest.mark.asyncio
@pytest.mark.parametrize("story", STORIES)
async def test_open_file_gets_the_diagnostic_with_its_related_chain(story: Story, tmp_path: Path) -> None:
    root = copy_story(story, tmp_path)
    async with started(root) as client:
        uri = client.open(story.iceberg, story.language)
        publication = await client.wait_for(uri, has_spk001)
    assert publication.version == 1
    (diagnostic,) = spk001(publication)
    assert diagnostic.source == "sparklint"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert (diagnostic.range.start.line, diagnostic.range.start.character) == (story.line, story.character)
    assert (diagnostic.range.end.line, diagnostic.range.end.character) == (story.line, story.character + len("coalesce"))
    assert diagnostic.message.startswith("`coalesce(2)` before a sorted write: 2 tasks will sort and write all the data")
    assert "\nhelp: use `repartition(N)`" in diagnostic.message
    related = diagnostic.related_information or []
    paths = [Path(uris.to_fs_path(item.location.uri)) for item in related]
    assert all(path.is_file() for path in paths)  # percent-decoded back to real files under the root
    assert paths[0] == root / story.entry  # the chain from the entry point first
    assert related[0].message.startswith("note: ")
    notes = [item for item in related if item.message.startswith("note: ")]
    assert len({item.location.uri for item in notes}) == 5  # entry point to the write through five files
    assert any(item.message == "related: sorted here by `sortWithinPartitions(...)`" for item in related)
    assert diagnostic.data == {"rule": "SPK001", "line": story.line, "path": story.iceberg, "comment": story.marker}


@pytest.mark.asyncio
@pytest.mark.parametrize("story", STORIES)
async def test_unsaved_edit_in_another_file_withdraws_the_finding_and_undo_brings_it_back(
        story: Story, tmp_path: Path) -> None:
    root = copy_story(story, tmp_path, constant_elsewhere=True)
    on_disk = project_files(root)
    config_text = (root / story.config).read_text(encoding="utf-8")
    async with started(root) as client:
        iceberg = client.open(story.iceberg, story.language)
        config = client.open(story.config, story.language)
        await client.wait_for(iceberg, has_spk001)
        await client.wait_for(config, lambda p: True)

        # an incremental edit of the constant in the other file: 2 -> 64 partitions
        constant = "WRITE_PARALLELISM = 2" if story is PYTHON else "WriteParallelism = 2"
        at = position_of(config_text, constant)
        digit = types.Position(at.line, at.character + len(constant) - 1)
        client.change(story.config, types.TextDocumentContentChangePartial(
            range=types.Range(digit, types.Position(digit.line, digit.character + 1)), text="64"))
        withdrawn = await client.wait_for(iceberg, lambda p: not has_spk001(p))
        assert withdrawn.version == 1  # the iceberg file's own version: it was not edited

        # undo, as a full-text change
        version = client.replace_all(story.config, config_text)
        back = await client.wait_for(iceberg, has_spk001)
        assert back.version == 1
        await client.wait_for(config, lambda p: p.version == version)  # the edited file's newest version
    assert project_files(root) == on_disk  # the server wrote nothing but its cache


@pytest.mark.asyncio
async def test_edits_are_debounced_and_publish_with_the_newest_version(tmp_path: Path) -> None:
    root = copy_story(PYTHON, tmp_path)
    text = (root / PY_ICEBERG).read_text(encoding="utf-8")
    fixed = text.replace("df.coalesce(WRITE_PARALLELISM)", "df.repartition(200)")
    async with started(root) as client:
        uri = client.open(PY_ICEBERG, "python")
        await client.wait_for(uri, has_spk001)
        bodies = {}
        for body in (fixed, text, fixed, text, fixed):  # a burst of edits within the debounce, the last one fixing it
            bodies[client.replace_all(PY_ICEBERG, body)] = body
        last = max(bodies)
        final = await client.wait_for(uri, lambda p: p.version == last)
        assert not has_spk001(final)
        publications = [p for p in client.publications if p.uri == uri]
    versions = [p.version for p in publications]
    assert versions == sorted(set(versions))  # never an older version after a newer one
    for publication in publications[1:]:  # each publication is the findings of exactly its version's text
        assert has_spk001(publication) == (bodies[publication.version] is text)
    assert versions == [1, last]  # debounced: the superseded versions were never published


# ---------------------------------------------------------------- hover and code actions


@pytest.mark.asyncio
async def test_hover_shows_summary_chain_and_run_profile_evidence_read_once(tmp_path: Path) -> None:
    root = tmp_path / "lookup"
    shutil.copytree(LOOKUP, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(f"[tool.sparklint]\nprofile = [{str(LOOKUP_LOG)!r}]\n", encoding="utf-8")
    archive = "lake/archive.py"
    async with started(root) as client:
        uri = client.open(archive, "python")
        await client.wait_for(uri, lambda p: len(spk001(p)) == 2)
        hover = await client.lsp.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(8, 12)))
        assert hover is not None
        text = hover.contents.value
        assert text.startswith("**SPK001** `coalesce-before-write` [warning]: `coalesce(N)` with a small N")
        assert "**Chain**" in text and "1. `lake/archive.py:9` `coalesce(2)` narrows the data to 2 partitions" in text
        assert "**Run-profile evidence**" in text
        assert "- run local-1795612089523 `lookup`: the write ran as 2 tasks on 2 cores" in text
        assert "- wrote 60000 rows, 238.9 KiB" in text

        # more edits: the profile is not read again
        body = (root / archive).read_text(encoding="utf-8")
        last = client.replace_all(archive, body + "\n")
        await client.wait_for(uri, lambda p: p.version == last)
        last = client.replace_all(archive, body)
        await client.wait_for(uri, lambda p: p.version == last)
        reads = [m.message for m in client.lsp.log_messages if "run profile(s)" in m.message]
        assert reads == ["sparklint: read 1 run profile(s)"]

        away = await client.lsp.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 0)))
        assert away is None


def apply_edit(text: str, edit: types.TextEdit) -> str:
    lines = text.splitlines(keepends=True)
    start = sum(len(line) for line in lines[:edit.range.start.line]) + edit.range.start.character
    end = sum(len(line) for line in lines[:edit.range.end.line]) + edit.range.end.character
    return text[:start] + edit.new_text + text[end:]


@pytest.mark.asyncio
@pytest.mark.parametrize("story", STORIES)
async def test_code_action_inserts_the_noqa_that_silences_the_finding(story: Story, tmp_path: Path) -> None:
    root = copy_story(story, tmp_path)
    text = (root / story.iceberg).read_text(encoding="utf-8")
    async with started(root) as client:
        uri = client.open(story.iceberg, story.language)
        publication = await client.wait_for(uri, has_spk001)
        (diagnostic,) = spk001(publication)
        actions = await client.lsp.text_document_code_action_async(types.CodeActionParams(
            types.TextDocumentIdentifier(uri), diagnostic.range, types.CodeActionContext(diagnostics=[diagnostic])))
        (action,) = actions
        assert action.kind == types.CodeActionKind.QuickFix
        assert action.title == f"Suppress SPK001 on this line with `{story.marker} noqa: SPK001`"
        (edit,) = action.edit.changes[uri]
        suppressed = apply_edit(text, edit)
        line = suppressed.splitlines()[story.line]
        assert line.endswith(f"{story.marker} expect: SPK001  {story.marker} noqa: SPK001")

        last = client.replace_all(story.iceberg, suppressed)  # the editor applies the edit
        silenced = await client.wait_for(uri, lambda p: p.version == last)
        assert not has_spk001(silenced)
        assert [d.code for d in silenced.diagnostics if d.code == "SPK100"] == []  # the noqa is used


# ---------------------------------------------------------------- robustness


@pytest.mark.asyncio
async def test_a_file_that_cannot_be_parsed_gets_its_spk000(tmp_path: Path) -> None:
    root = copy_story(PYTHON, tmp_path)
    async with started(root) as client:
        uri = client.open(PY_ICEBERG, "python")
        await client.wait_for(uri, has_spk001)
        broken = "def overwrite_partitions(df, table:\n    pass\n"
        last = client.replace_all(PY_ICEBERG, broken)
        publication = await client.wait_for(uri, lambda p: p.version == last)
        codes = [d.code for d in publication.diagnostics]
        assert codes == ["SPK000"]
        assert publication.diagnostics[0].range.start.line == 0
        assert publication.diagnostics[0].message.startswith("cannot parse this file: ")


FAILING_ENGINE = (
    "-c",
    "import sparklint.engine as engine\n"
    "real = engine.run_check\n"
    "def run_check(paths, settings, progress=None, overlays=None, memory=None):\n"
    "    if any('BOOM' in str(text) for text in (overlays or {}).values()):\n"
    "        raise RuntimeError('boom')\n"
    "    return real(paths, settings, progress, overlays, memory)\n"
    "engine.run_check = run_check\n"
    "from sparklint.server import serve\n"
    "serve()\n",
)


@pytest.mark.asyncio
async def test_an_internal_error_is_logged_and_the_server_goes_on(tmp_path: Path) -> None:
    root = copy_story(PYTHON, tmp_path)
    text = (root / PY_ICEBERG).read_text(encoding="utf-8")
    async with started(root, FAILING_ENGINE) as client:
        uri = client.open(PY_ICEBERG, "python", text + "# BOOM\n")
        for _ in range(200):
            if any("internal error" in m.message for m in client.lsp.log_messages):
                break
            await asyncio.sleep(0.05)
        (logged,) = [m for m in client.lsp.log_messages if "internal error" in m.message]
        assert logged.type == types.MessageType.Error
        assert "RuntimeError: boom" in logged.message
        assert client.latest(uri) is None  # nothing published from the failed run

        last = client.replace_all(PY_ICEBERG, text)
        publication = await client.wait_for(uri, lambda p: p.version == last)
        assert has_spk001(publication)
        server = client.lsp._server
    assert server is not None and server.returncode == 0  # shutdown + exit end the process
