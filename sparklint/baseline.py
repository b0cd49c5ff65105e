"""Adopting sparklint on an old code base: a baseline file records today's findings, and a check
with it reports only the findings that are not in it.

Findings are matched by their SARIF fingerprint (`sparklint/v1`, see report/fingerprint.py): a
hash of the rule, the path, the finding's line-free key and the text of its line, never the line
number, so code moving above a finding keeps it matched. The `:n` suffix that tells identical
lines of one file apart is not used for matching: where a file now holds more findings with one
hash than the baseline recorded, the ones nearest the recorded lines are the old ones. Entries
that match nothing are counted, so the file can be refreshed.

    {"version": 1, "tool": "sparklint", "fingerprint": "sparklint/v1",
     "findings": [{"fingerprint", "rule", "path", "line", "message"}]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sparklint import __version__
from sparklint.findings import BaselineSummary, CheckResult, Finding
from sparklint.report.fingerprint import FINGERPRINT_KEY, fingerprints

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".sparklint-baseline.json"


class BaselineError(Exception):
    """A baseline file that cannot be read or written; the text is the one-line message."""


@dataclass(frozen=True, slots=True)
class Entry:
    digest: str  # the fingerprint without its `:n`
    rule: str
    path: str
    line: int


def document(result: CheckResult) -> dict:
    findings = sorted(result.findings, key=Finding.sort_key)
    return {
        "version": BASELINE_VERSION,
        "tool": "sparklint",
        "sparklint_version": __version__,
        "fingerprint": FINGERPRINT_KEY,
        "findings": [
            {"fingerprint": fingerprint, "rule": finding.rule, "path": finding.location.path,
             "line": finding.location.line, "message": finding.message}
            for finding, fingerprint in zip(findings, fingerprints(findings, result.root))
        ],
    }


def write(result: CheckResult, path: Path) -> int:
    """Write the baseline of `result` to `path`; how many findings it holds."""
    body = document(result)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"cannot write the baseline {path}: {error.strerror or error}") from None
    return len(body["findings"])


def load(path: Path) -> list[Entry]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline {path} not found (write it with `sparklint baseline -o {path}`)") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise BaselineError(f"cannot read the baseline {path}: {' '.join(str(error).split())}") from None
    if not isinstance(body, dict) or body.get("version") != BASELINE_VERSION or not isinstance(body.get("findings"), list):
        raise BaselineError(f"{path} is not a sparklint baseline of version {BASELINE_VERSION}")
    entries = []
    for item in body["findings"]:
        fingerprint = item.get("fingerprint") if isinstance(item, dict) else None
        if not isinstance(fingerprint, str) or ":" not in fingerprint:
            raise BaselineError(f"{path}: a finding without a fingerprint")
        line = item.get("line")
        entries.append(Entry(fingerprint.rpartition(":")[0], str(item.get("rule", "")), str(item.get("path", "")),
                             line if isinstance(line, int) and not isinstance(line, bool) else 0))
    return entries


def apply(result: CheckResult, entries: Sequence[Entry], baseline_path: str, checked: Sequence[str] = ("",),
          texts: Mapping[str, bytes] | None = None) -> CheckResult:
    """`result` without the findings the baseline holds. Entries of files under the `checked`
    paths (relative to the root, "" for all) that match nothing are counted as stale; `texts`
    are file contents to fingerprint instead of what is on disk (fixes being made in memory)."""
    findings = sorted(result.findings, key=Finding.sort_key)
    digests = [fingerprint.rpartition(":")[0] for fingerprint in fingerprints(findings, result.root, texts)]
    recorded: dict[str, list[Entry]] = {}
    for entry in entries:
        recorded.setdefault(entry.digest, []).append(entry)
    current: dict[str, list[int]] = {}
    for position, digest in enumerate(digests):
        current.setdefault(digest, []).append(position)
    hidden: set[int] = set()
    stale = 0
    for digest, wanted in recorded.items():
        matched = _nearest(wanted, [findings[position] for position in current.get(digest, [])])
        hidden |= {current[digest][index] for index in matched}
        stale += sum(1 for entry in wanted[len(matched):] if _under(entry.path, checked))
    kept = tuple(finding for position, finding in enumerate(findings) if position not in hidden)
    return replace(result, findings=kept, baseline=BaselineSummary(baseline_path, len(hidden), stale))


def _nearest(entries: list[Entry], findings: list[Finding]) -> list[int]:
    """Which of the findings (sharing one hash) the recorded entries stand for: all when there
    are no more of them than entries, else for each entry the finding nearest its old line."""
    if len(findings) <= len(entries):
        return list(range(len(findings)))
    free = set(range(len(findings)))
    chosen = []
    for entry in entries:
        best = min(free, key=lambda index: (abs(findings[index].location.line - entry.line), index))
        free.discard(best)
        chosen.append(best)
    return chosen


def _under(path: str, checked: Sequence[str]) -> bool:
    return any(base in ("", ".") or path == base or path.startswith(base.rstrip("/") + "/") for base in checked)
