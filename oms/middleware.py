"""Request-wide concerns: one access log line per request, and a JSON 500 for anything unexpected."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse

from oms.exceptions import request_username, unexpected_error_response

logger = logging.getLogger("oms.access")


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        user = request_username(request)
        logger.info(
            "%s %s %s %.1fms user=%s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            user,
            extra={
                "method": request.method,
                "path": request.path,
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
        if isinstance(exception, (Http404, PermissionDenied, SuspiciousOperation, BadRequest)):
            # Django answers these itself with the right 4xx.
            return None
        return unexpected_error_response(request, exception)


class RequestBodyLimitMiddleware:
    """Reads the body through `request.body`, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE.

    DRF's parsers stream the body without that check, so an oversized body would otherwise be
    read whole into memory.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.body  # noqa: B018 - reading it is the check
        except RequestDataTooBig:
            return JsonResponse({"detail": "The request body is too large."}, status=413)
        return self.get_response(request)
