"""Every rule document's examples are tests, so the documentation cannot lie.

How examples are written in rules/SPKnnn-<slug>.md:

* A fenced block whose info string is `<language> <kind>` is an example: language `python` or
  `scala`, kind `bad` or `good`. Other fenced blocks (```toml, ```text, plain ```) are prose.
* A line that must get a finding ends with `# expect: SPK001` (Python) or `// expect: SPK001`
  (Scala); several codes are separated by commas. Every finding of the example must be expected
  and every expectation must be found (file, line, rule). A `good` block has no markers and must
  produce no finding at all; a `bad` block has at least one marker.
* A block may name its file: ```` ```python bad path=jobs/main.py ````. Consecutive blocks of the
  same language and kind that all carry `path=` form ONE multi-file project (so a chain across
  files can be shown); a block without `path=` is a project of its own with one file,
  `example.py` or `Example.scala`.

Each project is written into a tmp dir with an empty pyproject.toml as root marker and checked
with `sparklint check --output-format json` through the real CLI. Scala examples are skipped
while `sparklint.frontends.scala` does not exist. Every document must also carry ruff's headings.

Each document has a `## Fix` section after *Use instead*, opening with `**Safe fix**`,
`**Unsafe fix**` or `**No fix**`. A fix is shown by ```` ```python before ```` blocks (one project,
grouped by `path=` as above) followed by ```` ```python after ```` blocks: the files the fix
changes, as `sparklint check --fix` (with `--unsafe-fixes` for an unsafe fix) leaves them. The test
runs that on the before project and compares every file, checks that `--fix` alone changes nothing
when the fix is unsafe, that the fixed Python compiles and the fixed Scala parses, and that the
fixed project passes `sparklint check`.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT, needs_engine, run_cli

from sparklint.docs import RUFF_HEADINGS, document_headings
from sparklint.catalogue import all_rules, runtime_rules

RULES_DIR = REPO_ROOT / "rules"
FENCE_OPEN = re.compile(r"^(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)$")
EXAMPLE_INFO = re.compile(r"^(?P<language>python|scala)[ \t]+(?P<kind>bad|good)(?:[ \t]+path=(?P<path>\S+))?[ \t]*$")
EXPECT = {"python": re.compile(r"#\s*expect:\s*(?P<codes>SPK\d{3}(?:\s*,\s*SPK\d{3})*)"),
          "scala": re.compile(r"//\s*expect:\s*(?P<codes>SPK\d{3}(?:\s*,\s*SPK\d{3})*)")}
DEFAULT_FILE = {"python": "example.py", "scala": "Example.scala"}


@dataclass(frozen=True, slots=True)
class Block:
    document: str
    line: int  # where the fence opens
    language: str
    kind: str
    path: str | None
    code: str


@dataclass(frozen=True, slots=True)
class Example:
    document: str
    line: int
    language: str
    kind: str
    files: tuple[tuple[str, str], ...]  # (relative path, source)

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}:{self.language}-{self.kind}"

    def expected(self) -> set[tuple[str, int, str]]:
        marker = EXPECT[self.language]
        return {
            (path, number, code.strip())
            for path, source in self.files
            for number, text in enumerate(source.splitlines(), start=1)
            for match in [marker.search(text)] if match
            for code in match["codes"].split(",")
        }


def fenced_blocks(document: Path) -> list[Block]:
    blocks, lines, index = [], document.read_text(encoding="utf-8").splitlines(), 0
    while index < len(lines):
        opening = FENCE_OPEN.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, start = opening["fence"], index
        index += 1
        body = []
        while index < len(lines) and not lines[index].startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        example = EXAMPLE_INFO.match(opening["info"].strip())
        if example:
            blocks.append(Block(document.name, start + 1, example["language"], example["kind"], example["path"],
                                "\n".join(body) + "\n"))
    return blocks


def examples_of(document: Path) -> list[Example]:
    examples: list[Example] = []
    group: list[Block] = []

    def close_group() -> None:
        if group:
            first = group[0]
            examples.append(Example(first.document, first.line, first.language, first.kind,
                                    tuple((block.path, block.code) for block in group)))
            group.clear()

    for block in fenced_blocks(document):
        if block.path is None:
            close_group()
            examples.append(Example(block.document, block.line, block.language, block.kind,
                                    ((DEFAULT_FILE[block.language], block.code),)))
        elif group and (group[0].language, group[0].kind) != (block.language, block.kind):
            close_group()
            group.append(block)
        else:
            group.append(block)
    close_group()
    return examples


FIX_INFO = re.compile(r"^(?P<language>python|scala)[ \t]+(?P<kind>before|after)(?:[ \t]+path=(?P<path>\S+))?[ \t]*$")
FIX_SAFETY = re.compile(r"^\*\*(?P<safety>Safe|Unsafe|No) fix\*\*", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class FixExample:
    document: str
    line: int
    language: str
    before: tuple[tuple[str, str], ...]  # (relative path, source)
    after: tuple[tuple[str, str], ...]  # the files the fix changes, as it leaves them

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}:{self.language}-fix"


def fix_section(document: Path) -> str:
    text = document.read_text(encoding="utf-8")
    _, found, rest = text.partition("\n## Fix\n")
    return rest.split("\n## ", 1)[0] if found else ""


def fix_safety(document: Path) -> str | None:
    match = FIX_SAFETY.search(fix_section(document))
    return match["safety"].lower() if match else None


def fix_examples_of(document: Path) -> list[FixExample]:
    """Each run of `before` blocks and the `after` blocks that follow it."""
    examples: list[FixExample] = []
    lines = document.read_text(encoding="utf-8").splitlines()
    pending: dict[str, list] = {"before": [], "after": []}
    start = language = None

    def close() -> None:
        if pending["before"]:
            examples.append(FixExample(document.name, start, language, tuple(pending["before"]), tuple(pending["after"])))
        pending["before"], pending["after"] = [], []

    index = 0
    while index < len(lines):
        opening = FENCE_OPEN.match(lines[index])
        info = FIX_INFO.match(opening["info"].strip()) if opening else None
        fence_line = index + 1
        index += 1
        if not opening:
            continue
        body = []
        while index < len(lines) and not lines[index].startswith(opening["fence"]):
            body.append(lines[index])
            index += 1
        index += 1
        if info is None:
            continue
        if info["kind"] == "before" and pending["after"]:
            close()
        if not pending["before"]:
            start, language = fence_line, info["language"]
        pending[info["kind"]].append((info["path"] or DEFAULT_FILE[info["language"]], "\n".join(body) + "\n"))
    close()
    return examples


DOCUMENTS = sorted(RULES_DIR.glob("SPK*.md"))
EXAMPLES = [example for document in DOCUMENTS for example in examples_of(document)]
SCALA_FRONT_END = importlib.util.find_spec("sparklint.frontends.scala") is not None


def test_every_rule_has_a_document() -> None:
    names = {document.name for document in DOCUMENTS}
    missing = [f"{rule.code}-{rule.slug}.md" for rule in all_rules() if f"{rule.code}-{rule.slug}.md" not in names]
    assert missing == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.stem)
def test_document_has_ruffs_headings_in_order(document: Path) -> None:
    headings = [heading for heading in document_headings(document.read_text(encoding="utf-8")) if heading in RUFF_HEADINGS]
    assert headings == list(RUFF_HEADINGS)


RUNTIME_CODES = {rule.code for rule in runtime_rules()}


def _is_runtime_rule(document: Path) -> bool:
    return document.name.split("-")[0] in RUNTIME_CODES


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if not _is_runtime_rule(d)], ids=lambda path: path.stem)
def test_document_has_a_bad_and_a_good_example(document: Path) -> None:
    kinds = {example.kind for example in examples_of(document)}
    assert kinds == {"bad", "good"}


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if _is_runtime_rule(d)], ids=lambda path: path.stem)
def test_runtime_rule_document_shows_code_and_what_the_run_measured(document: Path) -> None:
    """A runtime rule reports what an event log measured, so its example is code plus the
    finding it gets from a run (checked end to end by the run-profile tests), not a static case."""
    text = document.read_text(encoding="utf-8")
    assert re.search(r"^```(python|scala)\s*$", text, re.MULTILINE), "an example of the code that ran"
    assert re.search(r"^```text\s*$", text, re.MULTILINE), "the finding a run produces"
    assert document.name.split("-")[0] in text


@needs_engine
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.id)
def test_example(example: Example, tmp_path: Path) -> None:
    if example.language == "scala" and not SCALA_FRONT_END:
        pytest.skip("sparklint.frontends.scala does not exist yet: Scala examples cannot be checked")
    expected = example.expected()
    if example.kind == "good":
        assert expected == set(), "a good example must not carry `expect:` markers"
    else:
        assert expected, "a bad example must mark at least one line with `expect: SPKnnn`"
    project = tmp_path / "example"
    project.mkdir()
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    for relative, source in example.files:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    run = run_cli("check", "--output-format", "json", "--exit-zero", "--config", str(project / "pyproject.toml"),
                  str(project))
    assert run.exit_code == 0, run.stderr
    found = {(f["location"]["path"], f["location"]["line"], f["rule"]) for f in run.json()["findings"]}
    assert found == expected


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.stem)
def test_document_has_a_fix_section_after_use_instead(document: Path) -> None:
    headings = document_headings(document.read_text(encoding="utf-8"))
    assert "Fix" in headings and headings[headings.index("Fix") - 1] == "Use instead"
    safety = fix_safety(document)
    assert safety in ("safe", "unsafe", "no"), "the section opens with **Safe fix**, **Unsafe fix** or **No fix**"
    examples = fix_examples_of(document)
    if safety == "no":
        assert examples == []
    else:
        assert examples and all(example.after for example in examples), "a fix is shown by before and after blocks"


FIX_EXAMPLES = [pytest.param(example, fix_safety(document), id=example.id)
                for document in DOCUMENTS for example in fix_examples_of(document)]


def write_example_project(root: Path, files) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    for relative, source in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def project_files(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*")) if path.suffix in (".py", ".scala")}


@needs_engine
@pytest.mark.parametrize(("example", "safety"), FIX_EXAMPLES)
def test_fix_example(example: FixExample, safety: str, tmp_path: Path) -> None:
    project = write_example_project(tmp_path / "example", example.before)
    before = project_files(project)
    check = ("check", "--no-cache", "--exit-zero", "-q", "--config", str(project / "pyproject.toml"))
    if safety == "unsafe":
        run = run_cli(*check, "--fix", str(project))
        assert run.exit_code == 0, run.stderr
        assert project_files(project) == before, "an unsafe fix is applied only with --unsafe-fixes"
    flags = ("--fix", "--unsafe-fixes") if safety == "unsafe" else ("--fix",)
    run = run_cli(*check, *flags, str(project))
    assert run.exit_code == 0, run.stderr
    assert "not fixed" not in run.stderr
    assert project_files(project) == {**before, **dict(example.after)}
    for relative, source in example.after:
        if relative.endswith(".py"):
            compile(source, relative, "exec")
        else:
            from sparklint.fixes.scala import parse, syntax_errors

            assert syntax_errors(parse(source.encode("utf-8"))) == 0
    clean = run_cli("check", "--no-cache", "--output-format", "json", "--config", str(project / "pyproject.toml"),
                    str(project))
    assert clean.exit_code == 0 and clean.json()["findings"] == [], clean.stdout


def test_examples_are_grouped_into_projects(tmp_path: Path) -> None:
    """The grouping rules above, on a document written here."""
    document = tmp_path / "SPK999-demo.md"
    document.write_text(
        "## Example\n"
        "```python bad path=jobs/main.py\nfrom lake import write\nwrite(df)\n```\n"
        "```python bad path=lake.py\ndef write(df):\n    df.coalesce(2).write.parquet('p')  # expect: SPK001\n```\n"
        "```python good\nx = 1\n```\n"
        "```toml\n[tool.sparklint]\n```\n"
        "```scala bad\ndf.coalesce(2).write.parquet(p) // expect: SPK001, SPK003\n```\n",
        encoding="utf-8",
    )
    examples = examples_of(document)
    assert [(e.language, e.kind, [path for path, _ in e.files]) for e in examples] == [
        ("python", "bad", ["jobs/main.py", "lake.py"]),
        ("python", "good", ["example.py"]),
        ("scala", "bad", ["Example.scala"]),
    ]
    assert examples[0].expected() == {("lake.py", 2, "SPK001")}
    assert examples[2].expected() == {("Example.scala", 1, "SPK001"), ("Example.scala", 1, "SPK003")}


README = REPO_ROOT / "README.md"
README_RULE_ROW = re.compile(r"^\|\s*(?P<code>SPK\d{3})\s*\|\s*`(?P<slug>[a-z-]+)`\s*\|[^|]*\|\s*(?P<severity>\w+)\s*\|$")


def test_readme_rule_table_matches_the_catalogue() -> None:
    rows = [README_RULE_ROW.match(line) for line in README.read_text(encoding="utf-8").splitlines()]
    table = [(row["code"], row["slug"], row["severity"]) for row in rows if row]
    assert table == [(rule.code, rule.slug, rule.severity.label) for rule in all_rules()]


def test_readme_documents_every_configuration_key() -> None:
    from sparklint.config import TOP_LEVEL_KEYS

    text = README.read_text(encoding="utf-8")
    assert [key for key in TOP_LEVEL_KEYS if f"| `{key}` |" not in text] == []
