"""Reads of users."""

from __future__ import annotations

from accounts.models import User


def user_get_by_username(*, username: str) -> User | None:
    """The active user with this username, whatever its case, or None."""
    return User.objects.filter(username__ci=username, is_active=True).first()
