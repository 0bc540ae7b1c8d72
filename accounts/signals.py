"""Receivers of Django's authentication signals, and the username key django-axes counts by."""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from accounts.models import username_key
from accounts.services import login_failure_record


@receiver(user_login_failed)
def _log_failed_login(sender, credentials, request=None, **kwargs):
    login_failure_record(request=request, username=str(credentials.get("username", "")))


def admin_login_username(request, credentials) -> str | None:
    """django-axes counts failures per username: "Admin" and its fullwidth form share one counter."""
    raw = (credentials or {}).get("username") or request.POST.get("username")
    if raw is None:
        return None
    return username_key(str(raw)) or str(raw)
