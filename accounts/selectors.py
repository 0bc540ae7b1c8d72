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


def token_digests_live(*, digests: list[str]) -> set[str]:
    """Which of these knox token digests still authenticate: not logged out or expired, user active."""
    from django.db.models import Q
    from django.utils import timezone
    from knox.models import AuthToken

    return set(
        AuthToken.objects.filter(digest__in=digests, user__is_active=True)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))
        .values_list("digest", flat=True)
    )
