"""Text messages between users, with their delivery state, each user's conversation rows, and the
keys that make sends safe to retry."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models.functions import Greatest, Least
from django.utils import timezone

CONTENT_MAX_LENGTH = 10_000
# A received message its receiver has neither read nor deleted.
UNREAD = models.Q(read_at__isnull=True, deleted_by_receiver=False)


def pair(a: int, b: int) -> tuple[int, int]:
    """Two user ids in the order Message.user_low/user_high store them: a conversation's key."""
    return (a, b) if a <= b else (b, a)


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Where a calendar day in the server's time zone starts, and where the next one does."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


class MessageQuerySet(models.QuerySet):
    """What a user may see, and the narrower cuts of it every read is made of."""

    def sent_by(self, user) -> MessageQuerySet:
        return self.filter(sender=user, deleted_by_sender=False)

    def received_by(self, user) -> MessageQuerySet:
        return self.filter(receiver=user, deleted_by_receiver=False)

    def visible_to(self, user) -> MessageQuerySet:
        """What the user sent or received and has not deleted: the one rule of who sees a message."""
        sent = models.Q(sender=user, deleted_by_sender=False)
        return self.filter(sent | models.Q(receiver=user, deleted_by_receiver=False))

    def between(self, user, peer) -> MessageQuerySet:
        """Both directions of the conversation of `user` and `peer` (one index range)."""
        return self.in_pair(*pair(user.pk, peer.pk))

    def in_pair(self, low: int, high: int) -> MessageQuerySet:
        """`between` for a pair already in order (see `pair`)."""
        return self.filter(user_low=low, user_high=high)

    def unread(self) -> MessageQuerySet:
        return self.filter(UNREAD)

    def on_day(self, day: dt.date) -> MessageQuerySet:
        """Created on this calendar day in the server's time zone: an index range on `created`."""
        return self.created_within(*day_bounds(day))

    def created_within(self, start: dt.datetime, end: dt.datetime) -> MessageQuerySet:
        return self.filter(created__gte=start, created__lt=end)


class Message(models.Model):
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sent_messages",
        db_index=False,  # the composite indexes below start with sender
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="received_messages",
        db_index=False,  # the composite indexes below start with receiver
    )
    content = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    # Set the first time the receiver is shown the message, and when the receiver reads it.
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Deleting hides a message from one party only; the other keeps it.
    deleted_by_sender = models.BooleanField(default=False)
    deleted_by_receiver = models.BooleanField(default=False)
    # The two participants in a fixed order, computed by the database, so that a whole
    # conversation (either direction) is one index range.
    user_low = models.GeneratedField(
        expression=Least("sender", "receiver"), output_field=models.BigIntegerField(), db_persist=True
    )
    user_high = models.GeneratedField(
        expression=Greatest("sender", "receiver"), output_field=models.BigIntegerField(), db_persist=True
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        indexes = [
            # Lists, newest first.
            models.Index(fields=["sender", "-created", "-id"], name="msg_sender_created"),
            models.Index(fields=["receiver", "-created", "-id"], name="msg_receiver_created"),
            # One conversation, newest first.
            models.Index(fields=["user_low", "user_high", "-created", "-id"], name="msg_pair_created"),
            # Sync, by id.
            models.Index(fields=["sender", "id"], name="msg_sender_id"),
            models.Index(fields=["receiver", "id"], name="msg_receiver_id"),
            # Unread counts touch only unread rows.
            models.Index(
                fields=["receiver", "sender"],
                condition=UNREAD,
                name="msg_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} from {self.sender_id} to {self.receiver_id}"


class Conversation(models.Model):
    """One user's side of the messages with one peer, kept exact by every write in services.py in the
    same transaction, so that counts, unread numbers and the conversation list read rows instead of
    counting messages: their cost does not grow with a user's history.

    A row exists once the two have exchanged a message; it stays (with zero counts) when every
    message is deleted. With notes to self, owner and peer are the same user and each note counts
    as sent and as received.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    peer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The newest message of the two that the owner still sees; none once the owner deleted them all.
    last_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Messages the owner sees: sent to the peer, received from the peer, and of those received unread.
    sent = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    unread = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "peer"], name="conversation_owner_peer")]
        indexes = [
            # The conversation list, most recent activity first.
            models.Index(
                fields=["owner", "-last_message"],
                condition=models.Q(last_message__isnull=False),
                name="conversation_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation of {self.owner_id} with {self.peer_id}"


class IdempotencyKey(models.Model):
    """A sender's Idempotency-Key and the message it created, kept for the replay window."""

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=255)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sender", "key"], name="msg_idempotency_unique_key")]
        indexes = [models.Index(fields=["sender", "created"], name="msg_idempotency_age")]

    def __str__(self) -> str:
        return f"{self.key} from {self.sender_id}"
