"""Reads of users."""

from __future__ import annotations

from accounts.models import User


def user_get_by_username(*, username: str, include_inactive: bool = False) -> User | None:
    """The user with this username, whatever its case, or None.

    Only active users by default: nobody can send to or block a deactivated account, but its
    history (conversations, filters, read marks) stays reachable with `include_inactive`.
    """
    users = User.objects.filter(username__ci=username)
    if not include_inactive:
        users = users.filter(is_active=True)
    return users.first()
