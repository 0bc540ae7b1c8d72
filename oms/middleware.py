"""Request-wide concerns: one access log line per request, and a JSON 500 for anything unexpected."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, JsonResponse

from oms.exceptions import request_username, unexpected_error_response

logger = logging.getLogger("oms.access")


def printable(text: str) -> str:
    """Text safe for a one-line log entry: control characters (a newline in a URL) escaped."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        user = request_username(request)
        path = printable(request.path)
        logger.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            path,
            response.status_code,
            duration_ms,
            user,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user": user,
            },
        )
        return response


class UnexpectedErrorMiddleware:
    """Errors outside DRF views (admin, plain Django views) get the same JSON 500, whatever DEBUG says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (Http404, PermissionDenied)):
            # Django answers these itself with the right 4xx.
            return None
        if isinstance(exception, (SuspiciousOperation, BadRequest)):
            # Django's own answer would be a debug page when DJANGO_DEBUG is on.
            return JsonResponse({"detail": "Bad request."}, status=400)
        return unexpected_error_response(request, exception)


class RequestGuardMiddleware:
    """Refuses, as JSON 400/413, what Django would otherwise refuse deeper down with an HTML page
    (a debug page when DJANGO_DEBUG is on): a Host not in DJANGO_ALLOWED_HOSTS, and a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE. Reading `request.body` here is what enforces that size, since
    DRF's parsers stream the body without the check.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.get_host()
        except DisallowedHost:
            logger.warning("refused host %r", request.META.get("HTTP_HOST", ""))
            return JsonResponse({"detail": "Unknown host."}, status=400)
        try:
            request.body  # noqa: B018 - reading it is the check
        except RequestDataTooBig:
            return JsonResponse({"detail": "The request body is too large."}, status=413)
        return self.get_response(request)
