"""Side effects of the real-time layer that start in sync code."""

from __future__ import annotations

from django.db import transaction

from events import notify


def socket_logout_notify(sender, request, user, **kwargs) -> None:
    """After a logout commits, that user's sockets re-check their tokens and close if theirs is gone."""
    if user is None or user.pk is None:
        return
    transaction.on_commit(lambda: notify.auth_recheck(user_id=user.pk))
