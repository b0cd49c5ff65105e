"""Run the reliability fuzz tests with many more examples than CI does (by hand, not in CI).

    python benchmarks/fuzz.py            # 1,000 examples per fuzz test
    python benchmarks/fuzz.py -k eventlog

Extra arguments go to pytest. Failing examples are printed by hypothesis with the input that
broke sparklint; add them as explicit `@example`s so CI keeps them fixed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    tests = sorted(str(path) for path in (REPO / "tests").glob("test_reliability_*.py"))
    environment = {**os.environ, "SPARKLINT_FUZZ_PROFILE": "long"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, *argv]
    return subprocess.call(command, cwd=REPO, env=environment)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
