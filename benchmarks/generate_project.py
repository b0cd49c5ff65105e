"""Generate a large synthetic Spark mono-repo to benchmark `sparklint check` on.

    python benchmarks/generate_project.py --lines 200000 --out benchmarks/generated/py200k
    python benchmarks/generate_project.py --lines 200000 --out /tmp/mono --language both

The project looks like a data platform's repository: one package (Python) or sbt module
(Scala) per business domain, each with configuration constants, readers, small literal
dimensions, several layers of transformation steps whose helpers call helpers in other files
(every import style), classes, a keys module, aggregates, a sink and a job entry point. A
shared `common` package holds session, I/O and column helpers (Scala: an implicit class).

A few domains carry one of the defects sparklint reports, planted deterministically; the
planted line ends with `# expect: SPKnnn` (`// expect: SPKnnn`), and `GENERATED.json` lists
them with the file and line counts. The same `--seed` always gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NOUNS = (
    "orders", "payments", "shipments", "clicks", "sessions", "inventory", "refunds", "reviews",
    "campaigns", "accounts", "devices", "invoices", "ledger", "searches", "carts", "listings",
    "bookings", "rides", "claims", "policies", "subscriptions", "coupons", "returns", "stock",
)
VERBS = (
    "clean", "normalise", "enrich", "flag", "score", "dedupe", "filter", "label", "bucket",
    "derive", "mask", "tag", "rank", "trim", "validate", "convert",
)
OBJECTS = (
    "amounts", "timestamps", "countries", "currencies", "channels", "devices", "names", "ids",
    "prices", "regions", "statuses", "flags", "emails", "addresses", "quantities", "segments",
)
COLUMNS = (
    "event_id", "event_time", "amount", "currency", "country_code", "channel", "status",
    "customer_id", "device_id", "region_code", "quantity", "price", "segment", "email",
    "partner_id", "store_id", "product_id", "campaign_id", "session_id", "source_system",
)
DIM_ROWS = {
    "country_code": (("DE", "Germany"), ("FR", "France"), ("NL", "Netherlands"), ("ES", "Spain"),
                     ("IT", "Italy"), ("PL", "Poland"), ("SE", "Sweden"), ("AT", "Austria")),
    "channel": (("web", "Web shop"), ("app", "Mobile app"), ("pos", "Point of sale"), ("tel", "Phone")),
    "status": (("N", "New"), ("P", "Paid"), ("S", "Shipped"), ("C", "Cancelled"), ("R", "Returned")),
    "currency": (("EUR", "Euro"), ("SEK", "Swedish krona"), ("PLN", "Polish zloty"), ("CHF", "Swiss franc")),
}
PLANT_RATE = 0.12  # share of domains that carry each kind of defect


@dataclass(slots=True)
class Budget:
    """Lines still to generate for one language."""

    remaining: int

    def spend(self, text: str) -> str:
        self.remaining -= text.count("\n")
        return text


@dataclass(slots=True)
class Output:
    root: Path
    files: dict[str, str] = field(default_factory=dict)

    def add(self, relative: str, text: str) -> None:
        self.files[relative] = text

    def write(self) -> None:
        for relative, text in sorted(self.files.items()):
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Domain:
    name: str  # python package name, e.g. "orders_3"
    camel: str  # "Orders3"
    columns: tuple[str, ...]
    dim_column: str
    plants: frozenset[str]  # rule codes planted in this domain
    layers: int  # number of steps modules
    functions_per_layer: int


def domain_names() -> Iterator[tuple[str, str]]:
    """orders, payments, ..., stock, orders_2, payments_2, ...: endless, unique."""
    index = 0
    while True:
        noun = NOUNS[index % len(NOUNS)]
        generation = index // len(NOUNS)
        name = noun if generation == 0 else f"{noun}_{generation + 1}"
        camel = "".join(part.capitalize() for part in name.split("_"))
        yield name, camel
        index += 1


def plan_domain(rng: random.Random, name: str, camel: str, remaining: int, per_function: int) -> Domain:
    columns = tuple(rng.sample(COLUMNS, 8))
    dim_column = rng.choice(sorted(DIM_ROWS))
    if dim_column not in columns:
        columns = (dim_column, *columns[1:])
    plants = frozenset(code for code in ("SPK001", "SPK002", "SPK003") if rng.random() < PLANT_RATE)
    functions_per_layer = rng.randint(5, 14)
    layers = rng.randint(3, 9)
    fixed_cost = 260
    affordable = max(1, (remaining - fixed_cost) // max(1, functions_per_layer * per_function))
    return Domain(name, camel, columns, dim_column, plants, max(1, min(layers, affordable)), functions_per_layer)


def function_names(rng: random.Random, domain: Domain, taken: list[str] | None) -> list[str]:
    """Distinct helper names for one layer, none equal to a name of the layer below (which may be
    imported by name, and a definition must not shadow the import it calls)."""
    names: list[str] = []
    excluded = set(taken or ())
    while len(names) < domain.functions_per_layer:
        candidate = f"{rng.choice(VERBS)}_{rng.choice(OBJECTS)}"
        if candidate not in names and candidate not in excluded:
            names.append(candidate)
    return names


def camel_case(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


# ================================================================== Python


def python_common(out: Output, budget: Budget) -> None:
    out.add("acme/__init__.py", budget.spend('"""The acme data platform: one package per business domain."""\n'))
    out.add("acme/common/__init__.py", budget.spend(
        '"""Helpers every domain shares."""\n\n'
        "from .io import read_table, write_table\n"
        "from .session import build_session\n\n"
        '__all__ = ["build_session", "read_table", "write_table"]\n'
    ))
    out.add("acme/common/session.py", budget.spend('''"""The one way jobs create their SparkSession."""

from __future__ import annotations

from pyspark.sql import SparkSession

SHUFFLE_PARTITIONS = 400


def build_session(app_name: str) -> SparkSession:
    return (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.shuffle.partitions", SHUFFLE_PARTITIONS)
        .config("spark.sql.adaptive.enabled", "true")
        .enableHiveSupport()
        .getOrCreate()
    )
'''))
    out.add("acme/common/io.py", budget.spend('''"""Reading and writing warehouse tables."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

DEFAULT_WRITE_PARTITIONS = 200


def read_table(spark: SparkSession, table: str, run_date: str | None = None) -> DataFrame:
    df = spark.read.table(table)
    if run_date is not None:
        df = df.filter(F.col("load_date") == F.lit(run_date))
    return df


def write_table(df: DataFrame, table: str, partitions: int = DEFAULT_WRITE_PARTITIONS) -> None:
    """Replace the partitions of `table` that `df` covers."""
    (
        df.repartition(partitions)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .insertInto(table)
    )


def append_table(df: DataFrame, table: str) -> None:
    df.write.mode("append").saveAsTable(table)
'''))
    out.add("acme/common/columns.py", budget.spend('''"""Column expressions shared by the domains."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def blank_to_null(name: str) -> Column:
    """The column with empty or blank strings turned into nulls."""
    return F.when(F.trim(F.col(name)) != "", F.col(name))


def cents_to_units(name: str) -> Column:
    return (F.col(name) / F.lit(100)).cast("decimal(18,2)")


def lower_trimmed(name: str) -> Column:
    return F.lower(F.trim(F.col(name)))
'''))


def python_step_body(rng: random.Random, domain: Domain, call: str) -> list[str]:
    """The body of one transformation helper: a call into another helper, then a chain."""
    c = rng.sample(domain.columns, 4)
    operations = [
        f'.filter(F.col("{c[0]}").isNotNull())',
        f'.withColumn("{c[1]}_clean", lower_trimmed("{c[1]}"))',
        f'.withColumn("{c[2]}_units", cents_to_units("{c[2]}"))',
        f'.withColumnRenamed("{c[3]}", "{c[3]}_src")',
        f'.dropDuplicates(["{c[0]}"])',
        f'.where(F.col("{c[2]}") >= F.lit({rng.randint(0, 50)}))',
        f'.withColumn("is_{c[1]}_known", F.col("{c[1]}").isin({rng.sample(range(1, 90), 3)}))',
        f'.withColumn("{c[0]}_bucket", F.abs(F.hash(F.col("{c[0]}"))) % F.lit({rng.choice((8, 16, 32))}))',
    ]
    chosen = rng.sample(operations, rng.randint(2, 4))
    return [f"    df = {call}", "    return (", "        df", *(f"        {op}" for op in chosen), "    )"]


def python_steps_module(rng: random.Random, domain: Domain, layer: int, names: list[str],
                        previous: list[str] | None) -> str:
    package = f"acme.{domain.name}"
    lines = [f'"""{domain.camel} steps, layer {layer}: small helpers the pipeline chains together."""', "",
             "from __future__ import annotations", "", "from pyspark.sql import DataFrame",
             "from pyspark.sql import functions as F", ""]
    previous_ref = ""
    if previous is not None:
        style = rng.randrange(4)
        if style == 0:
            lines.append(f"from . import steps_{layer - 1}")
            previous_ref = f"steps_{layer - 1}."
        elif style == 1:
            lines.append(f"import {package}.steps_{layer - 1} as previous_layer")
            previous_ref = "previous_layer."
        elif style == 2:
            lines.append(f"from {package} import steps_{layer - 1} as earlier")
            previous_ref = "earlier."
        else:
            lines.append(f"from .steps_{layer - 1} import {', '.join(sorted(set(previous)))}")
    lines += ["from acme.common.columns import cents_to_units, lower_trimmed", "", ""]
    for index, name in enumerate(names):
        if previous is not None and (index == 0 or rng.random() < 0.6):
            call = f"{previous_ref}{rng.choice(previous)}(df)"
        elif index > 0:
            call = f"{names[rng.randrange(index)]}(df)"
        else:
            call = "df.select(*df.columns)"
        lines += [f"def {name}(df: DataFrame) -> DataFrame:",
                  f'    """{name.replace("_", " ").capitalize()} of the {domain.name.replace("_", " ")} rows."""',
                  *python_step_body(rng, domain, call), "", ""]
    stage = f"{domain.camel}Layer{layer}Stage"
    threshold = rng.randint(1, 500)
    lines += [f"class {stage}:", f'    """Applies layer {layer} to a DataFrame, keeping rows above a threshold."""', "",
              f"    MIN_{domain.columns[2].upper()} = {threshold}", "",
              "    def __init__(self, strict: bool = False) -> None:", "        self.strict = strict", "",
              "    def apply(self, df: DataFrame) -> DataFrame:",
              f"        df = {names[-1]}(df)",
              "        if self.strict:",
              f'            df = df.filter(F.col("{domain.columns[2]}") >= F.lit(self.MIN_{domain.columns[2].upper()}))',
              "        return df", ""]
    return "\n".join(lines) + "\n"


def python_domain(rng: random.Random, domain: Domain, out: Output, budget: Budget) -> None:
    base = f"acme/{domain.name}"
    package = f"acme.{domain.name}"
    key = f"{domain.name}_key"
    dim = domain.dim_column
    out.add(f"{base}/__init__.py", budget.spend(
        f'"""The {domain.name.replace("_", " ")} domain."""\n\nfrom .pipeline import run\n\n__all__ = ["run"]\n'))
    write_parts = 2 if "SPK001" in domain.plants else 200
    out.add(f"{base}/config.py", budget.spend(
        f'"""Tables and tuning for the {domain.name} pipeline."""\n\n'
        f'SOURCE_TABLE = "raw.{domain.name}_events"\n'
        f'TARGET_TABLE = "mart.{domain.name}_daily"\n'
        f'KEY_COLUMN = "{key}"\n'
        f"WRITE_PARTITIONS = {write_parts}\n"
        f"MAX_LATE_DAYS = {rng.randint(1, 7)}\n"))
    rows = ",\n".join(f'            ("{code}", "{label}")' for code, label in DIM_ROWS[dim])
    out.add(f"{base}/dims.py", budget.spend(f'''"""Small reference data kept in code."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession


def {dim}_dimension(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [
{rows},
        ],
        ["{dim}", "{dim}_label"],
    )
'''))
    all_names: list[list[str]] = []
    for layer in range(1, domain.layers + 1):
        previous = all_names[-1] if all_names else None
        names = function_names(rng, domain, previous)
        out.add(f"{base}/steps_{layer}.py", budget.spend(python_steps_module(rng, domain, layer, names, previous)))
        all_names.append(names)
    first, second = domain.columns[4], domain.columns[5]
    if "SPK003" in domain.plants:
        key_expr = f'F.coalesce(F.col("{first}"), F.col("{second}"), F.lit("unknown"))'
    else:
        key_expr = f'F.coalesce(blank_to_null("{first}"), blank_to_null("{second}"), F.lit("unknown"))'
    out.add(f"{base}/keys.py", budget.spend(f'''"""The grouping key of the {domain.name} marts."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from acme.common.columns import blank_to_null
from {package}.config import KEY_COLUMN


def with_key(df: DataFrame) -> DataFrame:
    return df.withColumn(KEY_COLUMN, {key_expr})
'''))
    group_marker = "  # expect: SPK003" if "SPK003" in domain.plants else ""
    out.add(f"{base}/aggregates.py", budget.spend(f'''"""Daily aggregates per key."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from . import keys
from .config import KEY_COLUMN


def daily_totals(df: DataFrame) -> DataFrame:
    keyed = keys.with_key(df)
    grouped = keyed.groupBy(KEY_COLUMN, "{dim}_label"){group_marker}
    return grouped.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum("{domain.columns[2]}").alias("{domain.columns[2]}_total"),
        F.max("{domain.columns[3]}").alias("{domain.columns[3]}_max"),
    )
'''))
    if "SPK001" in domain.plants:
        write_lines = ("        (\n"
                       "            df.coalesce(WRITE_PARTITIONS)  # expect: SPK001\n"
                       "            .write.mode(\"overwrite\")\n"
                       "            .saveAsTable(self.table)\n"
                       "        )\n")
    else:
        write_lines = "        io.write_table(df, self.table, WRITE_PARTITIONS)\n"
    out.add(f"{base}/sink.py", budget.spend(f'''"""Where the {domain.name} marts are written."""

from __future__ import annotations

from pyspark.sql import DataFrame

import acme.common.io as io
from {package}.config import TARGET_TABLE, WRITE_PARTITIONS


class {domain.camel}Sink:
    def __init__(self, table: str = TARGET_TABLE) -> None:
        self.table = table

    def write(self, df: DataFrame) -> None:
{write_lines}'''))
    last_layer = domain.layers
    entry = rng.choice(all_names[-1])
    if "SPK002" in domain.plants:
        join_line = f'    joined = prepared.join(labels, "{dim}", "left")  # expect: SPK002'
    else:
        join_line = f'    joined = prepared.join(F.broadcast(labels), "{dim}", "left")'
    out.add(f"{base}/pipeline.py", budget.spend(f'''"""The {domain.name} daily pipeline: read, transform, label, aggregate, write."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from acme.common import read_table
from . import aggregates
from .config import SOURCE_TABLE
from .dims import {dim}_dimension
from .sink import {domain.camel}Sink
from .steps_{last_layer} import {domain.camel}Layer{last_layer}Stage, {entry}


def run(spark: SparkSession, run_date: str, strict: bool = False) -> None:
    source = read_table(spark, SOURCE_TABLE, run_date)
    prepared = {domain.camel}Layer{last_layer}Stage(strict=strict).apply({entry}(source))
    labels = {dim}_dimension(spark)
{join_line}
    totals = aggregates.daily_totals(joined)
    {domain.camel}Sink().write(totals)
'''))
    out.add(f"{base}/jobs/__init__.py", budget.spend(""))
    out.add(f"{base}/jobs/daily.py", budget.spend(f'''"""spark-submit acme/{domain.name}/jobs/daily.py <run date>"""

from __future__ import annotations

import sys

from acme.common import build_session
from acme.{domain.name} import run


def main() -> None:
    spark = build_session("{domain.name}-daily")
    run(spark, sys.argv[1], strict="--strict" in sys.argv)
    spark.stop()


if __name__ == "__main__":
    main()
'''))


def generate_python(rng: random.Random, lines: int, out: Output) -> None:
    budget = Budget(lines)
    python_common(out, budget)
    names = domain_names()
    while budget.remaining > 0:
        name, camel = next(names)
        domain = plan_domain(rng, name, camel, budget.remaining, per_function=9)
        python_domain(rng, domain, out, budget)


# ================================================================== Scala


def scala_common(out: Output, budget: Budget) -> None:
    base = "src/main/scala/com/acme/common"
    out.add(f"{base}/Syntax.scala", budget.spend('''package com.acme.common

import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.functions._

/** Extension methods every domain uses on its DataFrames. */
object Syntax {
  val DefaultWritePartitions: Int = 200

  implicit class RichDataFrame(val df: DataFrame) extends AnyVal {
    def withLoadDate(date: String): DataFrame = df.withColumn("load_date", lit(date))

    def writeDaily(table: String, partitions: Int = DefaultWritePartitions): Unit =
      df.repartition(partitions)
        .write
        .mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .insertInto(table)
  }

  def blankToNull(name: String): Column = when(trim(col(name)) =!= "", col(name))

  def centsToUnits(name: String): Column = (col(name) / lit(100)).cast("decimal(18,2)")

  def lowerTrimmed(name: String): Column = lower(trim(col(name)))
}
'''))
    out.add(f"{base}/Sessions.scala", budget.spend('''package com.acme.common

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.apache.spark.sql.functions._

object Sessions {
  val ShufflePartitions = 400

  def build(appName: String): SparkSession =
    SparkSession.builder()
      .appName(appName)
      .config("spark.sql.shuffle.partitions", ShufflePartitions)
      .enableHiveSupport()
      .getOrCreate()

  def readTable(spark: SparkSession, table: String, runDate: String): DataFrame =
    spark.read.table(table).filter(col("load_date") === lit(runDate))
}
'''))


def scala_step_body(rng: random.Random, domain: Domain, call: str) -> list[str]:
    c = rng.sample(domain.columns, 4)
    operations = [
        f'.filter(col("{c[0]}").isNotNull)',
        f'.withColumn("{c[1]}_clean", lowerTrimmed("{c[1]}"))',
        f'.withColumn("{c[2]}_units", centsToUnits("{c[2]}"))',
        f'.withColumnRenamed("{c[3]}", "{c[3]}_src")',
        f'.dropDuplicates(Seq("{c[0]}"))',
        f'.where(col("{c[2]}") >= lit({rng.randint(0, 50)}))',
        f'.withColumn("{c[0]}_bucket", abs(hash(col("{c[0]}"))) % lit({rng.choice((8, 16, 32))}))',
    ]
    chosen = rng.sample(operations, rng.randint(2, 4))
    return [f"    val prepared = {call}", "    prepared", *(f"      {op}" for op in chosen), "  }"]


def scala_steps_file(rng: random.Random, domain: Domain, layer: int, names: list[str],
                     previous: list[str] | None) -> str:
    package = f"com.acme.{domain.name}"
    obj = f"Steps{layer}"
    lines = [f"package {package}", "", "import org.apache.spark.sql.DataFrame",
             "import org.apache.spark.sql.functions._", "import com.acme.common.Syntax._"]
    previous_ref = f"Steps{layer - 1}."
    if previous is not None and rng.random() < 0.5:
        lines.append(f"import {package}.Steps{layer - 1}.{{{', '.join(camel_case(n) for n in sorted(set(previous)))}}}")
        previous_ref = ""
    lines += ["", f"/** {domain.camel} steps, layer {layer}. */", f"object {obj} {{"]
    for index, name in enumerate(names):
        method = camel_case(name)
        if previous is not None and (index == 0 or rng.random() < 0.6):
            call = f"{previous_ref}{camel_case(rng.choice(previous))}(df)"
        elif index > 0:
            call = f"{camel_case(names[rng.randrange(index)])}(df)"
        else:
            call = "df.withLoadDate(\"current\")"
        lines += [f"  def {method}(df: DataFrame): DataFrame = {{", *scala_step_body(rng, domain, call), ""]
    lines[-1] = "}"
    stage = f"{domain.camel}Layer{layer}Stage"
    lines += ["", f"class {stage}(strict: Boolean = false) {{",
              f"  private val MinValue = {rng.randint(1, 500)}", "",
              "  def apply(df: DataFrame): DataFrame = {",
              f"    val staged = {obj}.{camel_case(names[-1])}(df)",
              f'    if (strict) staged.filter(col("{domain.columns[2]}") >= lit(MinValue)) else staged',
              "  }", "}"]
    return "\n".join(lines) + "\n"


def scala_domain(rng: random.Random, domain: Domain, out: Output, budget: Budget) -> None:
    base = f"src/main/scala/com/acme/{domain.name}"
    package = f"com.acme.{domain.name}"
    dim = domain.dim_column
    write_parts = 2 if "SPK001" in domain.plants else 200
    out.add(f"{base}/Config.scala", budget.spend(f'''package {package}

object Config {{
  val SourceTable = "raw.{domain.name}_events"
  val TargetTable = "mart.{domain.name}_daily"
  val KeyColumn = "{domain.name}_key"
  val WritePartitions = {write_parts}
}}
'''))
    rows = ",\n".join(f'      ("{code}", "{label}")' for code, label in DIM_ROWS[dim])
    out.add(f"{base}/Dims.scala", budget.spend(f'''package {package}

import org.apache.spark.sql.{{DataFrame, SparkSession}}

object Dims {{
  def labels(spark: SparkSession): DataFrame = {{
    import spark.implicits._
    spark.sparkContext.parallelize(Seq(
{rows}
    )).toDF("{dim}", "{dim}_label")
  }}
}}
'''))
    all_names: list[list[str]] = []
    for layer in range(1, domain.layers + 1):
        previous = all_names[-1] if all_names else None
        names = function_names(rng, domain, previous)
        out.add(f"{base}/Steps{layer}.scala", budget.spend(scala_steps_file(rng, domain, layer, names, previous)))
        all_names.append(names)
    first, second = domain.columns[4], domain.columns[5]
    if "SPK003" in domain.plants:
        key_expr = f'coalesce(col("{first}"), col("{second}"), lit("unknown"))'
    else:
        key_expr = f'coalesce(blankToNull("{first}"), blankToNull("{second}"), lit("unknown"))'
    group_marker = "  // expect: SPK003" if "SPK003" in domain.plants else ""
    out.add(f"{base}/Aggregates.scala", budget.spend(f'''package {package}

import org.apache.spark.sql.DataFrame
import org.apache.spark.sql.functions._
import com.acme.common.Syntax._
import {package}.Config.KeyColumn

object Aggregates {{
  def withKey(df: DataFrame): DataFrame =
    df.withColumn(KeyColumn, {key_expr})

  def dailyTotals(df: DataFrame): DataFrame = {{
    val keyed = withKey(df)
    keyed
      .groupBy(col(KeyColumn), col("{dim}_label")){group_marker}
      .agg(
        count(lit(1)).as("rows"),
        sum("{domain.columns[2]}").as("{domain.columns[2]}_total"),
        max("{domain.columns[3]}").as("{domain.columns[3]}_max")
      )
  }}
}}
'''))
    if "SPK001" in domain.plants:
        write_body = ("    df.coalesce(Config.WritePartitions)  // expect: SPK001\n"
                      "      .write\n      .mode(\"overwrite\")\n      .saveAsTable(table)\n")
    else:
        write_body = "    df.writeDaily(table, Config.WritePartitions)\n"
    out.add(f"{base}/Sink.scala", budget.spend(f'''package {package}

import org.apache.spark.sql.DataFrame
import com.acme.common.Syntax._

class {domain.camel}Sink(table: String = Config.TargetTable) {{
  def write(df: DataFrame): Unit = {{
{write_body}  }}
}}
'''))
    last = domain.layers
    entry = camel_case(rng.choice(all_names[-1]))
    if "SPK002" in domain.plants:
        join_line = f'    val joined = prepared.join(labels, Seq("{dim}"), "left")  // expect: SPK002'
    else:
        join_line = f'    val joined = prepared.join(broadcast(labels), Seq("{dim}"), "left")'
    out.add(f"{base}/Pipeline.scala", budget.spend(f'''package {package}

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions._
import com.acme.common.Sessions

object Pipeline {{
  def run(spark: SparkSession, runDate: String, strict: Boolean = false): Unit = {{
    val source = Sessions.readTable(spark, Config.SourceTable, runDate)
    val prepared = new {domain.camel}Layer{last}Stage(strict).apply(Steps{last}.{entry}(source))
    val labels = Dims.labels(spark)
{join_line}
    val totals = Aggregates.dailyTotals(joined)
    new {domain.camel}Sink().write(totals)
  }}
}}
'''))
    if rng.random() < 0.5:
        job = f'''package {package}.jobs

import com.acme.common.Sessions
import {package}.Pipeline

object {domain.camel}DailyJob {{
  def main(args: Array[String]): Unit = {{
    val spark = Sessions.build("{domain.name}-daily")
    Pipeline.run(spark, args(0), strict = args.contains("--strict"))
    spark.stop()
  }}
}}
'''
    else:
        job = f'''package {package}.jobs

import com.acme.common.Sessions
import {package}.Pipeline

object {domain.camel}DailyJob extends App {{
  val spark = Sessions.build("{domain.name}-daily")
  Pipeline.run(spark, args(0))
  spark.stop()
}}
'''
    out.add(f"{base}/jobs/{domain.camel}DailyJob.scala", budget.spend(job))


def generate_scala(rng: random.Random, lines: int, out: Output) -> None:
    budget = Budget(lines)
    out.add("build.sbt", (
        'ThisBuild / scalaVersion := "2.13.14"\nThisBuild / organization := "com.acme"\n\n'
        'lazy val root = (project in file("."))\n  .settings(\n    name := "acme-data-platform",\n'
        '    libraryDependencies += "org.apache.spark" %% "spark-sql" % "3.5.1" % Provided\n  )\n'))
    out.add("project/build.properties", "sbt.version=1.10.0\n")
    scala_common(out, budget)
    names = domain_names()
    while budget.remaining > 0:
        name, camel = next(names)
        domain = plan_domain(rng, name, camel, budget.remaining, per_function=8)
        scala_domain(rng, domain, out, budget)


# ================================================================== driver


def planted_findings(files: dict[str, str]) -> list[dict[str, object]]:
    planted = []
    for relative, text in sorted(files.items()):
        for number, line in enumerate(text.splitlines(), start=1):
            for marker in ("# expect: ", "// expect: "):
                if marker in line:
                    for code in line.split(marker, 1)[1].split(","):
                        planted.append({"rule": code.strip(), "path": relative, "line": number})
    return planted


def source_lines(files: dict[str, str]) -> dict[str, int]:
    counts = {"python": 0, "scala": 0}
    for relative, text in files.items():
        if relative.endswith(".py"):
            counts["python"] += text.count("\n")
        elif relative.endswith(".scala"):
            counts["scala"] += text.count("\n")
    return counts


def generate(lines: int, language: str, seed: int, out_dir: Path) -> dict[str, object]:
    out = Output(out_dir)
    rng = random.Random(seed)
    if language in ("python", "both"):
        share = lines if language == "python" else lines // 2
        generate_python(random.Random(rng.getrandbits(64)), share, out)
    if language in ("scala", "both"):
        share = lines if language == "scala" else lines - lines // 2
        generate_scala(random.Random(rng.getrandbits(64)), share, out)
    out.add("pyproject.toml", '[project]\nname = "acme-data-platform"\nversion = "0.0.0"\n\n[tool.sparklint]\n')
    planted = planted_findings(out.files)
    manifest: dict[str, object] = {
        "seed": seed,
        "language": language,
        "requested_lines": lines,
        "source_lines": source_lines(out.files),
        "source_files": sum(1 for name in out.files if name.endswith((".py", ".scala"))),
        "planted": planted,
    }
    out.add("GENERATED.json", json.dumps(manifest, indent=2) + "\n")
    out.write()
    return manifest


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, required=True, help="about how many source lines to generate")
    parser.add_argument("--out", type=Path, required=True, help="directory to create (must be empty or absent)")
    parser.add_argument("--language", choices=("python", "scala", "both"), default="python")
    parser.add_argument("--seed", type=int, default=20240318)
    parser.add_argument("--force", action="store_true", help="replace --out if it already holds files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.lines <= 0:
        print("generate_project.py: error: --lines must be positive", file=sys.stderr)
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        if not args.force:
            print(f"generate_project.py: error: {args.out} is not empty (use --force to replace it)", file=sys.stderr)
            return 2
        shutil.rmtree(args.out)
    manifest = generate(args.lines, args.language, args.seed, args.out)
    counts = manifest["source_lines"]
    print(f"{args.out}: {manifest['source_files']} files, {counts['python']} Python + {counts['scala']} Scala lines, "
          f"{len(manifest['planted'])} planted findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
