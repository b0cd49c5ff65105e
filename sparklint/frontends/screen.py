"""A cheap look at a Python file before libcst parses it.

libcst's native parser is quadratic or worse in the depth of nesting and in the length of one
flat expression: 1,000 nested brackets take it 5 s and 1 GB, 50,000 take all the memory there is,
a 1,000-step method chain 3 s, a 2,000-step one 12 s and a 5,000-step one 100 s. No hand-written code comes near such
shapes (CPython itself refuses more than 200 nested brackets), generated files sometimes do.
This screen finds them with a few regular-expression passes, so the file is reported as SPK000
with the reason instead of being parsed.

The text is approximate on purpose (strings and comments are blanked by one regex, not by a
tokenizer): a file it lets through is still parsed in a worker process with limits.
"""

from __future__ import annotations

import re

MAX_NESTING = 200  # CPython's own limit for nested brackets
MAX_CHAIN = 2_000  # operators or `.` steps in one expression without a bracket or comma between

_STRINGS_AND_COMMENTS = re.compile(
    rb"""(?s)[rRbBuUfF]{0,2}(?:'''.*?'''|\"\"\".*?\"\"\")"""
    rb"""|[rRbBuUfF]{0,2}(?:'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")"""
    rb"""|\#[^\n]*"""
)
_INNERMOST_GROUP = re.compile(rb"\([^()\[\]{}]*\)|\[[^()\[\]{}]*\]|\{[^()\[\]{}]*\}")
_OPERATOR = rb"(?:\*\*|//|<<|>>|[-+*/%@&|^.]|\band\b|\bor\b|\bif\b|\belse\b)"
_CHAIN = re.compile(rb"(?:\w++\s*+" + _OPERATOR + rb"\s*+){%d}" % (MAX_CHAIN + 1))
# A chain of MAX_CHAIN steps needs two bytes a step: only stretches that long are searched.
_LONG_INNERMOST_GROUP = re.compile(rb"[(\[{][^()\[\]{}]{%d,}[)\]}]" % (2 * MAX_CHAIN))
_LONG_LINE = re.compile(rb"[^\n]{%d,}" % (2 * MAX_CHAIN))
_LAMBDAS = re.compile(rb"(?:\blambda\b[^:\n]*:\s*){%d}" % (MAX_NESTING + 1))


def too_complex(source: bytes) -> str | None:
    """Why libcst should not be given this file, or None."""
    text = _STRINGS_AND_COMMENTS.sub(b"''", source)
    if _LAMBDAS.search(text):
        return f"more than {MAX_NESTING} nested lambdas"
    for _ in range(MAX_NESTING + 1):
        if _has_long_chain(_LONG_INNERMOST_GROUP.finditer(text)):
            return _CHAIN_REASON
        flatter = _INNERMOST_GROUP.sub(b"_", text)
        if flatter == text:  # no brackets left, or only unbalanced ones (a syntax error libcst reports)
            return _CHAIN_REASON if _has_long_chain(_LONG_LINE.finditer(text)) else None
        text = flatter
    return f"brackets nested more than {MAX_NESTING} deep"


_CHAIN_REASON = f"an expression of more than {MAX_CHAIN} chained operators or method calls"


def _has_long_chain(stretches) -> bool:
    return any(_CHAIN.search(stretch.group()) for stretch in stretches)
