"""The one error shape clients see, and the handler that keeps internals out of responses."""

from __future__ import annotations

import logging

from django.core.exceptions import SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from oms.availability import service_unavailable_response

logger = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong"
DEFAULT_RETRY_AFTER_SECONDS = 60


class Conflict(exceptions.APIException):
    """A request that contradicts an earlier one, such as an idempotency key reused for other content."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request conflicts with an earlier one."
    default_code = "conflict"


class BadRequest(exceptions.APIException):
    """A single error that belongs to no one field."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


def printable(text: str) -> str:
    """Text safe for a one-line log entry: control characters (a newline in a URL) escaped."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def request_username(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.get_username()
    return "-"


def unexpected_error_response(request: HttpRequest, exc: BaseException) -> JsonResponse:
    """Log the traceback for the operator; tell the client nothing about it."""
    logger.error(
        "unexpected error method=%s path=%s user=%s",
        request.method,
        request.path,
        request_username(request),
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"method": request.method, "path": request.path, "user": request_username(request)},
    )
    return JsonResponse({"detail": GENERIC_ERROR}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _as_api_exception(exc: BaseException) -> BaseException:
    """Django's refusals of a malformed request become client errors, not server errors.

    (An oversized body never gets this far: RequestGuardMiddleware refuses it first.)
    """
    if isinstance(exc, TooManyFieldsSent):
        return BadRequest("The request has too many fields.", code="too_many_fields")
    if isinstance(exc, SuspiciousOperation):
        return BadRequest("The request is malformed.", code="malformed")
    return exc


def exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is not None:
        if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and not response.has_header(
            "Retry-After"
        ):
            # DRF leaves it out when it cannot compute a wait; every 429 tells the client when to retry.
            response["Retry-After"] = str(DEFAULT_RETRY_AFTER_SECONDS)
        return response
    request = context.get("request")
    django_request = getattr(request, "_request", request)
    return service_unavailable_response(django_request, exc) or unexpected_error_response(django_request, exc)
