"""Writes to messages: send, delivery and read marks, delete."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.models import User
from accounts.selectors import user_get_by_username
from blocking.selectors import is_blocked
from messageservice.events import (
    message_created_events,
    message_deleted_events,
    message_delivered_events,
    message_read_events,
)
from messageservice.models import UNREAD, IdempotencyKey, Message
from messageservice.selectors import idempotency_key_get
from oms.exceptions import BadRequest, Conflict

logger = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)


def _lock_users(*user_ids: int) -> None:
    """Serialise the sends that involve these users.

    Ids come from a sequence when the row is inserted, but rows become visible when their
    transaction commits. Holding every participant's row lock from before the insert until
    the commit means a user's messages commit in id order, so catch-up sync by id never skips
    one. SQLite already serialises all writers.
    """
    if connection.features.has_select_for_update:
        list(
            User.objects.select_for_update(no_key=True)
            .filter(pk__in=set(user_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def message_send(
    *, sender: User, receiver_username: str, content: str, idempotency_key: str | None = None
) -> tuple[Message, bool]:
    """Store a message from `sender`; returns it and whether it is a replay of an earlier send.

    A sender blocked by the receiver is refused and nothing is stored. With an idempotency key,
    a repeat of the same send within the window returns the first message instead of a new one,
    even if the receiver has blocked the sender or left since.
    """
    receiver = user_get_by_username(username=receiver_username)
    with transaction.atomic():
        _lock_users(sender.pk, *([receiver.pk] if receiver is not None else []))
        if idempotency_key is not None:
            earlier = _idempotent_replay(sender=sender, key=idempotency_key)
            if earlier is not None:
                if not _is_same_send(
                    earlier, receiver=receiver, receiver_username=receiver_username, content=content
                ):
                    raise Conflict(
                        "This Idempotency-Key was already used for a different message; "
                        "use a new key for a new message."
                    )
                return earlier, True
        if receiver is None:
            raise ValidationError({"receiver": ["Receiver does not exist."]})
        if is_blocked(sender=sender, receiver=receiver):
            logger.info(
                "message refused, sender blocked sender=%s receiver=%s",
                sender.username,
                receiver.username,
                extra={"sender": sender.username, "receiver": receiver.username},
            )
            raise PermissionDenied(f"You are blocked by {receiver.username}")
        message = Message.objects.create(sender=sender, receiver=receiver, content=content)
        if idempotency_key is not None:
            IdempotencyKey.objects.create(sender=sender, key=idempotency_key, message=message)
        message_created_events(message=message)
    logger.info(
        "message sent id=%s sender=%s receiver=%s",
        message.pk,
        sender.username,
        receiver.username,
        extra={"message_id": message.pk, "sender": sender.username, "receiver": receiver.username},
    )
    return message, False


def _is_same_send(earlier: Message, *, receiver: User | None, receiver_username: str, content: str) -> bool:
    if earlier.content != content:
        return False
    if receiver is not None:
        return earlier.receiver_id == receiver.pk
    # The receiver is no longer an active user: match the name it was sent to.
    return earlier.receiver.username.lower() == receiver_username.lower()


def _idempotent_replay(*, sender: User, key: str) -> Message | None:
    """The message this key created within the window; expired keys of the sender are dropped."""
    IdempotencyKey.objects.filter(sender=sender, created__lt=timezone.now() - IDEMPOTENCY_WINDOW).delete()
    record = idempotency_key_get(sender=sender, key=key)
    return record.message if record is not None else None


def message_mark_delivered(*, user: User, messages: list[Message]) -> None:
    """Record that `user` has now been shown these messages, in one UPDATE at most."""
    pending = [m for m in messages if m.receiver_id == user.pk and m.delivered_at is None]
    if not pending:
        return
    now = timezone.now()
    with transaction.atomic(savepoint=False):  # the marks and their receipts commit together
        Message.objects.filter(pk__in=[m.pk for m in pending], delivered_at__isnull=True).update(
            delivered_at=now
        )
        message_delivered_events(receiver=user, messages=pending, delivered_at=now)
    for message in pending:
        message.delivered_at = now


@transaction.atomic  # the marks and their events commit together
def message_mark_read(
    *,
    user: User,
    ids: list[int] | None = None,
    sender_username: str | None = None,
    everything: bool = False,
) -> int:
    """Mark some of the user's unread received messages read (and delivered); returns how many."""
    unread = Message.objects.filter(UNREAD, receiver=user)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    elif sender_username is not None:
        sender = user_get_by_username(username=sender_username, include_inactive=True)
        if sender is None:
            raise ValidationError({"sender": ["User does not exist."]})
        unread = unread.filter(sender=sender)
    elif not everything:
        raise BadRequest("Say which messages to mark: ids, sender or all.")
    now = timezone.now()
    marked = unread.update(read_at=now, delivered_at=Coalesce("delivered_at", Value(now)))
    if marked:
        message_read_events(reader=user, read_at=now, ids=ids)
    return marked


@transaction.atomic  # the delete and its event commit together
def message_delete(*, user: User, message_id: int) -> None:
    """Hide a message from `user`; the other party still has it. Unknown or not the user's: 404.

    Each party's flag is set by its own conditional UPDATE, so two parties deleting at once
    never write back each other's stale flag.
    """
    hidden = Message.objects.filter(pk=message_id, sender=user, deleted_by_sender=False).update(
        deleted_by_sender=True
    )
    hidden += Message.objects.filter(pk=message_id, receiver=user, deleted_by_receiver=False).update(
        deleted_by_receiver=True
    )
    if not hidden:
        raise NotFound("No message with that id.")
    message_deleted_events(user=user, message_id=message_id)
    logger.info(
        "message deleted id=%s user=%s",
        message_id,
        user.username,
        extra={"message_id": message_id, "user": user.username},
    )
