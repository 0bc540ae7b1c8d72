"""drf-spectacular hooks."""

from __future__ import annotations


def strip_trailing_slashes(result, generator, request, public):
    """Document each path as clients call it: `/api/message`, not the optional-slash `/api/message/`."""
    result["paths"] = {
        (path.rstrip("/") or "/"): operations for path, operations in result.get("paths", {}).items()
    }
    return result
