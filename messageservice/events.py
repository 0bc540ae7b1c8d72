"""The events that message changes write to the event log (see events.services), one query per change."""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from events.models import MESSAGE_CREATED, MESSAGE_DELETED, MESSAGE_DELIVERED, MESSAGE_READ
from events.services import (
    NewEvent,
    event_record,
    event_timestamp,
    event_write,
    json_array_sql,
    json_object_sql,
    json_value_sql,
    text_param_sql,
)
from messageservice.models import Message


def message_created_events(*, message: Message) -> None:
    """The sender's and the receiver's devices all get the new message (once, if they are the same user)."""
    from messageservice.serializers import message_model_data

    data = message_model_data(message)
    users = sorted({message.sender_id, message.receiver_id})
    event_record(events=[NewEvent(user_id=u, type=MESSAGE_CREATED, data=data) for u in users])


def message_delivered_events(*, receiver: User, messages: list[Message], delivered_at: datetime) -> None:
    """A receipt for each sender of these messages, with the ids that reached `receiver`."""
    by_sender: dict[int, list[int]] = {}
    for message in messages:
        if message.sender_id != receiver.pk:
            by_sender.setdefault(message.sender_id, []).append(message.pk)
    when = event_timestamp(delivered_at)
    event_record(
        events=[
            NewEvent(
                user_id=sender_id,
                type=MESSAGE_DELIVERED,
                data={"ids": sorted(ids), "receiver": receiver.username, "delivered_at": when},
            )
            for sender_id, ids in sorted(by_sender.items())
        ]
    )


def message_read_events(*, reader: User, read_at: datetime, ids: list[int] | None) -> None:
    """The reader's other devices and each sender learn which messages `reader` read at `read_at`.

    The rows are the ones this read mark just wrote (receiver and exact read_at), found by the
    same statement that inserts the events, so it stays one query however many were marked.
    """
    marked = Message.objects.filter(receiver=reader, read_at=read_at)
    if ids is not None:
        marked = marked.filter(pk__in=ids)
    marked_sql, marked_params = marked.values("id", "sender_id").order_by("id").query.sql_with_params()
    text = text_param_sql()
    data = json_object_sql("'ids'", json_value_sql("ids"), "'reader'", text, "'read_at'", text)
    ids_of = json_array_sql("id")
    rows = (
        f"SELECT user_id, {data} AS data FROM ("
        f"SELECT CAST(%s AS BIGINT) AS user_id, (SELECT {ids_of} FROM marked) AS ids "
        f"UNION ALL SELECT sender_id, {ids_of} FROM marked WHERE sender_id <> %s GROUP BY sender_id"
        ") AS targets WHERE true"
    )
    when = event_timestamp(read_at)
    event_write(
        ctes=f"marked AS ({marked_sql})",
        rows=rows,
        params=[*marked_params, reader.username, when, reader.pk, reader.pk],
        type=MESSAGE_READ,
        created=read_at,
    )


def message_deleted_events(*, user: User, message_id: int) -> None:
    """The deleting user's other devices drop the message too; the other party is not told."""
    event_record(events=[NewEvent(user_id=user.pk, type=MESSAGE_DELETED, data={"id": message_id})])
