"""What the interpreter knows of a collection after it is changed in place (`mutated`) or built
from two by an operator (`combined`): the items where the code states them, else unknown."""

from __future__ import annotations

import pytest

from sparklint import model as m
from sparklint.graph.values import UNKNOWN, ConstV, SeqV, combined, mutated


def items(*values) -> tuple:
    return tuple(ConstV(value) for value in values)


def constants(value) -> tuple | None:
    if value is UNKNOWN:
        return None
    assert isinstance(value, SeqV)
    return tuple(item.value if isinstance(item, ConstV) else tuple(part.value for part in item.items)
                 for item in value.items)


def pairs(*keys_and_values) -> tuple:
    return tuple(SeqV(items(key, value), "tuple") for key, value in keys_and_values)


@pytest.mark.parametrize(("kind", "start", "method", "args", "expected"), [
    ("list", ("a",), "append", items("b"), ("a", "b")),
    ("seq", ("a",), "prepend", items("b"), ("b", "a")),
    ("list", ("a",), "extend", (SeqV(items("b", "c")),), ("a", "b", "c")),
    ("seq", ("a",), "prependAll", (SeqV(items("b", "c"), "seq"),), ("b", "c", "a")),
    ("list", ("a", "b"), "insert", items(1, "x"), ("a", "x", "b")),
    ("list", ("a", "b"), m.SETITEM, items(-1, "x"), ("a", "x")),
    ("list", ("a", "b"), m.SETITEM, items(5, "x"), None),  # an IndexError in Python
    ("list", ("a", "b"), "clear", (), ()),
    ("set", ("a",), "add", items("a"), ("a",)),
    ("set", ("a",), "add", items("b"), ("a", "b")),
    ("list", ("a", "b"), "pop", (), None),
    ("list", ("a",), "extend", (UNKNOWN,), None),  # a generator, another unknown collection
    ("range", (0, 3), "append", items(9), None),
])
def test_a_sequence_changed_in_place(kind, start, method, args, expected):
    assert constants(mutated(SeqV(items(*start), kind), method, args)) == expected


def test_a_dict_changed_in_place_keeps_one_item_per_key():
    counts = SeqV(pairs(("a", 1), ("b", 2)), "dict")
    assert constants(mutated(counts, m.SETITEM, items("a", 3))) == (("b", 2), ("a", 3))
    assert constants(mutated(counts, "update", (SeqV(pairs(("b", 4), ("c", 5)), "dict"),))) == (
        ("a", 1), ("b", 4), ("c", 5))
    assert mutated(counts, m.SETITEM, (UNKNOWN, ConstV(3))) is UNKNOWN  # it may replace any key
    assert mutated(counts, "append", items("x")) is UNKNOWN


@pytest.mark.parametrize(("op", "left", "right", "expected"), [
    ("+", SeqV(items("a")), SeqV(items("b")), ("a", "b")),
    ("+", SeqV(items("a"), "tuple"), SeqV(items("b"), "tuple"), ("a", "b")),
    ("+", SeqV(items("a"), "seq"), SeqV(items("b"), "seq"), None),  # Scala's Seq has no `+`
    ("++", SeqV(items("a"), "seq"), SeqV(items("b"), "seq"), ("a", "b")),
    (":+", SeqV(items("a"), "seq"), ConstV("b"), ("a", "b")),
    ("+:", ConstV("b"), SeqV(items("a"), "seq"), ("b", "a")),
    ("++", SeqV(items(0, 9), "range"), SeqV(items("b"), "seq"), None),  # a range keeps its bounds, not its items
    ("++", SeqV(pairs(("a", 1)), "dict"), SeqV(pairs(("b", 2)), "dict"), None),
])
def test_a_collection_built_by_an_operator(op, left, right, expected):
    result = combined(op, left, right)
    assert (constants(result) if result is not None else None) == expected
