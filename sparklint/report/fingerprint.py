"""Line-number-free identities of findings, stable while code above a finding moves.

`sparklint/v1` = sha256 over the rule, the path, the finding's `key` tuple and the normalised
text of its primary line, then `:<n>` counting earlier findings with the same hash (as GitHub's
own `primaryLocationLineHash` does), so identical lines in one file still differ.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from sparklint.findings import Finding
from sparklint.project import MAX_FILE_BYTES, read_regular_file

FINGERPRINT_KEY = "sparklint/v1"


def fingerprints(findings: Sequence[Finding], root: str, texts: Mapping[str, bytes] | None = None) -> list[str]:
    """One fingerprint per finding, in the given order (callers pass a stable order). `texts` are
    file contents by relative path to read lines from instead of the disk."""
    read_line = line_reader(root, texts)
    seen: Counter[str] = Counter()
    result = []
    for finding in findings:
        digest = finding_digest(finding, read_line(finding.location.path, finding.location.line))
        result.append(f"{digest}:{seen[digest]}")
        seen[digest] += 1
    return result


def finding_digest(finding: Finding, line_text: str) -> str:
    parts = [finding.rule, finding.location.path, *finding.key, normalise(line_text)]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def normalise(line_text: str) -> str:
    return " ".join(line_text.split())


def line_reader(root: str, texts: Mapping[str, bytes] | None = None):
    texts = texts or {}

    @lru_cache(maxsize=64)
    def lines_of(path: str) -> tuple[str, ...]:
        data = texts[path] if path in texts else read_regular_file(Path(root) / path, MAX_FILE_BYTES)
        return () if isinstance(data, str) else tuple(data.decode("utf-8", errors="replace").splitlines())

    def read_line(path: str, line: int) -> str:
        lines = lines_of(path)
        return lines[line - 1] if 0 < line <= len(lines) else ""

    return read_line
