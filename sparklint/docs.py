"""The rule documents `rules/<CODE>-<slug>.md`: where they are and what SARIF takes from them.

A wheel ships the repository's `rules/` folder as `sparklint/_rules`; a source checkout or an
editable install reads `<repo>/rules/` directly.
"""

from __future__ import annotations

import re
from pathlib import Path

from sparklint.rules import Rule

RUFF_HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead", "Options", "References")
# `python bad path=jobs/main.py` -> `python`: the example tags mean nothing to a Markdown viewer.
FENCE_INFO = re.compile(r"^(?P<fence>```+|~~~+)[ \t]*(?P<lang>[\w+-]+)[^\n]*$", re.MULTILINE)


class RuleDocumentMissing(LookupError):
    """The rule has no document in this installation."""


def rules_directory() -> Path:
    packaged = Path(__file__).parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def rule_document_path(rule: Rule) -> Path:
    return rules_directory() / f"{rule.code}-{rule.slug}.md"


def rule_document(rule: Rule) -> str:
    path = rule_document_path(rule)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleDocumentMissing(f"no document for {rule.code} ({path} does not exist)") from None


def rule_help_markdown(rule: Rule) -> str:
    """The document with example tags reduced to plain language names, or the summary if missing."""
    try:
        text = rule_document(rule)
    except RuleDocumentMissing:
        return rule.summary
    return FENCE_INFO.sub(lambda match: f"{match['fence']}{match['lang']}", text).strip() + "\n"


def rule_help_text(rule: Rule) -> str:
    """Plain text for viewers that do not render Markdown: headings and code fences dropped."""
    lines = []
    for line in rule_help_markdown(rule).splitlines():
        if line.startswith(("```", "~~~")):
            continue
        lines.append(line.lstrip("#").strip() if line.startswith("#") else line)
    return "\n".join(lines).strip() + "\n"


def rule_help_uri(rule: Rule) -> str | None:
    """Where the rule's document is published, if the distribution declares a documentation URL
    (`[project.urls] Documentation = ".../rules/"` in pyproject.toml)."""
    base = documentation_url()
    if base is None:
        return None
    return f"{base.rstrip('/')}/{rule.code}-{rule.slug}.md"


def documentation_url() -> str | None:
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        project_urls = metadata("sparklint").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    for entry in project_urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("documentation", "rules") and url.strip().startswith("https://"):
            return url.strip()
    return None


def document_headings(text: str) -> list[str]:
    return [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]
