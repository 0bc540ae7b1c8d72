"""Reads of users: the one resolver from a username a client sends to a user."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from rest_framework.exceptions import ValidationError

from accounts.models import User, username_key
from oms.prepared import Prepared

UNKNOWN_USER = "User does not exist."

# Every column of a user, in the model's own field order, as Model.from_db takes them.
USER_COLUMNS = tuple(field.attname for field in User._meta.concrete_fields)


def user_from_row(values) -> User:
    """A User from the USER_COLUMNS of a row, as the ORM would have built it."""
    return User.from_db(DEFAULT_DB_ALIAS, USER_COLUMNS, values)


def _by_key(include_inactive: bool, *, username: str):
    users = User.objects.filter(username__ci=username)
    if not include_inactive:
        users = users.filter(is_active=True)
    return users.values_list(*USER_COLUMNS)[:1]


# Compiled once per process: every list filtered by a peer and every send resolves a name.
_BY_KEY = Prepared(_by_key, texts=("username",))


def user_get_by_username(*, username: str, include_inactive: bool = False) -> User | None:
    """The user a client means by `username`, or None. Every endpoint resolves names through here,
    so "Alice", its fullwidth form and "alice" are the same user everywhere (see `username_key`).

    Only active users by default: nobody can send to or block a deactivated account, but its
    history (conversations, filters, read marks) stays reachable with `include_inactive`.
    """
    key = username_key(username)
    if key is None:
        return None
    rows = _BY_KEY.rows((include_inactive,), username=key)
    return user_from_row(rows[0]) if rows else None


def unknown_user(field: str) -> ValidationError:
    """The error for a username in `field` that names nobody: the same words for every field."""
    return ValidationError({field: [UNKNOWN_USER]})


def user_get_for_field(*, field: str, username: str, include_inactive: bool = False) -> User:
    """Like `user_get_by_username`, but an unknown name is the field error `{field: [UNKNOWN_USER]}`."""
    user = user_get_by_username(username=username, include_inactive=include_inactive)
    if user is None:
        raise unknown_user(field)
    return user


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
