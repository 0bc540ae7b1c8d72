"""Probes for load balancers: /healthz (the process answers) and /readyz (its database and cache answer)."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

from oms.availability import retry_after_headers

logger = logging.getLogger(__name__)

HEALTHZ = "/healthz"
READYZ = "/readyz"
PATHS = frozenset({HEALTHZ, READYZ, HEALTHZ + "/", READYZ + "/"})


def _database_answers() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # This thread's own connection: never kept, so a probe holds nothing between calls.
        connection.close()


def _cache_answers() -> None:
    cache.get("oms:readyz")


def _answers_within(check, timeout: float) -> str:
    """ "ok", "timeout" or the error's class name. The check runs on its own thread, so a service
    that accepts connections but never answers costs the probe `timeout` seconds, not a worker."""
    outcome: list[str] = []

    def run() -> None:
        try:
            check()
            outcome.append("ok")
        except Exception as exc:  # any failure means "not ready"; the name is enough for an operator
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=run, name=f"readyz-{check.__name__}", daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else "timeout"


def readiness() -> dict[str, str]:
    checks = {"database": _database_answers}
    if settings.REDIS_URL:
        checks["cache"] = _cache_answers
    return {name: _answers_within(check, settings.READINESS_TIMEOUT) for name, check in checks.items()}


def answer(request: HttpRequest) -> JsonResponse | None:
    """The probe's answer when `request` is one, else None. Any method and Host are accepted: load
    balancers often probe by address."""
    if request.path not in PATHS:
        return None
    if request.path.rstrip("/") == HEALTHZ:
        return JsonResponse({"status": "ok"})
    checks = readiness()
    if all(result == "ok" for result in checks.values()):
        return JsonResponse({"status": "ok", "checks": checks})
    logger.warning(
        "not ready %s",
        " ".join(f"{name}={result}" for name, result in checks.items()),
        extra={"checks": checks},
    )
    return JsonResponse(
        {"detail": "Not ready.", "status": "unavailable", "checks": checks},
        status=503,
        headers=retry_after_headers(),
    )
