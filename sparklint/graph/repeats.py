"""What runs more than once: the operations a DataFrame carried through a loop gains per element
(SPK005's `LoopEvent`), and DataFrames that two actions or writes compute along one path of the
code (SPK006's `RecomputeEvent`).

Uses are compared by operation: the same `Op` objects are the same DataFrame value, while two
DataFrames the same code builds from arguments it does not state (content keys alike) are two.
No object address decides an order: the state is read in the order uses were made. The state is
per root and per path: each arm of a branch starts from the uses before it, and afterwards the
uses of every arm that falls through are known (a write in the `if` and a count in the `else`
are one use on each path).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from sparklint.findings import Location
from sparklint.graph import spark_api as api
from sparklint.graph.events import RecomputeEvent, Use
from sparklint.graph.values import ColumnV, DataFrameV, Op, SeqV, Stack, Value, WindowV

MAX_LINEAGE_OPS = 2_000
MAX_CARRIED_OPS = 2_000
CACHES = frozenset({"cache", "persist", "checkpoint", "localCheckpoint"})
# Actions that compute a DataFrame; `printSchema`/`explain` only plan it.
COMPUTING_ACTIONS = api.ACTIONS - {"printSchema", "explain"}
# Actions that stop after a few rows: over a plain read they read a partition or two, but a
# shuffle before them runs whole (its map stage reads every input row).
LIMITED_ACTIONS = frozenset({"show", "take", "first", "head", "isEmpty", "takeAsList"})
# Actions that run the DataFrame's own physical plan: a second one on the same DataFrame reuses
# its shuffle files (the map stages are skipped), where `count()`, `show()`, `take()` or a write
# plan a new query over it and run every stage again.
SAME_PLAN_ACTIONS = frozenset({"collect", "collectAsList", "toPandas", "toLocalIterator", "foreach", "foreachPartition"})
STORAGE_SOURCES = frozenset({"table", "path"})
MADE = (-1, -1)  # the place of an operation a memoised call built itself (`UseTracker.end_call`)


def lineage(head: Op, to_shuffle: bool = False) -> list[Op]:
    """The operations an action on `head` computes, newest first along the main chain, then each
    other input (join sides, other paths of a `choice`); a `cache`/`persist`/`checkpoint` ends a
    path: what is before it is read from the cache. With `to_shuffle`, a shuffle ends a path too
    (what an RDD job reruns when the shuffle's files are there from an earlier job)."""
    out: list[Op] = []
    seen: set[Op] = set()
    pending = [head]
    while pending and len(out) < MAX_LINEAGE_OPS:
        op: Op | None = pending.pop(0)
        while op is not None and op not in seen and len(out) < MAX_LINEAGE_OPS:
            if op.name in CACHES:
                break
            seen.add(op)
            out.append(op)
            if to_shuffle and shuffles(op):
                break
            if op.other is not None:
                pending.append(op.other.head)
            if op.name == "choice":
                pending.extend(arg.head for arg in op.args if isinstance(arg, DataFrameV))
            op = op.prev
    return out


def _reads_few(head: Op, method: str) -> bool:
    """An action that stops after a few rows (`show()`, `take(n)`), or any action after a
    `limit(n)`, with no shuffle on the way to its input: it reads a batch or two of it."""
    few = method in LIMITED_ACTIONS
    for seen, op in enumerate(head.chain()):
        if seen > MAX_LINEAGE_OPS or shuffles(op) or op.other is not None:
            return False
        few = few or op.name == "limit"
    return few


def shuffles(op: Op) -> bool:
    return op.name in api.SHUFFLING or (op.name in ("withColumn", "withColumns", "select") and _has_window(op.args))


def _has_window(values, depth: int = 0) -> bool:
    for value in values:
        if isinstance(value, WindowV):
            return True
        if depth < 8 and isinstance(value, ColumnV) and _has_window(value.args, depth + 1):
            return True
        if depth < 8 and isinstance(value, SeqV) and _has_window(value.items, depth + 1):
            return True
    return False


@dataclass(slots=True)
class UseTracker:
    """The uses of DataFrames made so far on the current path of the current root, by operation:
    the same `Op` objects are the same DataFrame (two DataFrames built alike from arguments the
    code does not state are not). A memoised call replays its uses onto the DataFrames of the
    call that reuses it (`calls`: for each operation a use computed, its place in the lineage of
    one of the call's input DataFrames, or the operation itself when the call built it)."""

    state: dict[Op, Use] = field(default_factory=dict)  # operation -> its latest use
    log: list[tuple[Op, Use | None, Use]] = field(default_factory=list)  # (operation, before, after)
    loops: list[tuple[Location, list[DataFrameV], set[Op] | None]] = field(default_factory=list)
    calls: dict[tuple, tuple[tuple[Use, tuple], ...]] = field(default_factory=dict)
    # For each loop running, the number of uses made before it started: a DataFrame of unknown
    # origin first used inside the loop may be another one at each element.
    iterations: list[int] = field(default_factory=list)
    counting: list[bool] = field(default_factory=list)  # for each loop running: over `range(...)`
    made: int = 0

    def reset(self) -> None:
        self.state = {}
        self.log = []
        self.loops = []
        self.iterations = []
        self.counting = []

    def open_loop(self, counting: bool = False) -> None:
        """A loop starts; `counting`: it iterates `range(...)`, as retry loops do."""
        self.iterations.append(self.made)
        self.counting.append(counting)

    def close_loop(self) -> None:
        self.iterations.pop()
        self.counting.pop()

    # ------------------------------------------------ paths
    # Every change of `state` is logged, so a branch arm is undone in time proportional to what
    # it did (never by copying the state, which grows with the root).

    def _set(self, op: Op, use: Use) -> None:
        self.log.append((op, self.state.get(op), use))
        self.state[op] = use

    def mark(self) -> int:
        return len(self.log)

    def rollback(self, mark: int) -> dict[Op, Use]:
        """Undo the changes made since `mark`; what they left each operation holding."""
        changes: dict[Op, Use] = {}
        while len(self.log) > mark:
            op, previous, use = self.log.pop()
            changes.setdefault(op, use)  # the latest change of an operation is undone first
            if previous is None:
                self.state.pop(op, None)
            else:
                self.state[op] = previous
        return dict(reversed(changes.items()))  # in the order made

    def merge(self, outcomes: list[dict[Op, Use]]) -> None:
        """After a branch: a use on any path that falls through was made (the first arm's wins)."""
        done: set[Op] = set()
        for changes in outcomes:
            for op, use in changes.items():
                if op not in done:
                    done.add(op)
                    self._set(op, use)

    def join_returns(self, mark: int, returned: list[dict[Op, Use]]) -> None:
        """At the end of a call: the uses of the arms that returned early are made too, beside
        those of the path that ran to the end (logged since `mark`)."""
        self.merge([self.rollback(mark), *returned])

    # ------------------------------------------------ memoised calls

    def end_call(self, key: tuple, mark: int, inputs: list[DataFrameV],
                 made_in_call: Callable[[Op], bool]) -> None:
        """What a call used, on the paths that return from it (logged since `mark`), each
        operation placed in the lineage of one of the call's input DataFrames when it is
        there, or marked `MADE` when the call built it (`made_in_call`)."""
        made: dict[int, Use] = {}
        for _, _, use in self.log[mark:]:
            made.setdefault(id(use), use)  # objects alive in the log: no id reused
        if not made:
            self.calls[key] = ()
            return
        places: dict[Op, tuple[int, int]] = {}
        for number, df in enumerate(inputs):
            for position, op in enumerate(lineage(df.head)):
                places.setdefault(op, (number, position))
        self.calls[key] = tuple((use, tuple(places.get(op) or (MADE if made_in_call(op) else None) for op in use.ops))
                                for use in made.values())

    def has_uses(self, key: tuple) -> bool:
        """Whether the memoised call `key` used a DataFrame (its uses are replayed where it is reused)."""
        return bool(self.calls.get(key))

    def replay(self, key: tuple, inputs: list[DataFrameV], location: Location, stack: Stack,
               remake: bool = True) -> list[RecomputeEvent]:
        """A memoised call reused here makes its uses again, on this call's DataFrames, seen
        from the call; with `remake`, on new DataFrames in place of those the call built."""
        events = []
        recorded = self.calls.get(key, ())
        lineages: dict[int, list[Op]] = {}
        remade: dict[Op, Op] = {}
        for use, places in recorded:
            ops = []
            for op, place in zip(use.ops, places):
                if place == MADE:
                    if remake:  # built by this call again: another DataFrame than the first call's
                        op = remade.setdefault(op, replace(op))
                elif place is not None:
                    number, position = place
                    if number < len(inputs) and number not in lineages:
                        lineages[number] = lineage(inputs[number].head)
                    here = lineages.get(number, [])
                    mapped = here[position] if position < len(here) else None
                    if mapped is not None and mapped.name == op.name and mapped.location == op.location:
                        op = mapped
                ops.append(op)
            again = Use(use.method, use.rdd, use.write, location, stack, use.limited, tuple(ops), self.made)
            event = self._record(again)
            if event is not None:
                events.append(event)
        return events

    # ------------------------------------------------ loops

    def enter_loop(self, location: Location, outer: list[DataFrameV]) -> None:
        """A loop body run once for many elements: a use in it of a DataFrame built before the
        loop is made again for every element."""
        self.loops.append((location, outer, None))

    def exit_loop(self) -> None:
        self.loops.pop()

    def _outer_ops(self, index: int) -> set[Op]:
        location, outer, known = self.loops[index]
        if known is None:
            known = {op for df in outer for op in lineage(df.head)}
            self.loops[index] = (location, outer, known)
        return known

    # ------------------------------------------------ uses

    def use(self, df: DataFrameV, method: str, write: bool, location: Location, stack: Stack) -> RecomputeEvent | None:
        ops = tuple(lineage(df.head))
        if not ops:
            return None  # the DataFrame is cached
        use = Use(method, df.is_rdd, write, location, stack, not write and _reads_few(df.head, method), ops, self.made)
        return self._record(use)

    def _record(self, use: Use) -> RecomputeEvent | None:
        self.made += 1
        event = None
        for op in use.ops:
            first = self.state.get(op)
            if first is not None:
                event = self._event(op, first, use, None)
                break
        if event is None:
            event = self._in_loop(use)
        for op in use.ops:
            self._set(op, use)
        return event

    def _in_loop(self, use: Use) -> RecomputeEvent | None:
        for index in range(len(self.loops) - 1, -1, -1):
            outer = self._outer_ops(index)
            for op in use.ops:
                if op in outer:
                    return self._event(op, use, use, self.loops[index][0])
        return None

    def _event(self, shared: Op, first: Use, second: Use, loop: Location | None) -> RecomputeEvent | None:
        """The event, when what both compute is worth computing once: it shuffles, or reads from
        storage for two uses that read it whole."""
        rdd = first.rdd and second.rdd  # the same RDD objects: their shuffles ran once
        computed = lineage(shared, to_shuffle=rdd)
        if self.iterations and first is not second and first.serial >= self.iterations[-1] and all(
                op.detail == "unknown" for op in computed if op.name == "source"):
            # both uses in one loop, of data of unknown origin: a parameter-like value that may
            # be another DataFrame at each element (`for df in [a, b]` analysed with unknown a, b)
            return None
        if self.counting and self.counting[-1] and first.serial >= self.iterations[-1] \
                and first.location == second.location and first.head is second.head:
            # `for attempt in range(3): try: df.write...; break`: the same call on the same
            # DataFrame again in a counted loop is a retry (the model has no `break`)
            return None
        shuffled = () if rdd else tuple(op for op in computed if shuffles(op))
        reads = tuple(op for op in computed if op.name == "source" and op.detail in STORAGE_SOURCES)
        whole = rdd or first.head is second.head is shared  # an RDD has no pruning
        if not shuffled and (not reads or first.limited or second.limited or not whole):
            # a plain read: only two uses of the very same DataFrame surely read the same data
            # twice; uses that select or filter differently may each read other columns or
            # files (pruning, pushed filters), which a cache of the whole would not save
            return None
        if shuffled and first.head is second.head is shared and not first.write and not second.write and {
                first.method, second.method} <= SAME_PLAN_ACTIONS:
            return None  # the same physical plan run again: its shuffle files are reused
        location = shared.location or second.location
        return RecomputeEvent(DataFrameV(shared, rdd), first, second, loop, location, shared.stack, shuffled, reads)


def carried_ops(before: Value, after: Value) -> tuple[Op, ...]:
    """The operations `after` adds to `before` when it continues its history: what one pass of
    a loop (or of a fold's function) does to a DataFrame it carries. Empty otherwise."""
    if not isinstance(before, DataFrameV) or not isinstance(after, DataFrameV) or after.head is before.head:
        return ()
    out: list[Op] = []
    op: Op | None = after.head
    while op is not None and len(out) < MAX_CARRIED_OPS:
        if op is before.head:
            return tuple(out)
        out.append(op)
        op = op.prev
    return ()


def assumed_in(after: Value, loop: Location) -> tuple[Op, ...]:
    """For a name unknown before a loop (a parameter) that holds a DataFrame after it: the
    operations back to the DataFrame assumed inside the loop (`df.withColumn(...)` on the unknown
    `df` proves it is one), when that happened within the loop's lines."""
    if not isinstance(after, DataFrameV):
        return ()
    out: list[Op] = []
    op: Op | None = after.head
    while op is not None and len(out) < MAX_CARRIED_OPS:
        if op.prev is None:
            place = op.location
            inside = op.name == "source" and op.detail == "unknown" and place is not None and place.path == loop.path \
                and loop.line <= place.line <= loop.end_line
            return tuple(out) if inside else ()
        out.append(op)
        op = op.prev
    return ()


def collection_size(value: Value) -> int | None:
    """How many elements a collection the code writes has: a literal's items, `range(a, b)`."""
    if not isinstance(value, SeqV):
        return None
    if value.kind == "range":
        bounds = [item.value if hasattr(item, "value") else None for item in value.items]
        if len(bounds) == 2 and all(isinstance(bound, int) for bound in bounds):
            return max(0, bounds[1] - bounds[0])
        return None
    return len(value.items)
