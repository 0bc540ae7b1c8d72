"""Reads of blocks."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from blocking.models import Block


def is_blocked(*, sender: User, receiver: User) -> bool:
    """Whether `receiver` blocks `sender`, so that sender's messages to receiver are refused."""
    return Block.objects.filter(blocker=receiver, blocked=sender).exists()


def block_list_for(*, user: User) -> QuerySet[Block]:
    """The blocks `user` made, newest first."""
    return Block.objects.filter(blocker=user).select_related("blocked").order_by("-created", "-id")


def is_blocked_either_way(*, user: User, other: User) -> bool:
    """Whether either of the two blocks the other (typing indicators go nowhere then)."""
    return Block.objects.filter(Q(blocker=user, blocked=other) | Q(blocker=other, blocked=user)).exists()
