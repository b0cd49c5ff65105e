"""Re-checks after an edit analyse again only the groups of roots that read edited code, and
report exactly what a run without the cache reports.

Every fixture is edited the way a developer edits: a number or a string inside a function body
changes (the file keeps its interface), or a function is added (it does not). After each edit
the warm report must equal the `--no-cache` report byte for byte, and the body edits must have
reused the groups that never read the edited code.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, cache_line_and_report, write_project

from sparklint.graph.units import unit_diff
from sparklint.project import load_modules, discover
from sparklint.settings import Settings

FIXTURES = sorted(path for path in (REPO_ROOT / "fixtures").iterdir() if path.is_dir())
NUMBER_IN_CALL = re.compile(r"(?<=\()(\d+)(?=[,)])")
STRING = re.compile(r"\"([a-z_]{2,})\"")


def check(project: Path, *args: str) -> tuple[str, str]:
    return cache_line_and_report(project, *args)


def copied(fixture: Path, tmp_path: Path) -> Path:
    project = tmp_path / fixture.name
    shutil.copytree(fixture, project, ignore=shutil.ignore_patterns(".sparklint_cache"))
    return project


def sources(project: Path) -> list[Path]:
    return sorted(path for path in project.rglob("*") if path.suffix in (".py", ".scala"))


def body_edits(project: Path) -> list[tuple[Path, str]]:
    """Up to three edits inside indented code (function bodies), in different files: the first
    number passed to a call made larger, or the first string literal renamed."""
    edits: list[tuple[Path, str]] = []
    for path in sources(project):
        text = path.read_text()
        lines = text.splitlines(keepends=True)
        for number, line in enumerate(lines):
            if not line.startswith((" ", "\t")) or line.lstrip().startswith(("def ", "class ", "object ", "#", "//")):
                continue
            edited = NUMBER_IN_CALL.sub(lambda match: str(int(match.group(1)) + 7), line, count=1)
            if edited == line:
                edited = STRING.sub(lambda match: f'"{match.group(1)}_v2"', line, count=1)
            if edited != line:
                edits.append((path, "".join([*lines[:number], edited, *lines[number + 1:]])))
                break
        if len(edits) == 3:
            break
    return edits


def line_insertions(project: Path) -> list[tuple[Path, str]]:
    """Up to three files with a statement inserted at the top of their first function body:
    every position below it moves down a line."""
    edits: list[tuple[Path, str]] = []
    for path in sources(project):
        lines = path.read_text().splitlines(keepends=True)
        for number, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("def ") and stripped.endswith(":" if path.suffix == ".py" else "{"):
                indent = line[: len(line) - len(line.lstrip())] + ("    " if path.suffix == ".py" else "  ")
                statement = "_edited = 1" if path.suffix == ".py" else "val edited = 1"
                edits.append((path, "".join([*lines[: number + 1], f"{indent}{statement}\n", *lines[number + 1:]])))
                break
        if len(edits) == 3:
            break
    return edits


DEF = re.compile(r"^[ \t]*def ([A-Za-z_]\w*)", re.MULTILINE)
OBJECT_OPENER = re.compile(r"^[ \t]*(?:case )?(?:object|class) \w[^\n]*\{[ \t]*$", re.MULTILINE)


def interface_edits(project: Path) -> list[tuple[Path, str]]:
    """Edits that change what a file defines: a function called from another file renamed (its
    callers no longer reach it), a function added, a field or an import added."""
    files = sources(project)
    texts = {path: path.read_text() for path in files}
    edits: list[tuple[Path, str]] = []
    for path, text in texts.items():
        called = [name for name in DEF.findall(text) if not name.startswith("_") and name not in ("main", "apply") and
                  any(f"{name}(" in other for elsewhere, other in texts.items() if elsewhere != path)]
        if called:
            name = called[0]
            suffix = "_renamed" if path.suffix == ".py" else "Renamed"
            edits.append((path, re.sub(rf"\bdef {name}\b", f"def {name}{suffix}", text, count=1)))
            break
    for path, text in texts.items():
        if path in (edit[0] for edit in edits):
            continue
        if path.suffix == ".py":
            added = "from os import path as added_path\n" + text + "\n\ndef added_later(df):\n    return df.coalesce(1)\n"
        else:
            opener = OBJECT_OPENER.search(text)
            if opener is None:
                continue
            added = (text[: opener.end()] + "\n  val addedLater = 1\n  def addedLaterToo(df: DataFrame): DataFrame = "
                     "df.coalesce(1)\n" + text[opener.end():])
        edits.append((path, added))
        if len(edits) == 3:
            break
    return edits


@pytest.mark.parametrize("edits", [body_edits, line_insertions, interface_edits],
                         ids=["in-place", "lines-move", "names"])
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.name)
def test_a_re_check_after_an_edit_equals_a_full_run(fixture: Path, edits, tmp_path: Path) -> None:
    """Each edit is made, checked, undone and checked again; the lines-move edits also undo."""
    project = copied(fixture, tmp_path)
    check(project)
    planned = edits(project)
    assert planned, "every fixture has code to edit"
    partial = 0
    for path, text in planned:
        original = path.read_text()
        for contents in (text, original):
            path.write_text(contents)
            line, warm = check(project)
            assert warm == check(project, "--no-cache")[1], (path, line)
            partial += "analysis run anew for " in line
    # a fixture's files call each other, but no edit reaches every file's roots
    assert partial >= 1, fixture.name


@pytest.mark.parametrize("edits", [body_edits, line_insertions, interface_edits],
                         ids=["in-place", "lines-move", "names"])
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.name)
def test_a_process_that_remembers_its_runs_reports_what_a_full_run_reports(fixture: Path, edits, tmp_path: Path) -> None:
    """The language server's path (unsaved buffers, the last run and its project index kept in
    memory) after each edit and its undo: the report of a run without any cache."""
    from sparklint import engine
    from sparklint.graph.index import ProjectIndex
    from sparklint.incremental import Memory
    from sparklint.report import json as json_report

    project = copied(fixture, tmp_path)
    memory, settings = Memory(), Settings(cache_dir=tmp_path / "cache")

    def report(result) -> str:
        document = json_report.document(result)
        document["summary"].pop("seconds")
        return json.dumps(document, sort_keys=True)

    engine.run_check([project], settings, memory=memory)
    patched = 0
    for path, text in edits(project):
        for contents in (text, path.read_text()):
            before = memory.index
            remembered = engine.run_check([project], settings, overlays={path: contents}, memory=memory)
            # a new index that shares the last one's tables: patched, not built again
            patched += memory.index is not before and memory.index.members is before.members
            saved = path.read_text()
            path.write_text(contents)  # the report reads the lines its fingerprints hash
            assert report(remembered) == report(engine.run_check([project], Settings(use_cache=False))), path
            path.write_text(saved)
            assert _same_index(memory.index, ProjectIndex.build(list(memory.index.sources)))
    assert patched >= 1 or edits is interface_edits, fixture.name  # a new name: the index is built anew


def _same_index(patched, built) -> bool:
    return all(getattr(patched, name) == getattr(built, name) for name in
               ("modules", "symbols", "members", "module_aliases", "extension_methods", "packages_with_init",
                "call_sites", "sources"))


def test_moved_code_keeps_its_findings_without_being_analysed_again(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {
        "lake/writer.py": """
            def first(df):
                return df


            def write_table(df, table):
                df.coalesce(2).write.partitionBy("dt").saveAsTable(table)
        """,
        "jobs/daily.py": """
            from lake.writer import write_table


            def main(spark):
                write_table(spark.read.table("raw.daily"), "lake.daily")
        """,
    })
    _, cold = check(project)
    writer = project / "lake" / "writer.py"
    writer.write_text(writer.read_text().replace("    return df\n", "    df = df.limit(5)\n    return df\n", 1))
    line, warm = check(project)
    # first() changed and only lake/writer.py's roots read it; write_table moved a line down
    assert line.endswith("analysis run anew for 1 of 2 files' roots (the others read no edited code)")
    assert warm == check(project, "--no-cache")[1]
    assert json.loads(warm)["findings"][0]["location"]["line"] == json.loads(cold)["findings"][0]["location"]["line"] + 1


def test_adding_a_function_analyses_again_only_what_may_see_it(tmp_path: Path) -> None:
    project = copied(REPO_ROOT / "fixtures" / "story_py", tmp_path)
    check(project)
    iceberg = project / "sitevisits" / "lake" / "iceberg.py"
    iceberg.write_text(iceberg.read_text() + "\n\ndef added_later(df):\n    return df.coalesce(1)\n")
    line, warm = check(project)
    assert "analysis run anew for 1 of 16 files' roots" in line  # nothing else spells `added_later`
    assert warm == check(project, "--no-cache")[1]
    publisher = project / "sitevisits" / "sinks" / "publisher.py"
    publisher.write_text(publisher.read_text() + "\n\nfrom sitevisits.lake.iceberg import added_later\n\n\n"
                         "def calls_it(df):\n    return added_later(df)\n")
    line, warm = check(project)
    assert "analysis run anew for" in line and warm == check(project, "--no-cache")[1]


def test_a_name_that_changes_how_code_resolves_everywhere_analyses_everything_again(tmp_path: Path) -> None:
    project = copied(REPO_ROOT / "fixtures" / "story_py", tmp_path)
    check(project)
    iceberg = project / "sitevisits" / "lake" / "iceberg.py"
    iceberg.write_text("from os.path import *\n" + iceberg.read_text())  # a wildcard import: any name
    line, warm = check(project)
    assert line.endswith("analysis run anew")
    assert warm == check(project, "--no-cache")[1]


def test_only_the_groups_that_read_the_edit_are_analysed_again(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {
        "lake/writer.py": """
            def write_table(df, table):
                df.coalesce(2).write.partitionBy("dt").saveAsTable(table)


            def unused_here(df):
                return df.limit(10)
        """,
        "jobs/daily.py": """
            from lake.writer import write_table


            def main(spark):
                write_table(spark.read.table("raw.daily"), "lake.daily")
        """,
        "jobs/report.py": """
            def main(spark):
                spark.read.table("lake.daily").groupBy("dt").count().write.parquet("s3://r")
        """,
    })
    _, cold = check(project)
    assert '"rule": "SPK001"' in cold
    writer = project / "lake" / "writer.py"
    writer.write_text(writer.read_text().replace("coalesce(2)", "coalesce(300)"))
    line, warm = check(project)
    # lake/writer.py's own roots and jobs/daily.py's main() read write_table; jobs/report.py does not
    assert line.endswith("analysis run anew for 2 of 3 files' roots (the others read no edited code)")
    assert warm == check(project, "--no-cache")[1]
    assert '"rule": "SPK001"' not in warm  # 300 tasks write in parallel enough

    writer.write_text(writer.read_text().replace("limit(10)", "limit(20)"))
    line, _ = check(project)
    assert line.endswith("analysis run anew for 1 of 3 files' roots (the others read no edited code)")


def test_a_unit_diff_names_the_edited_function_and_only_it(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"m.py": "N = 4\n\ndef f(df):\n    return df.coalesce(N)\n\ndef g(df):\n    return df\n"})
    settings = Settings(use_cache=False)
    [before], _ = load_modules(discover(project, settings), project, settings)
    (project / "m.py").write_text("N = 4\n\ndef f(df):\n    return df.coalesce(N + 1)\n\ndef g(df):\n    return df\n")
    [after], _ = load_modules(discover(project, settings), project, settings)
    assert unit_diff(before, after).changed == {"f:m.f"}
    (project / "m.py").write_text("N = 5\n\ndef f(df):\n    return df.coalesce(N + 1)\n\ndef g(df):\n    return df\n")
    [constant], _ = load_modules(discover(project, settings), project, settings)
    assert unit_diff(after, constant).changed == {"g:m.py"}
    (project / "m.py").write_text("N = 5\n\ndef f(df, n):\n    return df.coalesce(n)\n\ndef g(df):\n    return df\n")
    [signature], _ = load_modules(discover(project, settings), project, settings)
    assert unit_diff(constant, signature) is None  # a new parameter: callers may be affected


def test_parallel_analysis_reports_what_one_process_reports(tmp_path: Path) -> None:
    """The groups analysed in two forked worker processes, against one process."""
    out = tmp_path / "mixed"
    subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "generate_project.py"), "--lines", "6000",
                    "--language", "both", "--out", str(out)], check=True, capture_output=True)

    def report(jobs: int) -> dict:
        # A process of its own: a test worker has threads, and the analysis forks only without them.
        code = (
            "import json, sys\n"
            "from sparklint import analysis, engine\n"
            "from sparklint.report import json as json_report\n"
            "from sparklint.settings import Settings\n"
            "analysis.PARALLEL_MIN_LINES = 0\n"
            "result = engine.run_check([sys.argv[1]], Settings(use_cache=False, jobs=int(sys.argv[2])))\n"
            "print(json.dumps(json_report.document(result)))\n"
        )
        run = subprocess.run([sys.executable, "-c", code, str(out), str(jobs)],
                             capture_output=True, text=True, check=True, cwd=tmp_path)
        document = json.loads(run.stdout)
        document["summary"].pop("seconds")
        return document

    one = report(1)
    assert one["summary"]["findings"] > 0
    assert report(2) == one


def test_a_process_that_remembers_its_last_run_needs_no_cache_on_disk(tmp_path: Path) -> None:
    """The language server's path: unsaved buffers as overlays, the last run kept in memory."""
    from sparklint import engine
    from sparklint.incremental import Memory
    from sparklint.report import json as json_report

    project = copied(REPO_ROOT / "fixtures" / "story_py", tmp_path)
    memory, settings = Memory(), Settings(cache_dir=tmp_path / "cache")

    def report(result) -> str:
        document = json_report.document(result)
        document["summary"].pop("seconds")
        return json.dumps(document, sort_keys=True)

    first = engine.run_check([project], settings, memory=memory)
    shutil.rmtree(tmp_path / "cache")  # what follows comes from memory, or is lowered again
    iceberg = project / "sitevisits" / "lake" / "iceberg.py"
    edited = iceberg.read_text().replace(".coalesce(WRITE_PARALLELISM)", ".coalesce(WRITE_PARALLELISM + 2)")
    second = engine.run_check([project], settings, overlays={iceberg: edited}, memory=memory)
    assert second.timings.lowered_files == 1  # the edited buffer only
    assert 0 < second.timings.groups_analysed < second.timings.groups
    iceberg.write_text(edited)
    assert report(second) == report(engine.run_check([project], Settings(use_cache=False)))
    third = engine.run_check([project], settings, overlays={iceberg: iceberg.read_text()}, memory=memory)
    assert third.timings.lowered_files == 0 and third.timings.analysis_reused
    assert report(third) == report(second) != report(first)


def test_what_a_run_leaves_alive_is_not_rescanned_by_the_collector(tmp_path: Path) -> None:
    """A re-check in a long-lived process must not be followed by a collection that scans
    everything the run left alive (seconds on a large project): the run's survivors are frozen."""
    import gc

    from sparklint import engine
    from sparklint.incremental import Memory

    project = copied(REPO_ROOT / "fixtures" / "story_scala", tmp_path)
    memory = Memory()
    engine.run_check([project], Settings(cache_dir=tmp_path / "cache"), memory=memory)
    tracked = {id(value) for value in gc.get_objects()}
    kept = [memory.stored, *memory.modules.values()]
    assert kept and not any(id(value) in tracked for value in kept)
    assert gc.isenabled()
    gc.unfreeze()  # so that this test leaves the collector as it found it


def test_prepare_loads_what_the_next_edit_reads_after_a_run_from_the_last_result(tmp_path: Path) -> None:
    """A server opened on a project its cache knows reports the last result without loading a
    module; `prepare` then loads them and the index while idle, so the first edit only lowers
    the edited buffer, and reports what a full run reports."""
    from sparklint import engine
    from sparklint.incremental import Memory

    project = copied(REPO_ROOT / "fixtures" / "story_scala", tmp_path)
    settings = Settings(cache_dir=tmp_path / "cache")
    engine.run_check([project], settings)  # fills the cache
    memory = Memory()
    opened = engine.run_check([project], settings, memory=memory)
    assert opened.timings.analysis_reused and not memory.modules and memory.index is None
    engine.prepare([project], settings, memory)
    assert len(memory.modules) == opened.files_checked and memory.index is not None
    prepared = memory.index
    engine.prepare([project], settings, memory)
    assert memory.index is prepared  # nothing to load the second time
    path, text = body_edits(project)[0]
    edited = engine.run_check([project], settings, overlays={path: text}, memory=memory)
    assert edited.timings.lowered_files == 1
    assert memory.index is not prepared and memory.index.members is prepared.members  # patched
    path.write_text(text)
    assert _report(edited) == _report(engine.run_check([project], Settings(use_cache=False)))


def _report(result) -> str:
    from sparklint.report import json as json_report

    document = json_report.document(result)
    document["summary"].pop("seconds")
    return json.dumps(document, sort_keys=True)


def test_a_group_whose_context_budget_read_a_call_count_is_analysed_again_when_it_changes(tmp_path: Path) -> None:
    """`widen` is called with twelve distinct arguments: the number of contexts analysed for it is
    bounded by how often the project calls it. A call added in another file changes that bound,
    so the group that used it is analysed again, and only it and the edited file's."""
    calls = "".join(f"    df = widen(df, {n})\n" for n in range(12))
    project = write_project(tmp_path / "p", {
        "lib.py": "def widen(df, n):\n    return df.withColumn(f'c{n}', df.a + n)\n",
        "a.py": f"from lib import widen\n\n\ndef run(spark):\n    df = spark.read.parquet('in')\n{calls}"
                "    df.coalesce(1).write.parquet('out')\n",
        "b.py": "from lib import widen\n\n\ndef other(spark):\n    return spark.read.parquet('b')\n",
    })
    from sparklint import engine

    modules, _ = load_modules(discover(project, Settings()), project, Settings())
    groups = {group.path: group for group in engine.analyse(modules, Settings()).groups}
    assert ("widen", 12) in groups["a.py"].budgeted and not groups["b.py"].budgeted
    check(project)
    b = project / "b.py"
    b.write_text(b.read_text().replace("return spark.read.parquet('b')", "return widen(spark.read.parquet('b'), 99)"))
    line, warm = check(project)
    assert "analysis run anew for 2 of 3 files' roots" in line, line
    assert warm == check(project, "--no-cache")[1]
