"""Text messages between users, with their delivery state, and the keys that make sends safe to retry."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Greatest, Least
from django.utils import timezone

CONTENT_MAX_LENGTH = 10_000
# A received message its receiver has neither read nor deleted.
UNREAD = models.Q(read_at__isnull=True, deleted_by_receiver=False)


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
