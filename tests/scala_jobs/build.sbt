// A small Spark job compiled by the test suite with the Scala compiler inside PySpark's jars
// (tests/test_profile_scala_job.py); sbt is not needed, this file marks the project root.
ThisBuild / scalaVersion := "2.13.18"
libraryDependencies += "org.apache.spark" %% "spark-sql" % "4.0.0" % Provided
