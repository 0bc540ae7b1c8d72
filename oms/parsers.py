"""Request body parsers: JSON, form and multipart bodies, each refusing what it cannot read exactly."""

from urllib.parse import parse_qsl

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

NOT_UTF8 = "The request body is not valid UTF-8."


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, also refusing JSON nested too deeply for Python to parse."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


def _read_utf8(stream) -> bytes:
    """The whole body, after checking it is UTF-8 (Django would quietly replace what is not)."""
    body = stream.read() if stream is not None else b""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(NOT_UTF8) from None
    return body


class _Replay:
    """A read body handed on to the parent parser as if it were the stream."""

    def __init__(self, body: bytes):
        self._body = body
        self._read = False

    def read(self, size: int = -1) -> bytes:
        if self._read:
            return b""
        self._read = True
        return self._body


class StrictFormParser(FormParser):
    """Form bodies, refusing invalid UTF-8 with 400, raw or percent-encoded (`content=%FF`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = _read_utf8(stream)
        try:
            parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="strict",
                max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
            )
        except UnicodeDecodeError:
            raise ParseError(NOT_UTF8) from None
        except ValueError:
            raise ParseError("The request has too many fields.") from None
        return super().parse(_Replay(body), media_type, parser_context)


class StrictMultiPartParser(MultiPartParser):
    """multipart/form-data (HTML forms, DRF's test client, form-data in API tools) with the same fields
    as a form body. No endpoint takes files, so the whole body must be UTF-8 text."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        _read_utf8(_Replay(request.body))
        return super().parse(stream, media_type, parser_context)
