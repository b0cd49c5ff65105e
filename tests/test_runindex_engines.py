"""The Spark engine (PySpark in local mode) writes the same index tables as the local engine,
from local paths and from `file://` URIs read through Hadoop; and `sparklint report --html`
renders in a real headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from conftest import needs_engine, run_cli
from derived_runs import write_derived_runs

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

from sparklint.runindex.build import build_index  # noqa: E402
from sparklint.runindex.query import IndexSelection, load_index_runs  # noqa: E402
from sparklint.runindex.tables import TABLES  # noqa: E402

HERE = Path(__file__).resolve().parent
LOGS = HERE / "data" / "eventlogs"
# what tells two builds apart, and (for URIs) how the same log is named
BUILD_COLUMNS = {"build_id"}
LOG_IDENTITY = {"build_id", "log_path", "log_mtime_ns", "profile"}  # the profile names its source


def table_rows(index: Path, table: str, leave_out: set[str]) -> list[tuple]:
    import duckdb

    columns = [name for name, _ in TABLES[table] if name not in leave_out]
    files = f"read_parquet('{index}/{table}/*/*/*.parquet', hive_partitioning = false)"
    with duckdb.connect() as db:
        return db.execute(f"SELECT {', '.join(columns)} FROM {files} ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("logs")
    for source in LOGS.iterdir():
        for entry in source.iterdir():
            (shutil.copytree if entry.is_dir() else shutil.copy)(entry, directory / entry.name)
    write_derived_runs(directory, 4, slow_from=2, slow_stage=0)
    (directory / "local-broken").write_bytes(b"\x00\x01 not a log")
    return directory


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    session = SparkSession.builder.master("local[2]").appName("sparklint-index-test").getOrCreate()
    yield session
    session.stop()


@pytest.mark.slow
def test_both_engines_write_the_same_tables(logs: Path, spark, tmp_path: Path) -> None:
    from sparklint.runindex.spark_job import build_with_spark

    local = build_index([str(logs)], tmp_path / "local", jobs=2)
    on_spark = build_with_spark([str(logs)], tmp_path / "spark", spark=spark)
    by_uri = build_with_spark([logs.as_uri()], tmp_path / "uri", spark=spark)
    for report in (local, on_spark, by_uri):
        assert (report.indexed, report.bad) == (11, 1), report
        assert len(report.warnings) == 1 and "local-broken" in report.warnings[0]
    for table in TABLES:
        expected = table_rows(tmp_path / "local", table, BUILD_COLUMNS)
        assert expected and table_rows(tmp_path / "spark", table, BUILD_COLUMNS) == expected, table
        assert table_rows(tmp_path / "uri", table, LOG_IDENTITY) == table_rows(tmp_path / "local", table, LOG_IDENTITY)
    def profiles(index: Path) -> list[dict]:
        runs = load_index_runs(index, IndexSelection(last=100)).runs
        return sorted((run.comparable() for run in runs), key=lambda run: run["app_id"])
    assert profiles(tmp_path / "uri") == profiles(tmp_path / "local")
    again = build_with_spark([logs.as_uri()], tmp_path / "uri", spark=spark)
    assert (again.indexed, again.unchanged) == (0, 11)


# ---------------------------------------------------------------- the HTML report in a browser


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    install = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True)
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"chromium is not installed and apt-get could not install it: {install.stderr.strip()[-200:]}")
    return found


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered RGB(A) rows of a PNG as Chromium writes it (8-bit)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks[kind] = body
        position += 12 + length
    header = chunks[b"IHDR"]
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    channels = {2: 3, 6: 4}[header[9]]
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for index in range(stride):
            left = line[index - channels] if index >= channels else 0
            up, corner = previous[index], previous[index - channels] if index >= channels else 0
            if kind == 1:
                line[index] = (line[index] + left) & 0xFF
            elif kind == 2:
                line[index] = (line[index] + up) & 0xFF
            elif kind == 3:
                line[index] = (line[index] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                best = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))[2]
                line[index] = (line[index] + best) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


@pytest.mark.slow
@needs_engine
def test_the_html_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(HERE / "spark_jobs", project, ignore=shutil.ignore_patterns("__pycache__", "lookup"))
    (project / "pyproject.toml").write_text("[tool.sparklint]\n", encoding="utf-8")
    derived = write_derived_runs(tmp_path / "logs", 6, slow_from=4, slow_stage=0)
    index = tmp_path / "index"
    build_index([str(path) for path in derived], index, jobs=2)
    page = tmp_path / "report.html"
    run = run_cli("report", ".", "--profile", str(index), "--html", str(page), "--no-cache", cwd=project)
    assert run.exit_code == 0, run.stderr
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and "src=" not in text  # nothing to fetch
    assert text.count("<svg") >= 1 and "stage time, up to" in text

    screenshot = tmp_path / "report.png"
    browser = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,1400", f"--screenshot={screenshot}",
         page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert screenshot.exists(), browser.stderr[-500:]
    width, height, rows = png_pixels(screenshot)
    assert (width, height) == (1100, 1400)
    channels = len(rows[0]) // width
    # the chart's bars are drawn in #1565c0: some pixels of that blue must be on the page
    blue = bytes((0x15, 0x65, 0xC0))
    assert any(row[index : index + 3] == blue for row in rows for index in range(0, len(row), channels))
    assert len({row for row in rows}) > 50  # text and charts, not a blank page
