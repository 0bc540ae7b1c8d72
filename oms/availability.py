"""Outages of the database or the cache: a 503 with Retry-After for clients, one log line for operators."""

from __future__ import annotations

import logging
import threading
import time

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, JsonResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = "The service is temporarily unavailable. Retry later."
# Seconds a client should wait before retrying: outages this short are the ones worth retrying.
RETRY_AFTER_SECONDS = 5
# While an outage lasts, each worker logs one line about it per this many seconds, not one a request.
LOG_INTERVAL_SECONDS = 60

# SQLite reports both "the file is busy" and "no such table" as OperationalError; only these mean
# the database cannot answer right now. A missing table is a bug, and stays a logged 500.
_SQLITE_TRANSIENT = ("database is locked", "unable to open database", "disk i/o error", "database is busy")


def unavailable_service(exc: BaseException) -> str | None:
    """ "database" or "cache" when `exc` says that service cannot be reached now; None otherwise."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return "cache"
    if isinstance(exc, InterfaceError):
        return "database"
    if isinstance(exc, OperationalError):
        if connection.vendor == "sqlite":
            message = str(exc).lower()
            return "database" if any(text in message for text in _SQLITE_TRANSIENT) else None
        return "database"
    return None


class _OutageLog:
    """Logs the first failure of each service, then at most one line per interval with a count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def report(self, service: str, exc: BaseException, path: str) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(service)
            if last is not None and now - last < LOG_INTERVAL_SECONDS:
                self._suppressed[service] = self._suppressed.get(service, 0) + 1
                return
            self._last[service] = now
            suppressed = self._suppressed.pop(service, 0)
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        logger.warning(
            "%s unavailable, answering 503: %s: %s (path=%s, %d more since the last line)",
            service,
            type(exc).__name__,
            reason,
            path,
            suppressed,
            extra={"service": service, "error": type(exc).__name__, "suppressed": suppressed},
        )

    def reset(self) -> None:
        with self._lock:
            self._last.clear()
            self._suppressed.clear()


outage_log = _OutageLog()


def retry_after_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def service_unavailable_response(request: HttpRequest, exc: BaseException) -> JsonResponse | None:
    """A 503 with Retry-After when `exc` means the database or the cache is down; None otherwise."""
    service = unavailable_service(exc)
    if service is None:
        return None
    path = request.path if request.path.isprintable() else request.path.encode("unicode_escape").decode()
    outage_log.report(service, exc, path)
    return JsonResponse({"detail": UNAVAILABLE}, status=503, headers=retry_after_headers())
