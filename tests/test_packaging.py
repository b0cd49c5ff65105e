"""What `pip install sparklint` brings: the event-log codecs are ordinary dependencies (Spark 4
writes zstd logs by default), and the old `profile` extra still resolves."""

from __future__ import annotations

import re
from importlib.metadata import requires


def test_the_codecs_are_installed_without_an_extra() -> None:
    plain = {re.split(r"[<>=;\s\[]", line, maxsplit=1)[0].lower()
             for line in requires("sparklint") or () if "extra ==" not in line}
    assert {"zstandard", "lz4", "cramjam"} <= plain


def test_the_profile_extra_still_exists() -> None:
    from importlib.metadata import metadata

    assert "profile" in (metadata("sparklint").get_all("Provides-Extra") or [])
