"""Writes to blocks: block and unblock."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from accounts.selectors import user_get_by_username
from blocking.events import block_created_events, block_deleted_events
from blocking.models import Block

logger = logging.getLogger(__name__)


def block_create(*, blocker: User, blocked_username: str) -> Block:
    blocked = user_get_by_username(username=blocked_username)
    if blocked is None:
        raise ValidationError({"blocked": ["User does not exist."]})
    if blocked.pk == blocker.pk:
        raise ValidationError({"blocked": ["You cannot block yourself."]})
    try:
        with transaction.atomic():
            block = Block.objects.create(blocker=blocker, blocked=blocked)
            block_created_events(block=block)
    except IntegrityError as exc:
        raise ValidationError({"blocked": [f"You already block {blocked.username}."]}) from exc
    logger.info(
        "user blocked blocker=%s blocked=%s",
        blocker.username,
        blocked.username,
        extra={"blocker": blocker.username, "blocked": blocked.username},
    )
    return block


@transaction.atomic  # the unblock and its event commit together
def block_delete(*, blocker: User, blocked_username: str) -> None:
    # By name, not through the active-user lookup: a user deactivated after being blocked
    # must still be unblockable.
    deleted, _ = Block.objects.filter(blocker=blocker, blocked__username__ci=blocked_username).delete()
    if not deleted:
        raise NotFound(f"You do not block {blocked_username}.")
    block_deleted_events(blocker=blocker, blocked_username=blocked_username)
    logger.info(
        "user unblocked blocker=%s blocked=%s",
        blocker.username,
        blocked_username,
        extra={"blocker": blocker.username, "blocked": blocked_username},
    )
