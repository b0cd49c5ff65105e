"""`sparklint server`: a Language Server Protocol server over stdio (pygls). See `app`."""

from __future__ import annotations


def serve() -> int:
    """Serve LSP on stdin/stdout until the client sends `exit`; the process's exit code."""
    from sparklint.server.app import serve as start

    return start()


__all__ = ["serve"]
