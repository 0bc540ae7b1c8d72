"""drf-spectacular hooks."""

from __future__ import annotations


def strip_trailing_slashes(result, generator, request, public):
    """Document each path as clients call it: `/api/message`, not the optional-slash `/api/message/`."""
    result["paths"] = {
        (path.rstrip("/") or "/"): operations for path, operations in result.get("paths", {}).items()
    }
    return result


ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}
# What DRF answers for invalid fields: a list of messages per field, or per item of a list field.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        '`{"<field>": ["...", ...]}`: the messages of each field that failed (`non_field_errors` '
        "for the body as a whole); a list field maps item positions to their messages."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        ]
    },
    "minProperties": 1,
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}


def add_common_responses(result, generator, request, public):
    """Answers any operation can give, documented once: 503 while the database or cache is down,
    415 for a body in a format the operation does not read, Retry-After on every 429, and a 400
    that is either field errors or `{"detail"}` (a body that cannot be parsed, wrong credentials)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
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
                responses.setdefault(
                    "400", {"description": "Invalid input.", "content": {"application/json": {}}}
                )
            if "429" in responses:
                responses["429"].setdefault("headers", {}).update(RETRY_AFTER)
            if "400" in responses:
                for media in responses["400"].setdefault("content", {"application/json": {}}).values():
                    media["schema"] = {"oneOf": [VALIDATION_ERROR, ERROR]}
    return result
