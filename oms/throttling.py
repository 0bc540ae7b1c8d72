"""Rate limits. Counters live in the default cache (files shared by one machine's workers, or Redis),
so a throttle adds no database query to a request."""

from __future__ import annotations

from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle


class _AlwaysRetryAfter:
    """DRF computes no wait when more requests were let through than the rate allows (racing
    workers); the answer must still say when to retry, so it is then the whole period."""

    def wait(self):
        wait = super().wait()
        return wait if wait is not None else float(self.duration)


class AuthRateThrottle(_AlwaysRetryAfter, ScopedRateThrottle):
    """Register and login, per client address (THROTTLE_AUTH_RATE)."""


class SendRateThrottle(_AlwaysRetryAfter, UserRateThrottle):
    """Sends per user (THROTTLE_SEND_RATE); reading lists on the same endpoint is not counted."""

    scope = "send"

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
