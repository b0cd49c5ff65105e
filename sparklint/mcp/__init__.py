"""`sparklint mcp`: a Model Context Protocol server over stdio for AI assistants. See `app`."""

from __future__ import annotations


def serve() -> int:
    """Serve MCP on stdin/stdout until the client closes the stream; the process's exit code."""
    from sparklint.mcp.app import serve as start

    return start()


__all__ = ["serve"]
