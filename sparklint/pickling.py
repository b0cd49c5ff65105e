"""Pickling the model and the results as `Class(*fields)`: several times faster to load than the
default state of slotted dataclasses (a Python-level `__setstate__` per object), which matters
when a run reads tens of thousands of them back from the cache."""

from __future__ import annotations


def _reduce_by_fields(self):
    cls = type(self)
    return cls, tuple(getattr(self, name) for name in cls.__match_args__)


def by_fields(*classes: type) -> None:
    """Pickle these dataclasses by their fields; each must take every field, in order, in `__init__`."""
    for cls in classes:
        cls.__reduce__ = _reduce_by_fields  # type: ignore[method-assign]
