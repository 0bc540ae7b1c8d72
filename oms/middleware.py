"""Request-wide concerns: one access log line per request, health probes, no caching of API answers,
a JSON 503 when the database or cache is down, and a JSON 500 for anything unexpected.

Each is async-capable (MiddlewareMixin), so an ASGI server runs the stack without adapting it.
"""

from __future__ import annotations

import logging
import time

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, JsonResponse
from django.utils.deprecation import MiddlewareMixin
from django_prometheus import middleware as prometheus

from oms import health
from oms.availability import service_unavailable_response
from oms.exceptions import printable, request_username, unexpected_error_response

logger = logging.getLogger("oms.access")

# Where the token API lives: no cookies, no sessions, no HTML.
API_PREFIX = "/api/"


class _BrowserOnly:
    """For middleware that only browser pages need (the admin's session login, its flash messages):
    requests to the token API, which carries no cookies, pass straight through. The classes
    below are Django's own, so Django's checks still see them in MIDDLEWARE."""

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class _CachedLabels:
    """django-prometheus's request metrics, unchanged, with each labelled series looked up once per
    process: the library validates and locks for every one of its dozen series on every request.
    The label values (method, status, view name, charset) come from small fixed sets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._series = {}

    def label_metric(self, metric, request, response=None, **labels):
        if not labels:
            return metric
        key = (id(metric), *labels.items())
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = metric.labels(**labels)
        return series


class PrometheusAfterMiddleware(_CachedLabels, prometheus.PrometheusAfterMiddleware):
    pass


class SessionMiddleware(_BrowserOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(_BrowserOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(_BrowserOnly, messages.MessageMiddleware):
    pass


class AccessLogMiddleware(MiddlewareMixin):
    def process_request(self, request):
        request._oms_started = time.perf_counter()

    def process_response(self, request, response):
        started = getattr(request, "_oms_started", None)
        if started is None:
            return response
        if request.path in health.PATHS and response.status_code == 200:
            # A load balancer asks every few seconds; only a failing probe is news.
            return response
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


class HealthMiddleware(MiddlewareMixin):
    """Answers /healthz and /readyz before anything else looks at the request."""

    def process_request(self, request):
        return health.answer(request)


class NoStoreMiddleware(MiddlewareMixin):
    """API answers carry tokens and message content: no browser or proxy may keep a copy."""

    def process_response(self, request, response):
        if request.path.startswith("/api") and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class UnexpectedErrorMiddleware(MiddlewareMixin):
    """Errors outside DRF views (admin, plain Django views) get the same JSON 500, whatever DEBUG says."""

    def process_exception(self, request, exception):
        unavailable = service_unavailable_response(request, exception)
        if unavailable is not None:
            return unavailable
        if isinstance(exception, (Http404, PermissionDenied)):
            # Django answers these itself with the right 4xx.
            return None
        if isinstance(exception, (SuspiciousOperation, BadRequest)):
            # Django's own answer would be a debug page when DJANGO_DEBUG is on.
            return JsonResponse({"detail": "Bad request."}, status=400)
        return unexpected_error_response(request, exception)


class RequestGuardMiddleware(MiddlewareMixin):
    """Refuses, as JSON 400/413, what Django would otherwise refuse deeper down with an HTML page
    (a debug page when DJANGO_DEBUG is on): a Host not in DJANGO_ALLOWED_HOSTS, and a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE. Reading `request.body` here is what enforces that size, since
    DRF's parsers stream the body without the check.
    """

    def process_request(self, request):
        try:
            request.get_host()
        except DisallowedHost:
            logger.warning("refused host %r", request.META.get("HTTP_HOST", ""))
            return JsonResponse({"detail": "Unknown host."}, status=400)
        try:
            request.body  # noqa: B018 - reading it is the check
        except RequestDataTooBig:
            return JsonResponse({"detail": "The request body is too large."}, status=413)
        return None
