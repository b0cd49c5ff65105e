"""Column types as the code states them, language-neutral.

Spark's own type names are the vocabulary: a `StructType` of `StructField`s (PySpark classes or
Scala objects), a DDL string (`"origin_uid STRING, n BIGINT"`), a Scala case class's parameter
types, a `cast`, and the result types of functions. What no code states stays unknown; callers
decide what unknown means for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sparklint.graph.values import UNKNOWN, ColumnV, ConstV, ExternalRef, Op, SchemaV, SeqV, Value, const_of, str_of

TYPES_MODULES = ("pyspark.sql.types", "org.apache.spark.sql.types")

# Spark type names (DDL, `simpleString`, class names without `Type`) -> the kind rules reason about.
_KINDS = {
    "string": "string", "varchar": "string", "char": "string",
    "bigint": "numeric", "long": "numeric", "int": "numeric", "integer": "numeric", "smallint": "numeric",
    "short": "numeric", "tinyint": "numeric", "byte": "numeric", "double": "numeric", "float": "numeric",
    "real": "numeric", "decimal": "numeric", "numeric": "numeric", "dec": "numeric",
    "boolean": "boolean", "bool": "boolean",
    "date": "date", "timestamp": "timestamp", "timestamp_ntz": "timestamp", "timestamp_ltz": "timestamp",
    "timestampntz": "timestamp", "binary": "binary",
    "array": "complex", "map": "complex", "struct": "complex", "interval": "interval", "void": "null",
}
# Scala and Java types of case class parameters -> Spark type names.
_JVM_TYPES = {
    "string": "string", "long": "bigint", "int": "int", "integer": "int", "short": "smallint",
    "byte": "tinyint", "double": "double", "float": "float", "bigdecimal": "decimal", "boolean": "boolean",
    "date": "date", "localdate": "date", "timestamp": "timestamp", "instant": "timestamp",
    "localdatetime": "timestamp", "seq": "array", "list": "array", "array": "array", "vector": "array",
    "set": "array", "map": "map",
}

STRING_RESULT_FUNCTIONS = frozenset({
    "concat", "concat_ws", "lower", "upper", "lcase", "ucase", "trim", "ltrim", "rtrim", "btrim",
    "substring", "substr", "substring_index", "regexp_replace", "regexp_extract", "lpad", "rpad",
    "initcap", "translate", "format_string", "printf", "sha2", "md5", "sha1", "sha", "base64",
    "split_part", "left", "right", "uuid", "hex", "unhex", "date_format", "from_unixtime", "repeat",
    "reverse", "overlay", "replace", "soundex", "to_json", "string", "to_char", "to_varchar", "elt",
    "conv", "bin", "encode", "decode", "mask", "url_encode", "url_decode", "input_file_name",
})
NUMERIC_RESULT_FUNCTIONS = frozenset({
    "length", "char_length", "character_length", "len", "octet_length", "bit_length", "count",
    "countDistinct", "count_distinct", "approx_count_distinct", "sum", "avg", "mean", "min_by",
    "year", "month", "dayofmonth", "dayofweek", "dayofyear", "hour", "minute", "second", "quarter",
    "weekofyear", "datediff", "months_between", "unix_timestamp", "abs", "round", "bround", "floor",
    "ceil", "ceiling", "sqrt", "exp", "log", "log10", "log2", "pow", "power", "pmod", "hash",
    "xxhash64", "crc32", "size", "array_size", "instr", "locate", "ascii", "monotonically_increasing_id",
    "row_number", "rank", "dense_rank", "ntile", "spark_partition_id", "signum", "greatest_int",
    "bigint", "int", "double", "float", "smallint", "tinyint", "decimal",
})
BOOLEAN_RESULT_FUNCTIONS = frozenset({
    "isnull", "isnan", "isnotnull", "array_contains", "startswith", "endswith", "contains", "rlike",
    "like", "ilike", "exists", "forall", "boolean",
})
DATE_RESULT_FUNCTIONS = frozenset({"to_date", "current_date", "date_add", "date_sub", "add_months",
                                   "last_day", "next_day", "trunc", "make_date", "date"})
TIMESTAMP_RESULT_FUNCTIONS = frozenset({"to_timestamp", "current_timestamp", "now", "date_trunc",
                                        "from_utc_timestamp", "to_utc_timestamp", "make_timestamp",
                                        "timestamp_seconds", "timestamp"})
ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "//", "**", "neg"})
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "<=>", "not", "&", "|", "and", "or"})
BOOLEAN_METHODS = frozenset({"isNull", "isNotNull", "isin", "like", "rlike", "startswith", "endswith",
                             "contains", "between", "eqNullSafe", "isNaN", "startsWith", "endsWith"})


@dataclass(frozen=True, slots=True)
class ColumnType:
    """A column's type kind ("string", "numeric", "boolean", "date", "timestamp", "binary",
    "complex") and what says so, as a finding words it."""

    kind: str
    basis: str


TYPE_CONSTRUCTORS = frozenset({"StructType", "StructField", "DataTypes", "ArrayType", "MapType", "DecimalType"})


def is_types_member(name: str) -> bool:
    """Whether `StructField`, `LongType`... under a Scala `import ...types._` is that type."""
    return name in TYPE_CONSTRUCTORS or (name.endswith("Type") and kind_of(name) is not None)


def kind_of(type_name: str) -> str | None:
    """The kind of a Spark type name: "STRING", "bigint", "decimal(10,2)", "array<string>"."""
    base = re.split(r"[<(\s]", type_name.strip().lower(), maxsplit=1)[0]
    return _KINDS.get(base.removesuffix("type"))


def type_name_of(value: Value) -> str | None:
    """The Spark type a value denotes: `StringType()`, Scala `StringType`, `"string"`."""
    if isinstance(value, ExternalRef):
        last = value.dotted.rsplit(".", 1)[-1]
        if last.endswith("Type") and kind_of(last) is not None:
            return last.removesuffix("Type").lower()
        return None
    text = str_of(value)
    return text.strip().lower() if text is not None and kind_of(text) is not None else None


def struct_field(args: tuple[Value, ...], kwargs: tuple[tuple[str, Value], ...]) -> SchemaV | None:
    """`StructField(name, type, ...)` as a one-field schema (a StructType joins them)."""
    named = dict(kwargs)
    name = str_of(args[0] if args else named.get("name", ConstV(None)))
    data_type = args[1] if len(args) > 1 else named.get("dataType")
    if name is None or data_type is None:
        return None
    return SchemaV(((name, type_name_of(data_type) or "?"),))


def struct_type(args: tuple[Value, ...]) -> SchemaV:
    """`StructType([StructField...])`, `StructType(Seq(...))`, `StructType()`."""
    fields: list[tuple[str, str]] = []
    items = args[0].items if args and isinstance(args[0], SeqV) else args
    for item in items:
        if isinstance(item, SchemaV):
            fields.extend(item.fields)
    return SchemaV(tuple(fields))


def with_field(schema: SchemaV, args: tuple[Value, ...]) -> SchemaV:
    """`schema.add("a", StringType)` or `schema.add(StructField(...))`."""
    if args and isinstance(args[0], SchemaV):
        return SchemaV(schema.fields + args[0].fields, schema.origin, schema.location)
    added = struct_field(args, ())
    return SchemaV(schema.fields + added.fields, schema.origin, schema.location) if added else schema


def ddl_schema(text: str) -> SchemaV | None:
    """`"origin_uid STRING, n BIGINT"` or `"struct<origin_uid:string,n:bigint>"`."""
    body = text.strip()
    if body.lower().startswith("struct<") and body.endswith(">"):
        body = body[len("struct<"):-1]
    fields = []
    for part in _top_level_split(body):
        match = re.fullmatch(r"\s*`?([A-Za-z_][\w]*)`?\s*:?\s+([A-Za-z_][\w<>(),: ]*?)\s*(?:NOT\s+NULL)?\s*(?:COMMENT\s+'.*')?\s*",
                             part, re.IGNORECASE) or re.fullmatch(r"\s*`?([A-Za-z_]\w*)`?\s*:\s*(\S.*?)\s*", part)
        if match is None or kind_of(match.group(2)) is None:
            return None
        fields.append((match.group(1), match.group(2).strip().lower()))
    return SchemaV(tuple(fields)) if fields else None


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def jvm_type_name(annotation: str | None) -> str:
    """A Scala parameter type as a Spark type name ("?" when not a type Spark encodes)."""
    if not annotation:
        return "?"
    text = annotation.replace(" ", "")
    while text.startswith("Option[") and text.endswith("]"):
        text = text[len("Option["):-1]
    base = text.split("[", 1)[0].rsplit(".", 1)[-1].lower()
    return _JVM_TYPES.get(base, "?")


def schema_of(value: Value) -> SchemaV | None:
    """The schema a value states: a StructType, or a DDL string."""
    if isinstance(value, SchemaV):
        return value
    text = str_of(value)
    if text is not None:
        schema = ddl_schema(text)
        return SchemaV(schema.fields, "the DDL schema " + _quoted(text)) if schema else None
    return None


def _quoted(text: str) -> str:
    short = text if len(text) <= 40 else text[:37] + "..."
    return f'`"{short}"`'


# ---------------------------------------------------------------- types of columns


def column_type(name: str, at: Op | None, depth: int = 0) -> ColumnType | None:
    """The type of column `name` in the DataFrame ending at `at`, from the nearest operation
    that defines it; None when nothing on the way says."""
    op = at
    while op is not None and depth <= 24:
        if op.name == "withColumn" and str_of(op.arg(0)) == name and len(op.args) > 1:
            return expression_type(op.args[1], op.prev, depth + 1)
        if op.name in ("select", "agg", "aggregate"):
            for arg in flat(op.args):
                if alias_of(arg) == name:
                    return expression_type(arg, op.prev, depth + 1)
        if op.name == "withColumnRenamed" and str_of(op.arg(1)) == name and str_of(op.arg(0)):
            name = str_of(op.arg(0)) or name
        if op.name == "fillna" and fills_column(op, name):
            return ColumnType("string", f"`{name}` is filled with a string by `fillna`")
        schema = _stated_schema(op)
        if schema is not None:
            type_name = schema.type_of(name)
            if type_name is not None and kind_of(type_name) is not None:
                return ColumnType(kind_of(type_name) or "", f"`{name}` is {_a(type_name)} in {schema.origin or 'a schema'}")
        if op.other is not None:
            found = column_type(name, op.other.head, depth + 1)
            if found is not None:
                return found
        op = op.prev
    return None


def expression_type(expr: Value, at: Op | None, depth: int = 0) -> ColumnType | None:
    """The type of a column expression."""
    if depth > 24:
        return None
    if isinstance(expr, ConstV) or (isinstance(expr, ColumnV) and expr.kind == "lit"):
        constant = const_of(expr)
        if isinstance(constant, str):
            return ColumnType("string", f"`{constant!r}` is a string literal" if len(constant) < 20 else "a string literal")
        if isinstance(constant, bool):
            return ColumnType("boolean", "a boolean literal")
        if isinstance(constant, (int, float)):
            return ColumnType("numeric", "a number literal")
        return None
    if not isinstance(expr, ColumnV):
        return None
    if expr.kind == "ref":
        return column_type(expr.name, at, depth + 1)
    if expr.kind == "func":
        return _function_type(expr, at, depth)
    if expr.kind == "method":
        return _method_type(expr, at, depth)
    if expr.kind == "op":
        if expr.name in COMPARISONS:
            return ColumnType("boolean", f"`{expr.name}` gives a boolean")
        if expr.name in ARITHMETIC:
            return ColumnType("numeric", f"`{expr.name}` gives a number")
    return None


def _function_type(expr: ColumnV, at: Op | None, depth: int) -> ColumnType | None:
    name = expr.name
    for functions, kind in ((STRING_RESULT_FUNCTIONS, "string"), (NUMERIC_RESULT_FUNCTIONS, "numeric"),
                            (BOOLEAN_RESULT_FUNCTIONS, "boolean"), (DATE_RESULT_FUNCTIONS, "date"),
                            (TIMESTAMP_RESULT_FUNCTIONS, "timestamp")):
        if name in functions:
            return ColumnType(kind, f"`{name}` returns {_a(kind)}")
    if name in ("coalesce", "nvl", "ifnull", "greatest", "least", "nullif", "when", "first", "last", "max",
                "min", "any_value", "nvl2"):
        arguments = expr.args[1:] if name == "nvl2" else expr.args
        for argument in arguments:
            found = expression_type(argument, at, depth + 1)
            if found is not None:
                return found
    return None


def _method_type(expr: ColumnV, at: Op | None, depth: int) -> ColumnType | None:
    name = expr.name
    if name in ("cast", "astype") and len(expr.args) > 1:
        type_name = type_name_of(expr.args[1])
        if type_name is not None:
            return ColumnType(kind_of(type_name) or "", f"cast to {type_name}")
        return None
    if name in BOOLEAN_METHODS:
        return ColumnType("boolean", f"`{name}` gives a boolean")
    if name in ("substr", "substring"):
        return ColumnType("string", f"`{name}` returns a string")
    if name in ("alias", "name", "as", "over") and expr.args:
        return expression_type(expr.args[0], at, depth + 1)
    if name == "otherwise" and expr.args:
        for branch in expr.args:
            found = expression_type(branch, at, depth + 1)
            if found is not None:
                return found
    return None


def _stated_schema(op: Op) -> SchemaV | None:
    """The schema a source or `as[T]` states for its columns."""
    if op.name == "source" or op.name == "as":
        for key, value in op.kwargs:
            if key == "schema":
                return schema_of(value)
        if op.name == "source" and len(op.args) > 1 and op.detail in ("literal", "unknown"):
            return schema_of(op.args[1])  # createDataFrame(rows, schema)
    return None


def fills_column(op: Op, name: str) -> bool:
    """`fillna("")`, `fillna("", subset=[...])`, `na.fill("", Seq(...))`: a string fill of `name`."""
    value = op.arg(0, "value")
    if isinstance(value, SeqV) and value.kind == "dict":
        for pair in value.items:
            if isinstance(pair, SeqV) and len(pair.items) == 2 and str_of(pair.items[0]) == name:
                return str_of(pair.items[1]) is not None
        return False
    if str_of(value) is None:
        return False
    subset = op.arg(1, "subset")
    if subset is UNKNOWN:
        return True
    names = [str_of(item) for item in subset.items] if isinstance(subset, SeqV) else [str_of(subset)]
    return name in names


def alias_of(value: Value) -> str | None:
    """The name `x.alias("k")` / `x.as("k")` gives a column."""
    if isinstance(value, ColumnV) and value.kind == "method" and value.name in ("alias", "name", "as") and len(value.args) > 1:
        return str_of(value.args[1])
    return None


def flat(values) -> list[Value]:
    """Arguments with lists spread: `select("a", ["b", "c"])` names three columns."""
    out: list[Value] = []
    for value in values:
        out.extend(value.items if isinstance(value, SeqV) else (value,))
    return out


def _a(type_name: str) -> str:
    return f"an {type_name}" if type_name[:1] in "aeiou" else f"a {type_name}"
