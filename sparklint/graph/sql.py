"""Spark SQL held in strings (`spark.sql(...)`), lowered into the same values and events as
DataFrame code, so every rule reads SQL and DataFrame code alike.

The query text is parsed with sqlglot's Spark dialect. Tables and views become sources (a temp
view is the DataFrame it was registered from), joins become join events with their hints,
`GROUP BY`, `DISTRIBUTE BY` and window `PARTITION BY` keys become grouping events, select-list
aliases keep their expressions, the `COALESCE`/`REPARTITION`/`REBALANCE` hints become the
operations they stand for, and `INSERT`, `CREATE TABLE ... AS SELECT` and `MERGE INTO` become
writes. Text that sqlglot cannot parse is skipped: the Python or Scala around it is fine code.

Positions: the text is assembled from pieces of the source (`SqlPiece`), each knowing where its
first character stands when it is written verbatim (a literal without escapes), so a finding in
SQL points at the line and column of its token inside the Python or Scala file.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from sparklint.findings import Location, SqlLocation
from sparklint.graph.events import Event, GroupingEvent, JoinEvent, WriteEvent
from sparklint.graph.values import UNKNOWN, ColumnV, ConstV, DataFrameV, Op, Stack, Value, WriterV

MAX_SQL_CHARS = 200_000  # a bigger string is data, not a query worth parsing
HOLE_PREFIX = "__sparklint_hole_"  # an unknown value in the text: `f"FROM {table}"`
BROADCAST_HINTS = frozenset({"broadcast", "broadcastjoin", "mapjoin"})
OTHER_JOIN_HINTS = frozenset({"merge", "shuffle_merge", "mergejoin", "shuffle_hash", "shuffle_replicate_nl"})
JOIN_TYPES = {
    ("", ""): "inner", ("", "inner"): "inner", ("left", ""): "left", ("left", "outer"): "left",
    ("right", ""): "right", ("right", "outer"): "right", ("full", ""): "full", ("full", "outer"): "full",
    ("", "cross"): "cross", ("left", "semi"): "left_semi", ("", "semi"): "left_semi",
    ("left", "anti"): "left_anti", ("", "anti"): "left_anti",
}


@dataclass(frozen=True, slots=True)
class SqlPiece:
    """A run of the query text as the code builds it. `start` is where its first character is
    in the file when the text is written there verbatim; `location` covers the whole piece (a
    hole, or a literal with escapes, where characters do not map one to one)."""

    text: str
    location: Location | None
    start: tuple[int, int] | None = None  # (line, column), 1-based


class SqlText:
    """The query text with a map from its character offsets back to the file."""

    @classmethod
    def of(cls, text: str, origin, fallback: Location) -> "SqlText":
        """From a string value's text and origin (values.Origin); `fallback` where it has none."""
        if not origin:
            return cls([SqlPiece(text, fallback)])
        pieces = []
        bounds = [entry[0] for entry in origin] + [len(text)]
        if bounds[0] > 0:
            pieces.append(SqlPiece(text[: bounds[0]], fallback))
        for (offset, path, line, col, verbatim), end in zip(origin, bounds[1:]):
            location = Location(path, line, col)
            pieces.append(SqlPiece(text[offset:end], location, (line, col) if verbatim else None))
        return cls(pieces)

    def __init__(self, pieces: Iterable[SqlPiece]) -> None:
        self.pieces = tuple(pieces)
        self.text = "".join(piece.text for piece in self.pieces)
        self._starts: list[int] = []
        offset = 0
        for piece in self.pieces:
            self._starts.append(offset)
            offset += len(piece.text)

    def piece_at(self, offset: int) -> tuple[int, SqlPiece | None]:
        if not self.pieces:
            return -1, None
        index = max(i for i, start in enumerate(self._starts) if start <= offset or i == 0)
        return index, self.pieces[index]

    def locate(self, offset: int | None, length: int = 1) -> Location | None:
        if offset is None or not self.pieces:
            return _in_sql(self.pieces[0].location) if self.pieces else None
        index, piece = self.piece_at(offset)
        if piece.start is None:
            return _in_sql(piece.location)
        before = piece.text[: offset - self._starts[index]]
        line, col = piece.start
        newlines = before.count("\n")
        if newlines:
            line += newlines
            col = len(before) - before.rfind("\n")
        else:
            col += len(before)
        path = piece.location.path if piece.location is not None else ""
        return SqlLocation(path, line, col, line, col + max(length, 1))


def strip_margin(text: str, origin, marker: str = "|") -> tuple[str, tuple]:
    """Scala's `stripMargin` on a string and its origin: each line loses its leading blanks and
    the `|` after them; every line then starts an anchor of its own."""
    located = SqlText.of(text, origin, Location("", 0, 0))
    out, anchors = "", []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" \t")
        cut = len(line) - len(stripped) + 1 if stripped.startswith(marker) else 0
        index, piece = located.piece_at(offset + cut)
        place = located.locate(offset + cut)
        if place is not None and piece is not None and piece.location is not None:
            anchors.append((len(out), piece.location.path, place.line, place.col, piece.start is not None))
        # The pieces that start inside the line (a filled hole and the text after it) keep theirs.
        start, end = offset + cut, offset + len(line)
        anchors.extend((len(out) + at - start, *rest) for at, *rest in origin if start < at < end)
        out += line[cut:]
        offset += len(line)
    return out, tuple(anchors)


@functools.lru_cache(maxsize=1024)
def parse(text: str):
    """sqlglot's trees of every statement, or None when the text is not SQL sqlglot reads.
    Kept by text: each group of roots (`analysis.py`) lowers the queries it reaches, and the
    same query text is read, never changed, by all of them."""
    if not text.strip() or len(text) > MAX_SQL_CHARS:
        return None
    try:
        import sqlglot
        from sqlglot.errors import SqlglotError
    except ImportError:
        return None
    # sqlglot logs what it cannot read ("falling back to parsing as a Command"); a skipped query
    # is no news to the user, and stderr carries sparklint's own one-line warnings only.
    logging.getLogger("sqlglot").setLevel(logging.CRITICAL)
    try:
        trees = sqlglot.parse(text, read="spark")
    except (SqlglotError, RecursionError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return [tree for tree in trees if tree is not None] or None


class SqlLowering:
    """One `spark.sql(...)` call: its statements lowered at `stack`, reading and registering
    temp views in `views` (lower-case name -> DataFrame)."""

    def __init__(self, text: SqlText, stack: Stack, views: dict[str, DataFrameV], emit: Callable[[Event], None],
                 call_location: Location) -> None:
        self.text = text
        self.stack = stack
        self.views = views
        self.emit = emit
        self.call_location = call_location
        self._hint_spans = [(m.start(), m.end()) for m in re.finditer(r"/\*\+.*?\*/", text.text, re.S)]

    def run(self) -> Value:
        """The DataFrame the last statement returns (a query), or UNKNOWN; None when unparsable."""
        trees = parse(self.text.text)
        if trees is None:
            return None
        result: Value = UNKNOWN
        for tree in trees:
            result = self.statement(tree)
        return result

    # ------------------------------------------------------------ statements

    def statement(self, tree) -> Value:
        from sqlglot import exp

        if isinstance(tree, exp.Insert):
            return self.insert(tree)
        if isinstance(tree, exp.Create):
            return self.create(tree)
        if isinstance(tree, exp.Merge):
            return self.merge(tree)
        if isinstance(tree, exp.Query):
            return self.query(tree, {})
        return UNKNOWN

    def insert(self, tree) -> Value:
        from sqlglot import exp

        target = tree.this
        table = target if isinstance(target, exp.Table) else target.find(exp.Table)
        if tree.expression is None or table is None:
            return UNKNOWN
        df = self.query(tree.expression, {})
        options: list[tuple[str, tuple[Value, ...]]] = [("target", (ConstV(_table_name(table)),))]
        dynamic = [ConstV(column.name) for column in _partition_columns(table) if column is not None]
        if dynamic:
            options.append(("partitionBy", tuple(dynamic)))
        verb = "INSERT OVERWRITE" if tree.args.get("overwrite") else "INSERT INTO"
        self._write(df, verb, options, self.node_location(table))
        return UNKNOWN

    def create(self, tree) -> Value:
        from sqlglot import exp

        kind = (tree.args.get("kind") or "").upper()
        query = tree.expression
        if not isinstance(query, exp.Query):
            return UNKNOWN
        table = tree.this if isinstance(tree.this, exp.Table) else tree.find(exp.Table)
        df = self.query(query, {})
        if kind == "VIEW":
            if table is not None:
                self.views[_table_name(table).lower()] = df
            return UNKNOWN
        if kind == "TABLE" and table is not None:
            options: list[tuple[str, tuple[Value, ...]]] = [("target", (ConstV(_table_name(table)),))]
            partitioned = tree.find(exp.PartitionedByProperty)
            if partitioned is not None:
                options.append(("partitionBy", tuple(ConstV(c.name) for c in partitioned.find_all(exp.Column))
                                or (ConstV("?"),)))
            self._write(df, "CREATE TABLE ... AS SELECT", options, self.node_location(table))
        return UNKNOWN

    def merge(self, tree) -> Value:
        from sqlglot import exp

        source = tree.args.get("using")
        table = tree.this if isinstance(tree.this, exp.Table) else None
        if source is None or table is None:
            return UNKNOWN
        df = self.relation(source, {})
        self._write(df, "MERGE INTO", [("target", (ConstV(_table_name(table)),))], self.node_location(table))
        return UNKNOWN

    def _write(self, df: DataFrameV, verb: str, options, location: Location | None) -> None:
        location = location or self.call_location
        writer = WriterV(df, "sql", list(options), location, self.stack)
        self.emit(WriteEvent(writer, verb, (), location, self.stack))

    # ------------------------------------------------------------ queries

    def query(self, node, ctes: dict[str, DataFrameV]) -> DataFrameV:
        from sqlglot import exp

        ctes = dict(ctes)
        with_clause = node.args.get("with_") or node.args.get("with")
        if with_clause is not None:
            for cte in with_clause.expressions:
                ctes[cte.alias_or_name.lower()] = self.query(cte.this, ctes)
        if isinstance(node, exp.Subquery):
            return self.query(node.this, ctes)
        if isinstance(node, exp.SetOperation):
            left = self.query(node.left, ctes)
            right = self.query(node.right, ctes)
            name = {"Union": "union", "Intersect": "intersect", "Except": "except"}.get(type(node).__name__, "union")
            return self.op(name, (right,), left, node, other=right)
        if not isinstance(node, exp.Select):
            return self.unknown_source(node)
        return self.select(node, ctes)

    def select(self, node, ctes: dict[str, DataFrameV]) -> DataFrameV:
        from sqlglot import exp

        hints = self.hints(node)
        source = node.args.get("from_") or node.args.get("from")
        df = self.relation(source.this, ctes, hints) if source is not None else self.literal_rows(node, 1)
        for join in node.args.get("joins") or ():
            df = self.join(df, join, ctes, hints)
        where = node.args.get("where")
        if where is not None:
            df = self.op("filter", (self.column(where.this),), df, where)
        projections = [self.column(item) for item in node.expressions]
        aliases = {item.alias.lower(): item.this for item in node.expressions if isinstance(item, exp.Alias)}
        for window in node.find_all(exp.Window):
            keys = tuple(self.column(key) for key in window.args.get("partition_by") or ())
            if keys and window.find_ancestor(exp.Select) is node:
                self.emit(GroupingEvent("window", df, keys, self.node_location(window), self.stack))
        group = node.args.get("group")
        if group is not None:
            keys = tuple(self.column(self.group_key(key, node, aliases)) for key in group.expressions)
            if keys:
                self.emit(GroupingEvent("groupBy", df, keys, self.node_location(group.expressions[0]) or self.node_location(group),
                                        self.stack))
            df = self.op("agg", tuple(projections), df, group)
        elif any(item.find(exp.AggFunc) for item in node.expressions):
            df = self.op("agg", tuple(projections), df, node)
        else:
            df = self.op("select", tuple(projections), df, node)
        if node.args.get("distinct") is not None:
            df = self.op("distinct", (), df, node)
        df = self.distribution(node, df)
        limit = node.args.get("limit")
        if limit is not None:
            rows = _literal_int(limit.expression if limit.expression is not None else limit.this)
            df = self.op("limit", (ConstV(rows),) if rows is not None else (), df, limit)
        return self.apply_partition_hints(df, hints)

    def group_key(self, key, node, aliases: dict):
        """`GROUP BY 1` is the first select item; `GROUP BY k` a select alias when no input column
        is known by that name (Spark's `groupByAliases`)."""
        from sqlglot import exp

        if isinstance(key, exp.Literal) and not key.is_string:
            position = _literal_int(key)
            items = node.expressions
            if position is not None and 0 < position <= len(items):
                item = items[position - 1]
                return item.this if isinstance(item, exp.Alias) else item
        if isinstance(key, exp.Column) and not key.table and key.name.lower() in aliases:
            aliased = aliases[key.name.lower()]
            if not (isinstance(aliased, exp.Column) and aliased.name.lower() == key.name.lower()):
                return aliased
        return key

    def distribution(self, node, df: DataFrameV) -> DataFrameV:
        """`DISTRIBUTE BY`, `CLUSTER BY`, `SORT BY`, `ORDER BY`."""
        for clause, name in (("distribute", "repartition"), ("cluster", "repartition")):
            part = node.args.get(clause)
            if part is not None:
                keys = tuple(self.column(key) for key in part.expressions)
                self.emit(GroupingEvent("repartition", df, keys, self.node_location(part), self.stack))
                df = self.op(name, keys, df, part)
                if clause == "cluster":
                    df = self.op("sortWithinPartitions", keys, df, part)
        sort = node.args.get("sort")
        if sort is not None:
            df = self.op("sortWithinPartitions", tuple(self.column(k) for k in sort.expressions), df, sort)
        order = node.args.get("order")
        if order is not None:
            df = self.op("orderBy", tuple(self.column(k) for k in order.expressions), df, order)
        return df

    def join(self, left: DataFrameV, join, ctes, hints) -> DataFrameV:
        right = self.relation(join.this, ctes, hints)
        side = (join.args.get("side") or "").lower()
        kind = (join.args.get("kind") or "").lower()
        on = join.args.get("on")
        using = join.args.get("using")
        if on is not None:
            condition: Value = self.column(on)
        elif using:
            condition = ConstV(using[0].name) if len(using) == 1 else UNKNOWN
        else:
            condition = UNKNOWN
            kind = kind or "cross"
        how = JOIN_TYPES.get((side, kind), "inner")
        location = self.node_location(join.this)
        if on is None and not using and how != "cross":
            how = "cross"
        self.emit(JoinEvent(left, right, condition, ConstV(how), location or self.call_location, self.stack))
        return self.op("join", (right, condition, ConstV(how)), left, join.this, other=right)

    def relation(self, node, ctes, hints: dict | None = None) -> DataFrameV:
        from sqlglot import exp

        hints = hints or {}
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            name = _table_name(node)
            alias = (node.alias or node.name).lower()
            df = ctes.get(name.lower()) or self.views.get(name.lower())
            if df is None:
                detail = "unknown" if HOLE_PREFIX in name else "table"
                df = DataFrameV(Op("source", (ConstV(name),), (), self.node_location(node), self.stack, None, detail=detail))
            return self.join_hint(df, {alias, name.lower()}, hints, node)
        if isinstance(node, (exp.Subquery, exp.Query)):
            df = self.query(node, ctes)
            alias = (node.alias or "").lower() if hasattr(node, "alias") else ""
            return self.join_hint(df, {alias} if alias else set(), hints, node)
        if isinstance(node, exp.Values):
            return self.literal_rows(node, len(node.expressions))
        return self.unknown_source(node)

    def join_hint(self, df: DataFrameV, names: set[str], hints: dict, node) -> DataFrameV:
        for hint, tables in hints.get("join", ()):
            if names & tables:
                if hint in BROADCAST_HINTS:
                    return self.op("broadcast", (), df, node)
                return self.op("hint", (ConstV(hint),), df, node)
        return df

    def literal_rows(self, node, count: int) -> DataFrameV:
        """`VALUES (...), (...)` or a `SELECT` without `FROM`: a LocalRelation Spark sizes."""
        from sparklint.graph.values import SeqV

        rows = SeqV(tuple(UNKNOWN for _ in range(max(count, 1))), "list")
        return DataFrameV(Op("source", (rows,), (("relation", ConstV("local")),), self.node_location(node),
                             self.stack, None, detail="literal"))

    def unknown_source(self, node) -> DataFrameV:
        return DataFrameV(Op("source", (), (), self.node_location(node), self.stack, None, detail="unknown"))

    def op(self, name: str, args, df: DataFrameV, node, other: DataFrameV | None = None) -> DataFrameV:
        return DataFrameV(Op(name, tuple(args), (), self.node_location(node) or self.call_location, self.stack, df.head, other))

    # ------------------------------------------------------------ hints

    def hints(self, node) -> dict:
        """The select's hints: join hints by table, and the partitioning ones in order."""
        from sqlglot import exp

        found: dict = {"join": [], "partitioning": []}
        hint = node.args.get("hint")
        for item in hint.expressions if hint is not None else ():
            if isinstance(item, exp.JoinHint):
                tables = {(table.alias_or_name if hasattr(table, "alias_or_name") else table.sql()).lower()
                          for table in item.expressions}
                found["join"].append((str(item.this).lower(), tables))
            else:
                name = (item.key if not isinstance(item, exp.Anonymous) else item.name).lower()
                found["partitioning"].append((name, item))
        return found

    def apply_partition_hints(self, df: DataFrameV, hints: dict) -> DataFrameV:
        from sqlglot import exp

        for name, item in hints["partitioning"]:
            location = self.hint_location(name)
            arguments = [item.this, *item.expressions] if not isinstance(item, exp.Anonymous) else list(item.expressions)
            arguments = [argument for argument in arguments if argument is not None]
            number = _literal_int(arguments[0]) if arguments else None
            columns = tuple(self.column(a) for a in arguments if not (isinstance(a, exp.Literal) and not a.is_string))
            spark_name = {"coalesce": "coalesce", "repartition": "repartition",
                          "repartition_by_range": "repartitionByRange", "rebalance": "rebalance"}.get(name)
            if spark_name is None:
                continue
            if columns and spark_name != "coalesce":
                self.emit(GroupingEvent("repartition", df, columns, location or self.call_location, self.stack))
            args = ((ConstV(number),) if number is not None else ()) + columns
            df = DataFrameV(Op(spark_name, args, (), location or self.call_location, self.stack, df.head))
        return df

    def hint_location(self, name: str) -> Location | None:
        """Hints are parsed apart from the query: find the name in the hint comments."""
        pattern = re.compile(rf"\b{re.escape(name)}\b", re.I)
        for start, end in self._hint_spans:
            match = pattern.search(self.text.text, start, end)
            if match is not None:
                return self.text.locate(match.start(), len(name))
        return None

    # ------------------------------------------------------------ expressions

    def column(self, node) -> Value:
        """A SQL expression as the column value DataFrame code would build for it."""
        from sqlglot import exp

        location = self.node_location(node)
        if isinstance(node, exp.Paren):
            return self.column(node.this)
        if isinstance(node, exp.Alias):
            return ColumnV("method", "alias", (self.column(node.this), ConstV(node.alias)), location, self.stack)
        if isinstance(node, exp.Column):
            name = node.name if not isinstance(node.this, exp.Star) else "*"
            if name.startswith(HOLE_PREFIX):
                return UNKNOWN
            return ColumnV("ref", name, location=location)
        if isinstance(node, exp.Literal):
            value = node.this if node.is_string else _number(node.this)
            return ColumnV("lit", "lit", (ConstV(value),), location, self.stack)
        if isinstance(node, exp.Null):
            return ColumnV("lit", "lit", (ConstV(None),), location, self.stack)
        if isinstance(node, exp.Boolean):
            return ColumnV("lit", "lit", (ConstV(bool(node.this)),), location, self.stack)
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            return ColumnV("method", "isNull", (self.column(node.this),), location, self.stack)
        if isinstance(node, exp.Not):
            inner = node.this.this if isinstance(node.this, exp.Paren) else node.this
            if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
                return ColumnV("method", "isNotNull", (self.column(inner.this),), location, self.stack)
            return ColumnV("op", "~", (self.column(node.this),), location, self.stack)
        if isinstance(node, exp.Case):
            return self.case(node, location)
        if isinstance(node, exp.Coalesce):
            name = _written_name(self.text.text, node, ("coalesce", "nvl", "ifnull"))
            args = (node.this, *node.expressions)
            return ColumnV("func", name, tuple(self.column(a) for a in args), location, self.stack)
        if isinstance(node, exp.Cast):
            return ColumnV("method", "cast", (self.column(node.this), ConstV(node.to.sql(dialect="spark").lower())),
                           location, self.stack)
        if isinstance(node, exp.Window):
            return self.column(node.this)
        operator = BINARY_OPERATORS.get(type(node).__name__)
        if operator is not None:
            return ColumnV("op", operator, (self.column(node.this), self.column(node.expression)), location, self.stack)
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            return ColumnV("func", name, tuple(self.column(a) for a in _arguments(node)), location, self.stack)
        return UNKNOWN

    def case(self, node, location: Location | None) -> Value:
        """`CASE WHEN c THEN v ... ELSE d END` as `when(c, v).when(...).otherwise(d)`."""
        if node.this is not None:
            return ColumnV("func", "case", (), location, self.stack)  # `CASE x WHEN 1 THEN ...`
        value: Value = UNKNOWN
        for index, branch in enumerate(node.args.get("ifs") or ()):
            condition, result = self.column(branch.this), self.column(branch.args.get("true"))
            value = (ColumnV("func", "when", (condition, result), location, self.stack) if index == 0
                     else ColumnV("method", "when", (value, condition, result), location, self.stack))
        default = node.args.get("default")
        if default is not None and isinstance(value, ColumnV):
            value = ColumnV("method", "otherwise", (value, self.column(default)), location, self.stack)
        return value

    def node_location(self, node) -> Location | None:
        """Where the node's first token stands in the file."""
        from sqlglot import exp

        if not isinstance(node, exp.Expression):
            return None
        first = None
        for candidate in node.walk():
            meta = candidate.meta if isinstance(candidate, exp.Expression) else None
            if meta and "start" in meta and not _in_hint(meta["start"], self._hint_spans):
                if first is None or meta["start"] < first["start"]:
                    first = meta
        if first is None:
            return None
        return self.text.locate(first["start"], first.get("end", first["start"]) - first["start"] + 1)


BINARY_OPERATORS = {
    "EQ": "==", "NEQ": "!=", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<=", "And": "&", "Or": "|",
    "Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Mod": "%", "NullSafeEQ": "<=>", "DPipe": "||",
}


def _arguments(node) -> list:
    from sqlglot import exp

    out = []
    for key in node.arg_types:
        value = node.args.get(key)
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, exp.Expression):
                out.append(item)
    return out


def _written_name(text: str, node, names: tuple[str, ...]) -> str:
    """sqlglot spells `nvl` and `ifnull` as `coalesce`: the name as the query writes it."""
    meta = node.meta or {}
    start = meta.get("start")
    if start is not None:
        word = re.match(r"[A-Za-z_]+", text[start:])
        if word is not None and word.group(0).lower() in names:
            return word.group(0).lower()
    return names[0]


def _in_sql(location: Location | None) -> Location | None:
    if location is None or isinstance(location, SqlLocation):
        return location
    return SqlLocation(location.path, location.line, location.col, location.end_line, location.end_col)


def _in_hint(offset: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in spans)


def _table_name(table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part)


def _partition_columns(table) -> list:
    """The dynamic partition columns of `INSERT ... PARTITION (a, b='x')`: `a`."""
    from sqlglot import exp

    partition = table.args.get("partition")
    if partition is None:
        return []
    return [item for item in partition.expressions if isinstance(item, exp.Column)]


def _literal_int(node) -> int | None:
    from sqlglot import exp

    if isinstance(node, exp.Literal) and not node.is_string:
        value = _number(node.this)
        return value if isinstance(value, int) else None
    return None


def _number(text: str) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text
