"""Reads of blocks."""

from __future__ import annotations

from django.db.models import Exists, Q, QuerySet

from accounts.models import User
from blocking.models import Block
from oms.prepared import Prepared

# Compiled once per process: every send asks it.
_BLOCKED = Prepared(
    lambda *, sender, receiver: Block.objects.filter(blocker=receiver, blocked=sender).values_list("pk")[:1],
    ids=("sender", "receiver"),
)


def is_blocked(*, sender: User, receiver: User) -> bool:
    """Whether `receiver` blocks `sender`, so that sender's messages to receiver are refused."""
    return bool(_BLOCKED.rows(sender=sender, receiver=receiver))


def block_of(*, sender: User, receiver: User) -> Exists:
    """`is_blocked` as an expression, for a query that reads it along with something else."""
    return Exists(Block.objects.filter(blocker=receiver, blocked=sender))


def block_list_for(*, user: User) -> QuerySet[Block]:
    """The blocks `user` made, newest first."""
    return Block.objects.filter(blocker=user).select_related("blocked").order_by("-created", "-id")


def is_blocked_either_way(*, user: User, other: User) -> bool:
    """Whether either of the two blocks the other (typing indicators go nowhere then)."""
    return Block.objects.filter(Q(blocker=user, blocked=other) | Q(blocker=other, blocked=user)).exists()
