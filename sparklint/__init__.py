"""sparklint: a static linter for Apache Spark jobs in PySpark and Scala."""

__version__ = "0.1.0"
