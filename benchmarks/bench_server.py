"""Time `sparklint server` the way an editor sees it: from a one-line `didChange` to the
`publishDiagnostics` of that version.

    python benchmarks/bench_server.py DIR --edits 5

The server runs as `sparklint server` in a subprocess, driven over stdio by pytest-lsp's client
(pygls). The benchmark opens the project's most imported file (the module whose name appears in
the most import lines), waits for its first diagnostics (the cold figure: the parse cache as it
is), then sends `--edits` one-line incremental changes and reports, for each, the time until the diagnostics of exactly that version arrive. The
edits are a comment line appended and removed in turn (`--edit comment`: the code is unchanged),
or a statement inserted at the top of the first function body and removed in turn (`--edit body`:
code changes and every position below it moves). The
figures include the server's debounce (printed) and are wall-clock on this machine; the same run
also times one `sparklint check` of DIR afterwards for comparison. The server writes its parse cache into
DIR/.sparklint_cache (or the configured cache-dir), as `check` does: point it at a copy of a
corpus you do not want touched.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from lsprotocol import types
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, LanguageClient, register_lsp_features
from pygls.protocol import default_converter

SKIPPED = {".git", ".sparklint_cache", "__pycache__", "target", "build", ".venv", "venv", "node_modules"}
NUMBER_IN_CALL = re.compile(r"(?<=\()\d+(?=[,)])")
IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ]+)|import\s+([\w.{}, ]+))", re.MULTILINE)


def source_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.suffix in (".py", ".scala") and path.is_file()
                  and not SKIPPED.intersection(path.relative_to(root).parts))


def most_imported(files: list[Path]) -> Path:
    """The file whose module name (its stem) the most import lines mention."""
    counts: Counter[str] = Counter()
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in IMPORT.finditer(text):
            for word in re.findall(r"\w+", " ".join(part or "" for part in match.groups())):
                counts[word] += 1
    return max(files, key=lambda path: (counts[path.stem], path.stat().st_size, str(path)))


def body_edit(text: str, suffix: str) -> tuple[int, str, str]:
    """A one-line code edit: (line, the line's new text, its old text). A statement inserted at
    the top of the first function body with braces or a colon (the old text is empty), else the
    first number passed to a call below a `def` made one larger, in place."""
    lines = text.split("\n")
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("def ") and stripped.endswith(":" if suffix == ".py" else "{"):
            indent = line[: len(line) - len(line.lstrip())] + ("    " if suffix == ".py" else "  ")
            statement = "_bench_edit = 1" if suffix == ".py" else "val benchEdit = 1"
            return number + 1, f"{indent}{statement}\n", ""
    seen_def = False
    for number, line in enumerate(lines):
        seen_def = seen_def or line.strip().startswith("def ")
        match = NUMBER_IN_CALL.search(line) if seen_def else None
        if match:
            edited = line[: match.start()] + str(int(match.group()) + 1) + line[match.end():]
            return number, edited + "\n", line + "\n"
    raise SystemExit("bench_server.py: the edited file has no function body to edit")


async def bench(root: Path, edits: int, timeout: float, kind: str = "comment", edited_file: Path | None = None) -> dict:
    files = source_files(root)
    target = (root / edited_file).resolve() if edited_file is not None else most_imported(files)
    lines = sum(path.read_text(encoding="utf-8", errors="replace").count("\n") for path in files)
    arrived: dict[int, float] = {}
    signal = asyncio.Event()
    uri = target.as_uri()

    async def on_publish(_client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        if params.uri == uri and params.version is not None:
            arrived.setdefault(params.version, time.perf_counter())
            signal.set()

    client = LanguageClient(converter_factory=default_converter)
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: on_publish})
    await client.start_io(sys.executable, "-c", "from sparklint.cli import main; main()", "server", cwd=str(root))
    await client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))

    async def until(version: int) -> None:
        deadline = time.perf_counter() + timeout
        while version not in arrived:
            signal.clear()
            await asyncio.wait_for(signal.wait(), max(deadline - time.perf_counter(), 0.001))

    text = target.read_text(encoding="utf-8", errors="replace")
    last_line = text.count("\n")
    comment = "//" if target.suffix == ".scala" else "#"
    sent = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri, "scala" if target.suffix == ".scala" else "python", 1, text)))
    await until(1)
    cold = arrived[1] - sent
    timings = []
    if kind == "body":
        edit_line, edited, original = body_edit(text, target.suffix)
    else:
        edit_line, edited, original = last_line, "", ""
    for number in range(edits):
        version = number + 2
        at = types.Position(edit_line, 0)
        # the edit, then undone; an inserted line (nothing there before) is removed again
        new_text = (edited or f"{comment} edit {number}\n") if number % 2 == 0 else original
        old_end = types.Position(edit_line + 1, 0) if (number % 2 == 1 or original) else at
        change = types.TextDocumentContentChangePartial(range=types.Range(at, old_end), text=new_text)
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        await until(version)
        timings.append(arrived[version] - sent)
    await client.shutdown_session()
    await client.stop()
    return {"root": str(root), "files": len(files), "lines": lines, "target": str(target.relative_to(root)),
            "open_seconds": cold, "edit_seconds": timings}


def time_check(root: Path) -> float:
    started = time.perf_counter()
    # From the project's folder, as the server runs: `python -c` puts the working directory first
    # on sys.path, and a sparklint checkout there would be imported instead of the one measured.
    subprocess.run([sys.executable, "-c", "from sparklint.cli import main; main()", "check", "--exit-zero", "-q",
                    "--output-format", "json", str(root)], stdout=subprocess.DEVNULL, check=False, cwd=str(root))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for one publication")
    parser.add_argument("--edit", choices=("comment", "body"), default="comment",
                        help="what each edit changes (default: a comment line)")
    parser.add_argument("--file", type=Path, default=None,
                        help="the file to open and edit, relative to ROOT (default: the most imported one)")
    args = parser.parse_args()
    from sparklint.server.app import DEBOUNCE_SECONDS

    result = asyncio.run(bench(args.root.resolve(), args.edits, args.timeout, args.edit, args.file))
    check_seconds = time_check(args.root.resolve())
    edits = result["edit_seconds"]
    print(f"project      {result['root']}: {result['files']} files, {result['lines']} lines")
    print(f"edited file  {result['target']}{'' if args.file else ' (most imported)'}")
    print(f"didOpen -> publishDiagnostics          {result['open_seconds']:.3f} s")
    print(f"didChange -> publishDiagnostics        median {statistics.median(edits):.3f} s, "
          f"min {min(edits):.3f} s, max {max(edits):.3f} s over {len(edits)} one-line {args.edit} edits "
          f"(includes the {DEBOUNCE_SECONDS * 1000:.0f} ms debounce)")
    print(f"sparklint check, same run              {check_seconds:.3f} s (with the parse cache the server left)")


if __name__ == "__main__":
    main()
