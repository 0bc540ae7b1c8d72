"""Receivers of Django's authentication signals, and the username key django-axes counts by."""

from __future__ import annotations

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from accounts.models import username_key
from accounts.selectors import user_get_by_username
from accounts.services import login_failure_record

logger = logging.getLogger(__name__)


@receiver(user_login_failed)
def _log_failed_login(sender, credentials, request=None, **kwargs):
    login_failure_record(request=request, username=str(credentials.get("username", "")))


@receiver(user_locked_out)
def _log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    user = user_get_by_username(username=username or "", include_inactive=True)
    who = f"user={user.username}" if user is not None else "user=-"
    logger.warning(
        "admin login locked out %s address=%s",
        who,
        ip_address,
        extra={"user": user.username if user else None, "address": ip_address},
    )


def admin_login_username(request, credentials) -> str | None:
    """django-axes counts failures per username: "Admin" and its fullwidth form share one counter."""
    raw = (credentials or {}).get("username") or request.POST.get("username")
    if raw is None:
        return None
    return username_key(str(raw)) or str(raw)
