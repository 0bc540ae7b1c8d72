"""Who blocks whom: a blocked user's messages to the blocker are refused."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Block(models.Model):
    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_received"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="blocking_block_unique_pair"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="blocking_block_not_self"
            ),
        ]
        indexes = [models.Index(fields=["blocker", "-created", "-id"], name="blocking_block_list")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"
