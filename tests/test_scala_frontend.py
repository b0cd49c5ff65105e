"""Unit tests of the Scala front end: small snippets lowered into exact model values."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from sparklint import model as m
from sparklint.frontends.scala import lower_scala

THIS = m.Name("this")


def lower(source: str, path: str = "src/main/scala/com/acme/Job.scala") -> m.Module:
    return lower_scala(path, textwrap.dedent(source).lstrip("\n").encode())


def bare(value):
    """The value with every span replaced by NO_SPAN (and no string anchors), to compare structure only."""
    if isinstance(value, m.Span):  # a tuple itself: before the test for tuples
        return m.NO_SPAN
    if isinstance(value, m.Const):
        return m.Const(value.value)
    if isinstance(value, tuple):
        return tuple(bare(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: bare(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if f.name != "extra"}
        return dataclasses.replace(value, **changes)
    return value


def klass(module: m.Module, name: str) -> m.Class:
    return next(c for c in module.classes if c.name == name)


def method(cls: m.Class, name: str) -> m.Function:
    return next(f for f in cls.methods if f.name == name)


def call(func: m.Expr, *args: m.Expr, **kwargs: m.Expr) -> m.Call:
    return m.Call(func, tuple(args), tuple(kwargs.items()))


def attr(value: m.Expr, *names: str) -> m.Expr:
    for name in names:
        value = m.Attr(value, name)
    return value


def name(id_: str) -> m.Name:
    return m.Name(id_)


def const(value) -> m.Const:
    return m.Const(value)


def dollar(column: str) -> m.Call:
    return call(name("$col"), const(column))


# ---------------------------------------------------------------- packages and imports


def test_package_module_name_and_namespace():
    module = lower("""
        package com.acme.sitevisits

        object HourlyJob
    """, path="src/main/scala/com/acme/sitevisits/HourlyJob.scala")
    assert module.language == "scala"
    assert module.path == "src/main/scala/com/acme/sitevisits/HourlyJob.scala"
    assert module.name == "com.acme.sitevisits.HourlyJob"
    assert module.namespace == "com.acme.sitevisits"
    assert module.visible_namespaces == ("com.acme.sitevisits",)
    assert [c.qualname for c in module.classes] == ["com.acme.sitevisits.HourlyJob"]
    assert module.parse_errors == ()


def test_chained_package_clauses_make_enclosing_packages_visible():
    module = lower("""
        package com.acme
        package sitevisits
        package jobs

        object Run
    """)
    assert module.namespace == "com.acme.sitevisits.jobs"
    assert module.visible_namespaces == (
        "com.acme.sitevisits.jobs", "com.acme.sitevisits", "com.acme")
    assert module.classes[0].qualname == "com.acme.sitevisits.jobs.Run"


def test_file_without_package():
    module = lower("object Solo", path="Solo.scala")
    assert (module.name, module.namespace, module.visible_namespaces) == ("Solo", "", ("",))
    assert module.classes[0].qualname == "Solo"


def test_imports_all_forms():
    module = lower("""
        package p
        import org.apache.spark.sql.DataFrame
        import org.apache.spark.sql.{SparkSession, Column => Col}
        import org.apache.spark.sql.functions._
        import com.acme.lake.*
        import com.acme.util.{Hidden => _, _}
        import com.acme.only.{Gone => _}
        import com.acme.s3.Store as S3Store
        import a.b, c.d
        import lake.IcebergUtil
    """)
    assert bare(module.imports) == (
        m.Import("org.apache.spark.sql", "DataFrame", "DataFrame"),
        m.Import("org.apache.spark.sql", "SparkSession", "SparkSession"),
        m.Import("org.apache.spark.sql", "Column", "Col"),
        m.Import("org.apache.spark.sql.functions", "*", "*"),
        m.Import("com.acme.lake", "*", "*"),
        m.Import("com.acme.util", "*", "*"),
        m.Import("com.acme.s3", "Store", "S3Store"),
        m.Import("a", "b", "b"),
        m.Import("c", "d", "d"),
        m.Import("lake", "IcebergUtil", "IcebergUtil"),  # relative: left as written
    )
    assert module.imports[0].span == m.Span(2, 1, 2, 38)


def test_imports_inside_blocks_are_module_imports():
    module = lower("""
        object Job {
          def main(args: Array[String]): Unit = {
            val spark = SparkSession.builder().getOrCreate()
            import spark.implicits._
            import com.acme.lake.TableOps._
          }
        }
    """)
    assert bare(module.imports) == (
        m.Import("spark.implicits", "*", "*"),
        m.Import("com.acme.lake.TableOps", "*", "*"),
    )


# ---------------------------------------------------------------- definitions


def test_object_with_constant_and_method_referring_to_it():
    module = lower("""
        package com.acme.lake

        object IcebergUtil {
          final val WriteParallelism = 2
          def overwrite(df: DataFrame, table: String, n: Int = 4): Unit =
            df.coalesce(WriteParallelism).writeTo(table).overwritePartitions()
        }
    """)
    util = klass(module, "IcebergUtil")
    assert (util.kind, util.qualname, util.bases) == ("object", "com.acme.lake.IcebergUtil", ())
    assert bare(util.fields) == (("WriteParallelism", const(2)),)
    overwrite = method(util, "overwrite")
    assert overwrite.qualname == "com.acme.lake.IcebergUtil.overwrite"
    assert (overwrite.is_method, overwrite.self_name, overwrite.is_entry) == (True, "this", False)
    assert bare(overwrite.params) == (
        m.Param("df", annotation="DataFrame"),
        m.Param("table", annotation="String"),
        m.Param("n", const(4), annotation="Int"),
    )
    coalesce = call(attr(name("df"), "coalesce"), attr(THIS, "WriteParallelism"))
    assert bare(overwrite.body) == (
        m.Return(call(attr(call(attr(coalesce, "writeTo"), name("table")),
                           "overwritePartitions"))),
    )


def test_class_parameters_are_init_params_and_fields_and_this_members():
    module = lower("""
        package com.acme.sinks
        case class Publisher(spark: SparkSession, dryRun: Boolean = false) extends Sink with Serializable {
          val mode = "overwrite"
          def publish(df: DataFrame, table: String) = write(df, table, mode)
          private def write(df: DataFrame, table: String, mode: String) = df.writeTo(table).append()
        }
    """)
    publisher = klass(module, "Publisher")
    assert publisher.kind == "class"
    assert publisher.bases == ("Sink", "Serializable")
    assert bare(publisher.init_params) == (
        m.Param("spark", annotation="SparkSession"),
        m.Param("dryRun", const(False), annotation="Boolean"),
    )
    assert bare(publisher.fields) == (
        ("spark", name("spark")), ("dryRun", name("dryRun")), ("mode", const("overwrite")))
    # `write` and `mode` are members; `mode` as a parameter of `write` shadows the field.
    assert bare(method(publisher, "publish").body) == (
        m.Return(call(attr(THIS, "write"), name("df"), name("table"), attr(THIS, "mode"))),)
    assert bare(method(publisher, "write").body) == (
        m.Return(call(attr(call(attr(name("df"), "writeTo"), name("table")), "append"))),)


def test_companion_object_members_are_this_members_in_the_class():
    module = lower("""
        class Loader(path: String) {
          def load(spark: SparkSession) = spark.read.parquet(Root + path)
        }
        object Loader { val Root = "/lake/" }
    """)
    body = method(klass(module, "Loader"), "load").body
    assert bare(body) == (m.Return(call(
        attr(name("spark"), "read", "parquet"),
        m.BinOp("+", attr(THIS, "Root"), attr(THIS, "path")))),)


def test_inherited_trait_method_called_bare_is_a_this_call():
    module = lower("""
        class Job extends Steps with Logging {
          def run(df: DataFrame) = {
            logInfo("start")
            val key = coalesce(col("a"), lit(""))
            compact(df)
          }
        }
    """)
    body = method(klass(module, "Job"), "run").body
    assert bare(body) == (
        m.ExprStmt(call(attr(THIS, "logInfo"), const("start"))),
        m.Assign(("key",), call(name("coalesce"), call(name("col"), const("a")),
                                call(name("lit"), const("")))),
        m.Return(call(attr(THIS, "compact"), name("df"))),
    )


def test_trait_and_nested_object():
    module = lower("""
        package p
        trait Steps { def compact(df: DataFrame) = df.coalesce(1) }
        object Outer {
          val Limit = 3
          object Inner { def f(x: Int) = Limit + x }
          def g() = Inner.f(1)
        }
    """)
    assert [(c.qualname, c.kind) for c in module.classes] == [
        ("p.Steps", "trait"), ("p.Outer", "object"), ("p.Outer.Inner", "object")]
    inner = klass(module, "Inner")
    assert bare(method(inner, "f").body) == (
        m.Return(m.BinOp("+", attr(name("Outer"), "Limit"), name("x"))),)
    assert bare(method(klass(module, "Outer"), "g").body) == (
        m.Return(call(attr(name("Outer"), "Inner", "f"), const(1))),)


def test_implicit_class_is_an_extension_class():
    module = lower("""
        package com.acme.lake
        object TableOps {
          implicit class RichDataFrame(df: DataFrame) {
            def writeIceberg(table: String): Unit = IcebergUtil.overwrite(df, table)
          }
        }
    """)
    rich = klass(module, "RichDataFrame")
    assert rich.qualname == "com.acme.lake.TableOps.RichDataFrame"
    assert rich.extension is True
    assert bare(rich.init_params) == (m.Param("df", annotation="DataFrame"),)
    assert bare(rich.fields) == (("df", name("df")),)
    assert bare(method(rich, "writeIceberg").body) == (
        m.Return(call(attr(name("IcebergUtil"), "overwrite"), attr(THIS, "df"), name("table"))),)
    assert klass(module, "TableOps").extension is False


def test_scala3_extension_methods():
    module = lower("""
        package com.acme.lake
        extension (df: DataFrame)
          def writeIceberg(table: String): Unit = df.writeTo(table).append()
          def rows: Long = df.count()
    """)
    assert [f.qualname for f in module.functions] == [
        "com.acme.lake.writeIceberg", "com.acme.lake.rows"]
    write = module.functions[0]
    assert write.extension_receiver == "df"
    assert bare(write.params) == (m.Param("table", annotation="String"),)
    assert bare(write.body) == (
        m.Return(call(attr(call(attr(name("df"), "writeTo"), name("table")), "append"))),)
    assert write.is_method is False


def test_entry_points_main_app_and_annotation():
    module = lower("""
        package jobs
        object WithMain {
          def main(args: Array[String]): Unit = run()
          def run(): Unit = ()
        }
        object AsApp extends App {
          val spark = SparkSession.builder().getOrCreate()
          Pipeline.run(spark)
        }
        @main def hourly(hour: String): Unit = Pipeline.run(hour)
        object NotEntry { def main(x: Int) = x }
    """)
    with_main = klass(module, "WithMain")
    assert method(with_main, "main").is_entry and not method(with_main, "run").is_entry
    init = method(klass(module, "AsApp"), "<init>")
    assert (init.qualname, init.is_entry, init.self_name) == ("jobs.AsApp.<init>", True, "this")
    assert bare(init.body) == (
        m.Assign(("this.spark",), call(attr(call(attr(name("SparkSession"), "builder")),
                                            "getOrCreate"))),
        m.ExprStmt(call(attr(name("Pipeline"), "run"), attr(THIS, "spark"))),
    )
    assert bare(klass(module, "AsApp").fields)[0][0] == "spark"
    hourly = module.functions[0]
    assert (hourly.qualname, hourly.is_entry, hourly.decorators) == ("jobs.hourly", True, ("main",))
    assert not method(klass(module, "NotEntry"), "main").is_entry


def test_local_def_is_lifted_to_a_method():
    module = lower("""
        object Job {
          def main(args: Array[String]): Unit = {
            def save(df: DataFrame) = df.write.parquet("/out")
            save(load())
          }
        }
    """)
    job = klass(module, "Job")
    assert [f.name for f in job.methods] == ["main", "main$save"]
    assert bare(method(job, "main").body) == (
        m.Return(call(attr(THIS, "main$save"), call(name("load")))),)
    assert method(job, "main$save").qualname == "Job.main$save"


# ---------------------------------------------------------------- expressions


def body_of(source: str) -> tuple[m.Stmt, ...]:
    """Lower `source` as the body of `def f(df: DataFrame, other: DataFrame)` in object O."""
    text = "object O {\n  def f(df: DataFrame, other: DataFrame) = {\n" + textwrap.indent(
        textwrap.dedent(source).strip("\n"), "    ") + "\n  }\n}\n"
    module = lower_scala("O.scala", text.encode())
    assert module.parse_errors == (), module.parse_errors
    return bare(method(module.classes[0], "f").body)


def test_infix_and_no_parentheses_calls():
    assert body_of("df coalesce 2") == (
        m.Return(call(attr(name("df"), "coalesce"), const(2))),)
    assert body_of("df join (other, Seq(\"k\"))") == (
        m.Return(call(attr(name("df"), "join"), name("other"), m.Seq((const("k"),), "seq"))),)
    assert body_of("df.write.format(\"delta\").save") == (
        m.Return(attr(call(attr(name("df"), "write", "format"), const("delta")), "save")),)
    assert body_of("df distinct") == (m.Return(attr(name("df"), "distinct")),)


def test_columns_operators_and_literals():
    (statement,) = body_of("df.filter($\"a\" === 'b && !(col(\"c\") =!= lit(3L)) || $\"d\" > -1.5)")
    condition = statement.value.args[0]
    assert condition == m.BinOp(
        "|",
        m.BinOp("&", m.BinOp("==", dollar("a"), dollar("b")),
                m.UnaryOp("not", m.BinOp("!=", call(name("col"), const("c")),
                                         call(name("lit"), const(3))))),
        m.BinOp(">", dollar("d"), const(-1.5)))


def test_collections_tuples_and_to_df():
    (statement,) = body_of("""
        Seq(("DE", "Germany"), ("FR", "France")).toDF("country_code", "country_name")
    """)
    assert statement == m.Return(call(
        attr(m.Seq((m.Seq((const("DE"), const("Germany")), "tuple"),
                    m.Seq((const("FR"), const("France")), "tuple")), "seq"), "toDF"),
        const("country_code"), const("country_name")))
    assert body_of('List(1, 0x10, 2_000L, true, null, "a\\tb", """r"aw""")') == (
        m.Return(m.Seq((const(1), const(16), const(2000), const(True), const(None),
                        const("a\tb"), const('r"aw')), "seq")),)
    assert body_of('Seq[(String, Int)](("a", 1))') == (
        m.Return(m.Seq((m.Seq((const("a"), const(1)), "tuple"),), "seq")),)
    assert body_of('Map("a" -> 1)') == (
        m.Return(m.Seq((m.Seq((const("a"), const(1)), "tuple"),), "dict")),)


def test_interpolation_is_a_template_and_type_arguments_are_kept_as_written():
    (statement,) = body_of('df.as[Visit].write.parquet(s"/lake/$table/${day + 1}")')
    template = statement.value.args[0]
    assert bare(template) == call(name("$format"), const("/lake/"), name("table"), const("/"), m.Opaque(text="interpolated value"))
    assert isinstance(bare(body_of('x(foo"/lake/$table")')[0].value.args[0]), m.Opaque)  # a custom interpolator
    typed = bare(statement.value.func.value.value)
    assert typed == dataclasses.replace(call(attr(name("df"), "as")), type_args=("Visit",))


def test_named_arguments_new_and_curried_calls():
    assert body_of('new com.acme.Publisher(spark, dryRun = true).publish(df)') == (
        m.Return(call(attr(call(attr(name("com"), "acme", "Publisher"), name("spark"),
                                dryRun=const(True)), "publish"), name("df"))),)
    assert body_of('Writer.write(df)(spark)') == (
        m.Return(call(attr(name("Writer"), "write"), name("df"), name("spark"))),)


def test_if_match_try_become_branches():
    statements = body_of("""
        val out = if (other == null) df else df.union(other)
        out match {
          case x: DataFrame => x.count()
          case _ => 0L
        }
    """)
    assert statements == (
        m.Assign(("out",), m.Choice((name("df"), call(attr(name("df"), "union"), name("other"))))),
        m.Branch(((m.Assign(("x",), m.Opaque(text="pattern")),
                   m.Return(call(attr(name("x"), "count")))),
                  (m.Return(const(0)),)),
                 test=name("out"), exhaustive=True, terminal=(0, 1)),
    )
    (branch, finally_call) = body_of("""
        try { df.write.parquet("/a") } catch { case e: Exception => other.show() } finally { df.unpersist() }
    """)
    assert isinstance(branch, m.Branch) and len(branch.arms) == 2 and branch.exhaustive
    assert finally_call == m.ExprStmt(call(attr(name("df"), "unpersist")))


def test_blocks_used_as_values_are_hoisted():
    assert body_of("""
        val small = {
          val rows = df.limit(10)
          rows.cache()
        }
        small.count()
    """) == (
        m.Assign(("rows",), call(attr(name("df"), "limit"), const(10))),
        m.Assign(("small",), call(attr(name("rows"), "cache"))),
        m.Return(call(attr(name("small"), "count"))),
    )
    assert body_of("write(if (df.isEmpty) other else df)") == (
        m.Return(call(name("write"), m.Choice((name("other"), name("df"))))),)
    statements = body_of("write(if (df.isEmpty) { df.show(); other } else df)")
    assert isinstance(statements[0], m.Branch) and statements[0].exhaustive
    assert statements[0].arms[0] == (m.ExprStmt(call(attr(name("df"), "show"))),
                                     m.Assign(("$t1",), name("other")))
    assert statements[1] == m.Return(call(name("write"), name("$t1")))


def test_foreach_and_for_loops_become_for():
    assert body_of('Seq("a", "b").foreach { t => df.write.parquet(t) }') == (
        m.For(("t",), m.Seq((const("a"), const("b")), "seq"),
              (m.ExprStmt(call(attr(name("df"), "write", "parquet"), name("t"))),)),)
    assert body_of('for (t <- tables) df.write.parquet(t)') == (
        m.For(("t",), name("tables"),
              (m.ExprStmt(call(attr(name("df"), "write", "parquet"), name("t"))),)),)


def test_lambda_with_statements_is_hoisted_as_a_possible_branch():
    statements = body_of("""
        df.foreachPartition { rows =>
          val n = rows.size
          println(n)
        }
    """)
    branch, use = statements
    assert branch == m.Branch(((m.Assign(("rows",), m.Opaque(text="lambda parameter")),
                                m.Assign(("n",), attr(name("rows"), "size"))), ()))
    assert use == m.Return(call(attr(name("df"), "foreachPartition"),
                                m.Lambda(("rows",), call(name("println"), name("n")))))


def test_assignments_and_compound_assignment():
    module = lower("""
        class Counter {
          var total = 0
          def add(n: Int) = { total += n; this.total = total + 1 }
        }
    """)
    assert bare(method(module.classes[0], "add").body) == (
        m.Assign(("this.total",), m.BinOp("+", attr(THIS, "total"), name("n"))),
        m.Assign(("this.total",), m.BinOp("+", attr(THIS, "total"), const(1))),
    )


def test_an_indexed_assignment_is_an_update():
    # Scala's `m(k) = v` is `m.update(k, v)`: the model's SETITEM call, as Python's `d[k] = v`
    assert body_of("""
        parts(0) = "c"
        this.byName("a") = df
    """) == (
        m.ExprStmt(call(attr(name("parts"), m.SETITEM), const(0), const("c"))),
        m.ExprStmt(call(attr(THIS, "byName", m.SETITEM), const("a"), name("df"))),
    )


# ---------------------------------------------------------------- spans


def test_name_span_points_at_the_method_name():
    module = lower("""
        object O {
          def f(df: DataFrame) = df.coalesce(2).write.parquet("/x")
        }
    """)
    (statement,) = method(module.classes[0], "f").body
    coalesce = statement.value.func.value.value
    assert coalesce.func.attr == "coalesce"
    assert coalesce.name_span == m.Span(2, 29, 2, 37)
    assert coalesce.span == m.Span(2, 26, 2, 40)


def test_columns_count_code_points_not_bytes():
    module = lower("""
        object O {
          def f(df: DataFrame) = { val s = "é€"; df.coalesce(2) }
        }
    """)
    body = method(module.classes[0], "f").body
    assert body[1].value.name_span.col == 45  # byte column 48: "é€" is 2 code points, 5 bytes


# ---------------------------------------------------------------- Scala 3 syntax


def test_scala3_significant_indentation():
    module = lower("""
        package com.acme

        object Job:
          final val Parallelism = 2
          def main(args: Array[String]): Unit =
            val df = load()
            if df.isEmpty then println("empty")
            else
              df.coalesce(Parallelism).write.parquet("/out")
          end main
    """)
    main = method(klass(module, "Job"), "main")
    assert main.is_entry
    assert bare(main.body) == (
        m.Assign(("df",), call(name("load"))),
        m.Branch(((m.Return(call(name("println"), const("empty"))),),
                  (m.Return(call(attr(call(attr(name("df"), "coalesce"), attr(THIS, "Parallelism")),
                                      "write", "parquet"), const("/out"))),)),
                 test=attr(name("df"), "isEmpty"), exhaustive=True, terminal=(0, 1), conditional=True),
    )


# ---------------------------------------------------------------- comments and errors


def test_noqa_comments_cover_their_statement():
    module = lower("""
        object O {
          def f(df: DataFrame) = {
            df.coalesce(2).write.parquet("/a") // noqa: SPK001
            df.coalesce(2)
              .write
              .parquet("/b") // noqa: SPK001, spk002
            // noqa: SPK003
            val s = "// noqa: SPK009"
          }
        }
    """)
    assert module.suppressions == (
        m.Suppression(("SPK001",), 3, 40, 3, 3),
        m.Suppression(("SPK001", "SPK002"), 6, 22, 4, 6),
        m.Suppression(("SPK003",), 7, 5, 7, 7),
    )


def test_syntax_error_recovers_the_rest_and_reports_the_first_error():
    module = lower("""
        package p
        object Good { def f(df: DataFrame) = df.coalesce(2) }
        object Broken {
          def g(df: DataFrame) = df.select(
        }
        object AlsoGood { def h() = 1 }
    """)
    assert len(module.parse_errors) == 1
    error = module.parse_errors[0]
    assert error.message.startswith("syntax error")
    assert error.span.line in (4, 5)
    names = [c.name for c in module.classes]
    assert "Good" in names and "AlsoGood" in names


def test_garbage_never_raises():
    for text in (b"", b"}}}{{{", b"object", b"\xff\xfe", b"package\n", b"def f(x: = 1"):
        module = lower_scala("x.scala", text)
        assert module.language == "scala"
    assert lower_scala("x.scala", b"").parse_errors == ()
    assert lower_scala("x.scala", b"}}}{{{").parse_errors != ()


def test_very_long_chain_does_not_hit_the_recursion_limit():
    chain = "df" + "".join(f'.withColumn("c{i}", lit({i}))' for i in range(2500))
    module = lower_scala("L.scala", f"object L {{ def f(df: DataFrame) = {chain}.coalesce(2) }}"
                         .encode())
    assert module.parse_errors == ()
    (statement,) = module.classes[0].methods[0].body
    assert statement.value.func.attr == "coalesce"


@pytest.mark.parametrize("snippet", [
    "df.rdd.saveAsTextFile(path)",
    "df.rdd.saveAsObjectFile(path)",
])
def test_rdd_writes_are_plain_calls(snippet):
    (statement,) = body_of(snippet)
    assert statement.value.func.value == attr(name("df"), "rdd")


def test_companion_object_is_its_own_object_named_with_a_dollar():
    module = lower("""
        package p
        case class Exporter(spark: SparkSession) {
          import Exporter._
          def exportTo(df: DataFrame) = df.coalesce(Parts).write.json(Root)
          def output(df: DataFrame) = Exporter.output(df, Root)
        }
        object Exporter {
          final val Parts = 4
          val Root = "/exports"
          val empty = Exporter(null)
          def fromConf(spark: SparkSession) = new Exporter(spark)
          def output(df: DataFrame, path: String) = df.coalesce(Parts).write.save(path)
          object Defaults { val Mode = "overwrite" }
        }
    """)
    assert [(c.name, c.qualname, c.kind) for c in module.classes] == [
        ("Exporter", "p.Exporter", "class"),
        ("Exporter$", "p.Exporter$", "object"),
        ("Defaults", "p.Exporter.Defaults", "object"),
    ]
    exporter, companion = module.classes[:2]
    assert [f.name for f in exporter.methods] == ["exportTo", "output"]
    assert [(f.name, f.qualname) for f in companion.methods] == [
        ("fromConf", "p.Exporter$.fromConf"), ("output", "p.Exporter$.output")]
    assert bare(exporter.fields) == (("spark", name("spark")),)
    assert bare(companion.fields) == (
        ("Parts", const(4)), ("Root", const("/exports")),
        ("empty", call(name("Exporter"), const(None))))
    # inside the class, bare companion members are `this` members (resolved to the companion)
    assert bare(method(exporter, "exportTo").body) == (m.Return(call(
        attr(call(attr(name("df"), "coalesce"), attr(THIS, "Parts")), "write", "json"),
        attr(THIS, "Root"))),)
    assert bare(method(exporter, "output").body) == (m.Return(call(
        attr(name("Exporter"), "output"), name("df"), attr(THIS, "Root"))),)
    assert bare(method(companion, "output").body) == (m.Return(call(
        attr(call(attr(name("df"), "coalesce"), attr(THIS, "Parts")), "write", "save"),
        name("path"))),)


def test_companion_detection_needs_the_same_scope_and_a_class():
    module = lower("""
        package p
        trait Sink { def write(df: DataFrame): Unit }
        object Sink { def apply(): Sink = new Sink { def write(df: DataFrame) = () } }
        object Lone { def f() = 1 }
        object Outer {
          class Inner(n: Int)
          object Inner { val Default = 1 }
        }
        object Other { object Sink }
        object StandAlone
        class StandAloneLater
    """)
    assert [c.qualname for c in module.classes] == [
        "p.Sink", "p.Sink$", "p.Lone", "p.Outer", "p.Outer.Inner", "p.Outer.Inner$",
        "p.Other", "p.Other.Sink", "p.StandAlone", "p.StandAloneLater"]


def test_else_if_chain_is_one_flat_branch():
    statements = body_of("""
        if (other == null) df.write.parquet("/a")
        else if (df.isEmpty) other.write.parquet("/b")
        else df.union(other).write.parquet("/c")
    """)
    (branch,) = statements
    assert isinstance(branch, m.Branch) and len(branch.arms) == 3
    assert branch.test == m.BinOp("==", name("other"), const(None))
    long_chain = " ".join(f"else if (n == {i}) {{ df.coalesce({i}) }}" for i in range(1500))
    module = lower_scala("L.scala", (
        "object L {\n  def f(df: DataFrame, n: Int) = {\n    if (n < 0) { df } " + long_chain
        + " else { df }\n  }\n}\n").encode())
    assert module.parse_errors == ()
    (branch,) = module.classes[0].methods[0].body
    assert len(branch.arms) == 1502


def test_placeholder_syntax_and_method_values_are_functions():
    module = lower("""
        object Keys {
          def addKey(df: DataFrame): DataFrame = df
          val shrink: DataFrame => DataFrame = _.coalesce(2)
          def f(df: DataFrame) = df.transform(addKey _).transform(Steps.step(_, 3)).columns.map(_.trim)
        }
    """)
    keys = module.classes[0]
    underscore = name("_")
    assert bare(dict(keys.fields)["shrink"]) == m.Lambda(
        ("_",), call(attr(underscore, "coalesce"), const(2)))
    (statement,) = bare(method(keys, "f").body)
    assert statement == m.Return(call(
        attr(call(attr(call(attr(name("df"), "transform"), attr(THIS, "addKey")), "transform"),
                  m.Lambda(("_",), call(attr(name("Steps"), "step"), underscore, const(3)))),
             "columns", "map"),
        m.Lambda(("_",), attr(underscore, "trim"))))


def test_a_braced_placeholder_argument_is_the_same_function_as_a_parenthesised_one():
    module = lower("""
        object Keys {
          def f(xs: Seq[Analyzer]) = xs.groupBy { _.columns().sorted }.values.reduce { _ ++ _ }
          def g(xs: Seq[Analyzer]) = xs.groupBy(_.columns().sorted).values.reduce(_ ++ _)
          def h(df: DataFrame) = df.transform { d => d.coalesce(2) }
        }
    """)
    keys = module.classes[0]
    braced, parenthesised = (bare(method(keys, name_).body) for name_ in ("f", "g"))
    assert braced == parenthesised
    (statement,) = braced
    assert statement.value.args == (m.Lambda(("_",), m.BinOp("++", name("_"), name("_"))),)
    (transform,) = bare(method(keys, "h").body)
    assert isinstance(transform.value.args[0], m.Lambda) and transform.value.args[0].params == ("d",)


def test_scala3_catch_case_and_while_do():
    module = lower("""
        object S:
          def f(df: DataFrame, n0: Int)(using spark: SparkSession): Unit =
            var n = n0
            try df.write.parquet("/a")
            catch case e: Exception => df.show()
            while n > 0 do
              n -= 1
    """)
    f = method(module.classes[0], "f")
    assert [p.name for p in f.params] == ["df", "n0", "spark"]
    _, attempt, loop = bare(f.body)
    assert attempt == m.Branch((
        (m.ExprStmt(call(attr(name("df"), "write", "parquet"), const("/a"))),),
        (m.Assign(("e",), m.Opaque(text="pattern")), m.ExprStmt(call(attr(name("df"), "show")))),
    ), exhaustive=True)
    assert loop == m.Branch(((m.Assign(("n",), m.BinOp("-", name("n"), const(1))),), ()),
                            test=m.BinOp(">", name("n"), const(0)))


# ---------------------------------------------------------------- valid Scala the grammar rejects


def test_using_as_an_identifier_parses_with_exact_spans_and_names():
    module = lower("""
        @JsonSerialize(using = classOf[OffsetSerializer])
        case class Offset(version: Long)
        object Plain {
          def f(using: Int): Int = using + 1
          def g(df: DataFrame) = h(using = 2, df.coalesce(2))
          def ctx(n: Int)(using spark: SparkSession) = n
        }
    """)
    assert module.parse_errors == ()
    plain = klass(module, "Plain")
    f = method(plain, "f")
    assert [p.name for p in f.params] == ["using"]
    (ret,) = f.body
    assert ret.value.left == m.Name("using", m.Span(4, 28, 4, 33))
    (ret,) = method(plain, "g").body
    assert bare(ret.value.kwargs) == (("using", const(2)),)
    coalesce = ret.value.args[0]
    assert coalesce.name_span == m.Span(5, 42, 5, 50)
    assert [p.name for p in method(plain, "ctx").params] == ["n", "spark"]  # Scala 3 `using`


def test_symbol_literal_named_by_a_keyword_is_a_column():
    module = lower("""
        object Suite {
          val tests = Map('new -> 1, 'type -> 2, 'plain -> 3)
          val c = 'n'
        }
    """)
    assert module.parse_errors == ()
    (_, tests), (_, char) = klass(module, "Suite").fields
    assert tests.items[0].items[0] == m.Call(m.Name("$col", m.Span(2, 19, 2, 23)),
                                             (m.Const("new", m.Span(2, 19, 2, 23)),), (),
                                             m.Span(2, 19, 2, 23), m.Span(2, 19, 2, 23))
    assert bare(tests.items[1].items[0]) == dollar("type")
    assert bare(tests.items[2].items[0]) == dollar("plain")
    assert bare(char) == const("n")


def test_postfix_operator_before_else_on_the_next_line():
    module = lower("""
        object Upload {
          def upload(scheme: String, p: String, df: DataFrame): Unit = {
            if (scheme == "s3") cmd !
            else throw new IllegalArgumentException(scheme)
            if (scheme == "gs") cmd ! // run it

            // otherwise
            else df.coalesce(1).write.parquet(p)
          }
        }
    """)
    assert module.parse_errors == ()
    first, second = method(klass(module, "Upload"), "upload").body
    assert first.arms[0] == (m.ExprStmt(m.Attr(m.Name("cmd", m.Span(3, 25, 3, 28)), "!",
                                               m.Span(3, 25, 3, 30)), m.Span(3, 25, 3, 30)),)
    assert first.terminal == (1,) and first.exhaustive
    assert bare(second.arms[0]) == (m.Return(attr(name("cmd"), "!")),)
    assert bare(second.arms[1]) == (m.Return(call(
        attr(call(attr(name("df"), "coalesce"), const(1)), "write", "parquet"), name("p"))),)


@pytest.mark.parametrize("source", [
    "object A { def f(x: Int) = if (x > 0) x //\n else -x }",
    "object A { val s = \"it's 'new\"; val t = s\"using = $x\" }",
    "object A { def f = { val a = 1\n if (a > 0) a + b\n else a } }",
])
def test_rewrites_leave_other_code_alone(source):
    module = lower_scala("A.scala", source.encode())
    assert module.parse_errors == ()
    assert lower_scala("A.scala", source.encode()) == module


def test_real_syntax_errors_near_rewritten_constructs_are_still_reported():
    module = lower("""
        object Broken {
          val x = f(using = 2)
          def g(df: DataFrame) = df.select(
        }
    """)
    assert len(module.parse_errors) == 1
    assert module.parse_errors[0].span.line in (3, 4)


# ---------------------------------------------------------------- values of if / match


def test_literal_collection_to_df_without_parentheses():
    assert body_of("Seq((1, \"a\"), (2, \"b\")).toDF") == (m.Return(attr(
        m.Seq((m.Seq((const(1), const("a")), "tuple"), m.Seq((const(2), const("b")), "tuple")),
              "seq"), "toDF")),)
    assert body_of("List(1, 2).toDS") == (
        m.Return(attr(m.Seq((const(1), const(2)), "seq"), "toDS")),)


def test_if_and_match_values_are_choices():
    statements = body_of("""
        val writer = if (df.isEmpty) other.write else if (other == null) { df.coalesce(1).write } else df.write
        val parts = df.rdd.getNumPartitions match {
          case 0 => 1
          case 5 | 6 => 10
          case _ => df.rdd.getNumPartitions
        }
        writer.parquet("/a")
    """)
    assert statements[:2] == (
        m.Assign(("writer",), m.Choice((
            attr(name("other"), "write"),
            attr(call(attr(name("df"), "coalesce"), const(1)), "write"),
            attr(name("df"), "write")))),
        m.Assign(("parts",), m.Choice((const(1), const(10), attr(name("df"), "rdd", "getNumPartitions")))),
    )


def test_if_and_match_values_that_need_statements_stay_branches():
    statements = body_of("""
        val a = if (df.isEmpty) { df.show(); other } else df
        val b = df match { case x: DataFrame => x.limit(1) }
        val c = if (df.isEmpty) throw new IllegalStateException("empty") else df
        var d = df
        d = if (df.isEmpty) other
        val e = other match {
          case null =>
            val fallback = df.limit(1)
            fallback
          case _ => other
        }
    """)
    a, b, c, d_init, d, e = statements
    assert isinstance(a, m.Branch) and a.exhaustive and a.terminal == ()
    assert isinstance(b, m.Branch) and b.exhaustive
    assert b.arms[0][-1] == m.Assign(("b",), call(attr(name("x"), "limit"), const(1)))
    assert isinstance(c, m.Branch) and c.terminal == (0,) and c.exhaustive
    assert d_init == m.Assign(("d",), name("df"))
    assert d == m.Branch(((m.Assign(("d",), name("other")),), (m.Assign(("d",), const(None)),)),
                         test=attr(name("df"), "isEmpty"), exhaustive=True, conditional=True)
    assert e.arms[0] == (m.Assign(("fallback",), call(attr(name("df"), "limit"), const(1))),
                         m.Assign(("e",), name("fallback")))


def test_choice_as_a_class_field_and_an_argument():
    module = lower("""
        class Sink(df: DataFrame, single: Boolean) {
          val writer = if (single) df.coalesce(1).write else df.write
          def parts = { val p = { val n = 2; if (single) 1 else n }; p }
        }
    """)
    sink = klass(module, "Sink")
    assert bare(dict(sink.fields)["writer"]) == m.Choice((
        attr(call(attr(attr(THIS, "df"), "coalesce"), const(1)), "write"),
        attr(attr(THIS, "df"), "write")))
    assert bare(method(sink, "parts").body) == (
        m.Assign(("n",), const(2)), m.Assign(("p",), m.Choice((const(1), name("n")))),
        m.Return(name("p")))


def test_if_without_else_as_a_statement_may_be_skipped():
    (branch,) = body_of("""
        if (df.isEmpty) return
        df.write.parquet("/a")
    """)[:1]
    assert branch == m.Branch(((m.Return(None),),), test=attr(name("df"), "isEmpty"),
                              terminal=(0,), conditional=True)
    assert not branch.exhaustive  # no `else`: the arm may be skipped
