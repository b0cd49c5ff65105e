"""Cached modules load their names and signatures at once and their code when it is first read."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

from conftest import REPO_ROOT

from sparklint import model as m
from sparklint.project import SourceFile, dump_module, load_module, read_source, lower_sources
from sparklint.settings import Settings

STORY = REPO_ROOT / "fixtures" / "story_scala"


def lowered(path: Path) -> m.Module:
    text = read_source(SourceFile(path, path.relative_to(STORY).as_posix()), {})
    return lower_sources([text], STORY, Settings(use_cache=False), prune=False)[0]


def reloaded(module: m.Module) -> m.Module:
    out = io.BytesIO()
    dump_module(module, out)
    out.seek(0)
    return load_module(out)


def functions(module: m.Module) -> list[m.Function]:
    return [*module.functions, *(method for klass in module.classes for method in klass.methods)]


def test_a_cached_module_equals_the_lowered_one_and_reads_its_code_on_first_use() -> None:
    checked = 0
    for path in sorted(STORY.rglob("*.scala")):
        module = lowered(path)
        cached = reloaded(module)
        bodies = [function.body for function in functions(cached)]
        checked += len(bodies)
        assert all(type(body) is m.LazyCode for body in bodies)
        assert all(body._bodies._bodies is None for body in bodies)  # nothing unpickled yet
        assert cached == module and hash(cached.functions) == hash(module.functions)
        for old, new in zip(functions(module), functions(cached)):
            assert tuple(new.body) == old.body and len(new.body) == len(old.body)
            assert bool(new.body) == bool(old.body) and new.body == old.body and old.body == new.body
            assert pickle.loads(pickle.dumps(new)) == old  # a loaded body pickles as the plain tuple
            assert type(pickle.loads(pickle.dumps(new)).body) is tuple
    assert checked >= 5


def test_spans_come_back_from_the_cache_as_spans() -> None:
    """Spans are pickled as their four numbers (`pickling.by_fields(flat=...)`); a plain tuple
    would compare equal to a span and still break every `.line` read."""
    checked = 0
    for path in sorted(STORY.rglob("*.scala")):
        module = lowered(path)
        cached = reloaded(module)
        m.load_code(cached)
        for old, new in zip(m.expressions_of(module), m.expressions_of(cached)):
            assert type(new.span) is m.Span and new.span == old.span and new == old
            if type(new) is m.Call:
                assert type(new.name_span) is m.Span and new.name_span.col == old.name_span.col
            checked += 1
        for old, new in zip(functions(module), functions(cached)):
            assert type(new.span) is m.Span and new.span.end_line == old.span.end_line
    assert checked >= 100


def test_a_cache_entry_of_another_layout_is_not_read() -> None:
    out = io.BytesIO()
    pickle.dump(lowered(next(STORY.rglob("*.scala"))), out)
    out.seek(0)
    try:
        load_module(out)
    except ValueError:
        return
    raise AssertionError("an entry in the old layout was read")


def test_a_cached_class_keeps_its_fields_packed_while_the_index_is_built() -> None:
    from sparklint.graph.index import ProjectIndex
    from sparklint.graph.interp import Interpreter

    modules = [lowered(path) for path in sorted(STORY.rglob("*.scala"))]
    cached = [reloaded(module) for module in modules]
    classes = [(old, new) for module, loaded in zip(modules, cached)
               for old, new in zip(module.classes, loaded.classes) if old.fields]
    assert len(classes) >= 3
    index = ProjectIndex.build(cached)
    interpreter = Interpreter(index, lambda event: None)
    for old, new in classes:
        assert type(new.fields) is m.LazyCode and new.fields._bodies._bodies is None  # the index read no code
        assert m.field_names(new) == tuple(name for name, _ in old.fields)
    for old, new in classes:
        for name, expr in old.fields:
            symbol = index.symbols[f"{new.qualname}.{name}"]
            if symbol.kind == "field" and symbol.owner is new:
                assert interpreter.field_expression(symbol) == next(e for n, e in old.fields if n == name)
        assert new.fields == old.fields and type(pickle.loads(pickle.dumps(new)).fields) is tuple
