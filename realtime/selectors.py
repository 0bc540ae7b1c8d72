"""Reads the socket and the long-poll need: who a token belongs to, and who may see typing."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import User
from accounts.selectors import user_get_by_username
from blocking.selectors import is_blocked_either_way


def token_owner(*, key: str) -> tuple[User, str] | None:
    """The active user a knox token belongs to, and the token's digest; None if invalid or expired."""
    try:
        user, token = TokenAuthentication().authenticate_credentials(key.encode())
    except (AuthenticationFailed, UnicodeError):
        return None
    return user, token.digest


def token_is_live(*, digest: str) -> bool:
    """Whether the token is still valid: not logged out, not expired, its user still active."""
    return (
        AuthToken.objects.filter(digest=digest, user__is_active=True)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))
        .exists()
    )


def typing_peer(*, user: User, username: str) -> User | None:
    """The user `user` may show typing to: active, and neither blocks the other."""
    peer = user_get_by_username(username=username)
    if peer is None or peer.pk == user.pk or is_blocked_either_way(user=user, other=peer):
        return None
    return peer
