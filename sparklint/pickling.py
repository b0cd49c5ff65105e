"""Pickling the model and the results as `Class(*fields)`: several times faster to load than the
default state of slotted dataclasses (a Python-level `__setstate__` per object), which matters
when a run reads tens of thousands of them back from the cache."""

from __future__ import annotations

import operator


def by_fields(*classes: type) -> None:
    """Pickle these dataclasses by their fields; each must take every field, in order, in `__init__`."""
    for cls in classes:
        cls.__reduce__ = _reducer(cls)  # type: ignore[method-assign]


def _reducer(cls: type):
    names = cls.__match_args__
    if len(names) == 1:
        [name] = names

        def reduce_one(self):
            return cls, (getattr(self, name),)

        return reduce_one
    fields = operator.attrgetter(*names)  # the field values as one tuple, in C

    def reduce(self):
        return cls, fields(self)

    return reduce
