"""Operation facts: each Spark operation the analysis saw, as plain data, for run profiles to
match against what ran (by file and line, plan shape, format, target, mode). The engine
records them for every event; rules attach the same facts (and their own) to findings.

    {"kind": "write" | "join" | "grouping" | "action" | "read" | "condition", "location": {"path", "line"},
     "chain": [{"path", "line", "message"}], "operators": ["Source table 'raw.events'", ...],
     "leaves": [{"kind", "value"}],
     "write": {"api", "method", "format", "target", "mode", "partition_by"},
     "join": {"how", "keys"}, "grouping": {"kind", "keys"}}
"""

from __future__ import annotations

from sparklint.findings import ChainStep, Location
from sparklint.graph.events import (
    ActionEvent, CartesianEvent, ConditionEvent, Event, GroupingEvent, JoinEvent, LoopEvent, ReadEvent, RecomputeEvent,
    WriteEvent,
)
from sparklint.graph.values import ColumnV, ConstV, DataFrameV, Op, SeqV, Stack, Value, const_of, str_of


def event_facts(event: Event) -> dict:
    if isinstance(event, WriteEvent):
        facts = {"kind": "write", "write": write_facts(event), "operators": operators(event.df), "leaves": leaves(event.df)}
    elif isinstance(event, JoinEvent):
        facts = join_facts(event)
    elif isinstance(event, ActionEvent):
        facts = {"kind": "action", "action": event.method, "operators": operators(event.df), "leaves": leaves(event.df)}
    elif isinstance(event, ReadEvent):
        facts = {"kind": "read", "format": event.format, "schema": event.has_schema}
    elif isinstance(event, ConditionEvent):
        facts = {"kind": "condition"}
    elif isinstance(event, CartesianEvent):
        facts = {"kind": "cartesian", "method": event.method}
    elif isinstance(event, LoopEvent):
        facts = {"kind": "loop", "loop": event.kind, "size": event.size, "methods": [op.name for op in event.ops]}
    elif isinstance(event, RecomputeEvent):
        facts = {"kind": "recompute", "methods": [event.first.method, event.second.method]}
    else:
        facts = grouping_facts(event)
    facts["location"] = location_dict(event.location)
    facts["chain"] = chain_dicts(event.stack)
    return facts


def write_facts(event: WriteEvent) -> dict:
    writer = event.writer
    target = None
    target_args = writer.option_args("target") if writer.api == "writeTo" else (event.args or None)
    if target_args:
        target = str_of(target_args[0])
    mode = writer.option_args("mode")
    fmt = writer.option_args("format")
    partition_by = writer.option_args("partitionBy") or writer.option_args("partitionedBy") or ()
    return {
        "api": writer.api,
        "method": event.method,
        "format": (str_of(fmt[0]) if fmt else None) or (event.method if event.method in ("parquet", "orc", "json", "csv", "text", "avro") else None),
        "target": target,
        "mode": str_of(mode[0]) if mode else None,
        "partition_by": [str_of(p) for p in partition_by if str_of(p)],
    }


def join_facts(event: JoinEvent) -> dict:
    on = event.on
    keys = [str_of(k) for k in (on.items if isinstance(on, SeqV) else (on,)) if str_of(k)]
    return {
        "kind": "join",
        "location": location_dict(event.location),
        "operators": operators(event.left),
        "join": {"how": str_of(event.how), "keys": keys},
        "leaves": leaves(event.left) + leaves(event.right),
        "left_leaves": leaves(event.left),
        "right_leaves": leaves(event.right),
        "chain": chain_dicts(event.stack),
    }


def grouping_facts(event: GroupingEvent) -> dict:
    keys = [str_of(k) or (k.name if isinstance(k, ColumnV) and k.kind == "ref" else None) for k in event.keys]
    return {"kind": "grouping", "grouping": {"kind": event.kind, "keys": [k for k in keys if k]},
            "operators": operators(event.df), "leaves": leaves(event.df)}


def stack_steps(stack: Stack) -> list[ChainStep]:
    return [ChainStep(frame.site, f"{frame.caller} calls `{frame.callee}(...)`") for frame in stack]


def describe(value: Value, depth: int = 0) -> str:
    """A short source-like rendering of a value for messages: `coalesce(origin_uid, 'anonymous')`."""
    if depth > 4:
        return "..."
    if isinstance(value, ConstV):
        return repr(value.value) if isinstance(value.value, str) else str(value.value)
    if isinstance(value, ColumnV):
        if value.kind == "ref":
            return value.name
        if value.kind == "lit":
            return describe(value.args[0], depth + 1) if value.args else "lit"
        if value.kind == "func":
            return f"{value.name}({', '.join(describe(a, depth + 1) for a in value.args)})"
        if value.kind == "method" and value.args:
            receiver, *rest = value.args
            return f"{describe(receiver, depth + 1)}.{value.name}({', '.join(describe(a, depth + 1) for a in rest)})"
        if value.kind == "op" and len(value.args) == 2:
            return f"{describe(value.args[0], depth + 1)} {value.name} {describe(value.args[1], depth + 1)}"
    if isinstance(value, SeqV):
        return "[" + ", ".join(describe(item, depth + 1) for item in value.items) + "]"
    if isinstance(value, DataFrameV):
        return "a DataFrame"
    return "?"


def op_text(op: Op) -> str:
    args = ", ".join(describe(arg) for arg in op.args)
    return f"{op.name}({args})"


def operators(df: DataFrameV) -> list[str]:
    """The operations that built a DataFrame, oldest first, as plan-like strings."""
    out = []
    for op in df.head.chain():
        if op.name == "choice":
            continue
        if op.name == "source":
            out.append(f"Source {op.detail} {describe(op.args[0]) if op.args else ''}".strip())
        else:
            out.append(op_text(op))
    return list(reversed(out))


def leaves(df: DataFrameV) -> list[dict]:
    found = []
    stack = [df.head]
    seen = 0
    while stack and seen < 200:
        op = stack.pop()
        seen += 1
        for item in op.chain():
            if item.other is not None:
                stack.append(item.other.head)
            if item.name == "source":
                value = const_of(item.args[0]) if item.args else None
                found.append({"kind": item.detail, "value": value if isinstance(value, (str, int)) else None})
    return found


def location_dict(location: Location) -> dict:
    return {"path": location.path, "line": location.line}


def chain_dicts(stack: Stack) -> list[dict]:
    """The call stack of an operation as plain data, for run-profile matching."""
    return [{"path": step.location.path, "line": step.location.line, "message": step.message} for step in stack_steps(stack)]
