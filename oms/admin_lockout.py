"""django-axes handlers that guard the admin's login only: API logins have their own throttle, and
must cost no lockout bookkeeping (not even a query) and never be locked out by the admin's counters."""

from __future__ import annotations

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.database import AxesDatabaseHandler
from django.urls import reverse


def is_admin_login(request) -> bool:
    return request is not None and request.path.startswith(reverse("admin:index"))


class _AdminOnly:
    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if is_admin_login(request):
            return super().user_login_failed(sender, credentials, request, **kwargs)
        return None

    def user_logged_in(self, sender, request, user, **kwargs):
        if is_admin_login(request):
            return super().user_logged_in(sender, request, user, **kwargs)
        return None

    def user_logged_out(self, sender, request, user, **kwargs):
        if is_admin_login(request):
            return super().user_logged_out(sender, request, user, **kwargs)
        return None


class AdminOnlyCacheHandler(_AdminOnly, AxesCacheHandler):
    """Counts in the cache (Redis)."""


class AdminOnlyDatabaseHandler(_AdminOnly, AxesDatabaseHandler):
    """Counts in the database, whose increments are atomic across workers."""


def outside_admin(request, credentials=None) -> bool:
    """AXES_WHITELIST_CALLABLE: whatever is not the admin's login is never locked out."""
    return not is_admin_login(request)
