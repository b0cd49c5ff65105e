"""SPK100's edit on a comment's text, the same for `# noqa: ...` and `// noqa: ...`."""

from __future__ import annotations

import re

NOQA = re.compile(r"(?P<lead>#|//)[ \t]*noqa[ \t]*:[ \t]*(?P<codes>[A-Za-z]+[0-9]+(?:[ \t]*,?[ \t]*[A-Za-z]+[0-9]+)*)",
                  re.IGNORECASE)
CODE = re.compile(r"[A-Za-z]+[0-9]+")


def without_code(comment: str, at: int, code: str) -> str | None:
    """`comment` with `code` taken out of the `noqa` that starts at index `at`; None when nothing
    is left of the comment. Raises ValueError when no `noqa` naming `code` starts there."""
    match = NOQA.match(comment, at)
    codes = CODE.findall(match["codes"]) if match else []
    if match is None or code.upper() not in (item.upper() for item in codes):
        raise ValueError(f"no `noqa` comment naming {code} there")
    kept = [item for item in codes if item.upper() != code.upper()]
    if kept:
        return comment[:match.start("codes")] + ", ".join(kept) + comment[match.end("codes"):]
    before, after = comment[:match.start()].rstrip(), comment[match.end():].strip()
    if after and not after.startswith(match["lead"]):
        after = f"{match['lead']} {after.lstrip(':;,-').strip()}"  # the reason given after the codes stays
    if before and after:
        return f"{before}  {after}"
    return before or after or None
