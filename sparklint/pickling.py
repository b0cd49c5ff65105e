"""Pickling the model and the results as `Class(*fields)`: several times faster to load than the
default state of slotted dataclasses (a Python-level `__setstate__` per object), which matters
when a run reads tens of thousands of them back from the cache.

A field that holds a small named tuple (the model's `Span`, one per expression) can be pickled
as its items instead. Any object but an exact tuple goes through pickle's generic protocol, which
costs about a microsecond each way, several times a plain tuple's: spans were half the time of
encoding a lowered module for the cache. Decoding gains less than encoding: a span that several
nodes shared was loaded once and is now built once per node (loaded modules take ~5% more memory)."""

from __future__ import annotations

import dataclasses
import operator


def by_fields(*classes: type, flat: type | None = None) -> None:
    """Pickle these dataclasses by their fields; each must take every field, in order, in
    `__init__`. With `flat` (a NamedTuple class), the fields annotated with its name are pickled
    as their items and rebuilt with `tuple.__new__`, without calling `__init__`."""
    for cls in classes:
        spread = [f.name for f in dataclasses.fields(cls) if flat is not None and f.type == flat.__name__]
        cls.__reduce__ = _flat_reducer(cls, flat, spread) if spread else _reducer(cls)  # type: ignore[method-assign]


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


def _flat_reducer(cls: type, flat: type, spread: list[str]):
    """A `__reduce__` that writes each field of `spread` as its items, and the function that
    builds the object back from them (`cls._from_fields`, found by name when unpickling). Both
    are generated, so neither loops over the fields at run time."""
    names = [f.name for f in dataclasses.fields(cls)]
    width = len(flat._fields)
    dumped = ", ".join(f"*self.{name}" if name in spread else f"self.{name}" for name in names)
    params: list[str] = []
    sets: list[str] = []
    for name in names:
        if name in spread:
            items = [f"{name}_{i}" for i in range(width)]
            params += items
            sets.append(f"    _set(self, {name!r}, _new(_flat, ({', '.join(items)},)))")
        else:
            params.append(name)
            sets.append(f"    _set(self, {name!r}, {name})")
    source = (f"def _from_fields({', '.join(params)}):\n    self = _alloc(_cls)\n" + "\n".join(sets)
              + "\n    return self\n"
              f"def __reduce__(self):\n    return _from_fields, ({dumped},)\n")
    namespace = {"_cls": cls, "_flat": flat, "_new": tuple.__new__, "_set": object.__setattr__,
                 "_alloc": object.__new__}
    exec(source, namespace)
    load = namespace["_from_fields"]
    load.__module__, load.__qualname__ = cls.__module__, f"{cls.__qualname__}._from_fields"
    cls._from_fields = staticmethod(load)
    return namespace["__reduce__"]
