"""Cache files replaced atomically: a run sharing the cache never reads half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, prefix: str = ".") -> bool:
    """Write `data` to a temporary file beside `path` and move it into place; whether it was
    written. A failure leaves no temporary file behind and costs the next run time, never this
    run's result."""
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
        return True
    except OSError:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        return False
