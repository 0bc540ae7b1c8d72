"""The events that blocks and unblocks write to the blocker's event log (see events.services)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from blocking.models import Block
from events.models import BLOCK_CREATED, BLOCK_DELETED
from events.services import NewEvent, event_record, event_write, json_object_sql


def block_created_events(*, block: Block) -> None:
    from blocking.serializers import BlockSerializer

    data = dict(BlockSerializer(block).data)
    event_record(events=[NewEvent(user_id=block.blocker_id, type=BLOCK_CREATED, data=data)])


def block_deleted_events(*, blocker: User, blocked_username: str) -> None:
    """Names the unblocked user as stored, whatever case the request used, in the same one query."""
    who = User.objects.filter(username__ci=blocked_username).values("username")[:1]
    who_sql, who_params = who.query.sql_with_params()
    data = json_object_sql("'blocked'", "username")
    event_write(
        ctes="",
        rows=f"SELECT CAST(%s AS BIGINT) AS user_id, {data} AS data FROM ({who_sql}) AS who WHERE true",
        params=[blocker.pk, *who_params],
        type=BLOCK_DELETED,
        created=timezone.now(),
    )
