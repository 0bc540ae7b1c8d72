"""The per-user event log that online clients replay from: the source of truth for real-time pushes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

MESSAGE_CREATED = "message.created"
MESSAGE_DELIVERED = "message.delivered"
MESSAGE_READ = "message.read"
MESSAGE_DELETED = "message.deleted"
BLOCK_CREATED = "block.created"
BLOCK_DELETED = "block.deleted"
EVENT_TYPES = (
    MESSAGE_CREATED,
    MESSAGE_DELIVERED,
    MESSAGE_READ,
    MESSAGE_DELETED,
    BLOCK_CREATED,
    BLOCK_DELETED,
)


class Event(models.Model):
    """Something one user's devices need to know. Ids only grow, and a user's events commit in id order."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the replay index below starts with user
    )
    type = models.CharField(max_length=32, choices=[(t, t) for t in EVENT_TYPES])
    created = models.DateTimeField(default=timezone.now)
    data = models.JSONField()

    class Meta:
        indexes = [
            # Replay: a user's events after an id.
            models.Index(fields=["user", "id"], name="event_user_id"),
            # Purge: everything older than the retention.
            models.Index(fields=["created"], name="event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.pk} for {self.user_id}"


class EventHorizon(models.Model):
    """One row: every event with an id up to `purged_through` may have been purged."""

    purged_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"events purged through {self.purged_through}"
