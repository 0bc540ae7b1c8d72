"""drf-spectacular hooks."""

from __future__ import annotations


def strip_trailing_slashes(result, generator, request, public):
    """Document each path as clients call it: `/api/message`, not the optional-slash `/api/message/`."""
    result["paths"] = {
        (path.rstrip("/") or "/"): operations for path, operations in result.get("paths", {}).items()
    }
    return result


def add_common_responses(result, generator, request, public):
    """Answers any operation can give, documented once: 503 while the database or cache is down,
    and 415 for a body in a format the operation does not read."""
    unavailable = {
        "description": "The database or cache is unavailable; retry after Retry-After seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    unsupported = {
        "description": "A body in a format this operation does not read.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("503", unavailable)
            if "requestBody" in operation:
                responses.setdefault("415", unsupported)
    return result
