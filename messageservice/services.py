"""Writes to messages: send, delivery and read marks, delete."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, F, Max, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.models import User
from accounts.selectors import unknown_user, user_get_by_username, user_get_for_field
from blocking.selectors import block_of, is_blocked
from messageservice.events import (
    message_created_events,
    message_deleted_events,
    message_delivered_events,
    message_read_events,
)
from messageservice.models import Conversation, IdempotencyKey, Message
from messageservice.selectors import idempotency_key_get
from oms.exceptions import BadRequest, Conflict
from oms.prepared import PreparedInsert

logger = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
_MESSAGE_INSERT = PreparedInsert(Message)


def _lock_users(*user_ids: int, blocked: tuple[User, User] | None = None) -> bool:
    """Serialise the writes that involve these users; with `blocked=(sender, receiver)`, also
    answers whether the receiver blocks the sender, read in the same query.

    Ids come from a sequence when the row is inserted, but rows become visible when their
    transaction commits. Holding every participant's row lock from before the insert until
    the commit means a user's messages commit in id order, so catch-up sync by id never skips
    one. The same lock keeps a user's conversation rows exact while a write reads and then
    updates them. SQLite already serialises all writers.
    """
    if not connection.features.has_select_for_update:
        return blocked is not None and is_blocked(sender=blocked[0], receiver=blocked[1])
    locked = User.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=set(user_ids))
    if blocked is None:
        list(locked.order_by("pk").values_list("pk", flat=True))
        return False
    flags = locked.annotate(blocked=block_of(sender=blocked[0], receiver=blocked[1])).order_by("pk")
    return any(flags.values_list("blocked", flat=True))


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
        blocked = _lock_users(
            sender.pk,
            *([receiver.pk] if receiver is not None else []),
            blocked=(sender, receiver) if receiver is not None else None,
        )
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
            raise unknown_user("receiver")
        if blocked:
            logger.info(
                "message refused, sender blocked sender=%s receiver=%s",
                sender.username,
                receiver.username,
                extra={"sender": sender.username, "receiver": receiver.username},
            )
            raise PermissionDenied(f"You are blocked by {receiver.username}")
        message = Message(sender=sender, receiver=receiver, content=content)
        _MESSAGE_INSERT.save(message)
        conversation_add(message=message)
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


def message_mark_read(
    *,
    user: User,
    ids: list[int] | None = None,
    sender_username: str | None = None,
    everything: bool = False,
) -> int:
    """Mark some of the user's unread received messages read (and delivered); returns how many."""
    unread = Message.objects.filter(receiver=user).unread()
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    elif sender_username is not None:
        sender = user_get_for_field(field="sender", username=sender_username, include_inactive=True)
        unread = unread.filter(sender=sender)
    elif not everything:
        raise BadRequest("Say which messages to mark: ids, sender or all.")
    now = timezone.now()
    with transaction.atomic():
        _lock_users(user.pk)
        by_sender = dict(unread.order_by().values_list("sender").annotate(n=Count("id")))
        if not by_sender:
            return 0
        marked = unread.update(read_at=now, delivered_at=Coalesce("delivered_at", Value(now)))
        _conversations_read(owner=user, by_peer=by_sender)
        message_read_events(reader=user, read_at=now, ids=ids)
    return marked


def message_delete(*, user: User, message_id: int) -> None:
    """Hide a message from `user`; the other party still has it. Unknown or not the user's: 404.

    Each party's flag is set by its own conditional UPDATE, so two parties deleting at once
    never write back each other's stale flag.
    """
    with transaction.atomic():
        _lock_users(user.pk)
        message = Message.objects.visible_to(user).filter(pk=message_id).first()
        if message is None:
            raise NotFound("No message with that id.")
        as_sender = message.sender_id == user.pk and not message.deleted_by_sender
        as_receiver = message.receiver_id == user.pk and not message.deleted_by_receiver
        if as_sender:
            Message.objects.filter(pk=message_id, deleted_by_sender=False).update(deleted_by_sender=True)
        if as_receiver:
            Message.objects.filter(pk=message_id, deleted_by_receiver=False).update(deleted_by_receiver=True)
        _conversations_hide(owner=user, message=message, as_sender=as_sender, as_receiver=as_receiver)
        message_deleted_events(user=user, message_id=message_id)
    logger.info(
        "message deleted id=%s user=%s",
        message_id,
        user.username,
        extra={"message_id": message_id, "user": user.username},
    )


# --- Conversation rows ---------------------------------------------------------------------------
# Each write above calls one of these in its own transaction, under the lock of the user whose rows
# change, so that Conversation rows always equal what the messages say (conversation_rebuild).

_UPSERT_SQL = """
INSERT INTO {table} (owner_id, peer_id, last_message_id, sent, received, unread)
VALUES {values}
ON CONFLICT (owner_id, peer_id) DO UPDATE SET
    last_message_id = CASE
        WHEN {table}.last_message_id IS NULL OR {table}.last_message_id < excluded.last_message_id
        THEN excluded.last_message_id ELSE {table}.last_message_id END,
    sent = {table}.sent + excluded.sent,
    received = {table}.received + excluded.received,
    unread = {table}.unread + excluded.unread
"""


def conversation_add(*, message: Message) -> None:
    """A new message: one statement for both parties' rows, created on first contact.

    Written as SQL because the ORM's upsert (bulk_create with update_conflicts) can only overwrite
    a column, not add to it; this form runs unchanged on SQLite and PostgreSQL.
    """
    s, r = message.sender_id, message.receiver_id
    if s == r:  # a note to self is sent and received by the same user, in one row
        rows = [(s, s, message.pk, 1, 1, 1)]
    else:
        rows = [(s, r, message.pk, 1, 0, 0), (r, s, message.pk, 0, 1, 1)]
    sql = _UPSERT_SQL.format(
        table=Conversation._meta.db_table, values=", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


def _conversations_read(*, owner: User, by_peer: dict[int, int]) -> None:
    """`by_peer[peer_id]` unread messages from each peer are now read: one UPDATE."""
    Conversation.objects.filter(owner=owner, peer__in=by_peer).update(
        unread=F("unread") - Case(*(When(peer=peer, then=Value(n)) for peer, n in by_peer.items()))
    )


def _conversations_hide(*, owner: User, message: Message, as_sender: bool, as_receiver: bool) -> None:
    """`owner` no longer sees `message`: its counts drop, and if it was the newest the row points
    at the newest one the owner still sees (the flags are already written)."""
    peer = message.receiver_id if message.sender_id == owner.pk else message.sender_id
    newest_left = (
        Message.objects.visible_to(owner)
        .filter(user_low=message.user_low, user_high=message.user_high)
        .order_by("-id")
        .values("pk")[:1]
    )
    was_unread = as_receiver and message.read_at is None
    Conversation.objects.filter(owner=owner, peer_id=peer).update(
        sent=F("sent") - int(as_sender),
        received=F("received") - int(as_receiver),
        unread=F("unread") - int(was_unread),
        last_message=Case(
            When(last_message=message.pk, then=Subquery(newest_left)), default=F("last_message")
        ),
    )


def message_purge(*, messages: QuerySet[Message]) -> int:
    """Delete messages for both parties (the admin's delete); their conversation rows follow."""
    with transaction.atomic():
        parties = messages.values_list("sender", "receiver")
        owners = {user for pair in parties for user in pair}
        _lock_users(*owners)
        deleted, _ = Message.objects.filter(pk__in=messages.values("pk")).delete()
        conversation_rebuild(owners=owners)
    return deleted


def conversation_rebuild(*, owners: Iterable[int] | None = None) -> None:
    """Recompute conversation rows from the messages themselves: for every user, or for `owners`.

    For data written around the services (an admin deleting messages, a bulk load); the services
    keep the rows exact on their own.
    """
    messages = Message.objects.order_by()
    rows = Conversation.objects.all()
    if owners is not None:
        owners = set(owners)
        rows = rows.filter(owner__in=owners)
    as_sender = messages.filter(**({"sender__in": owners} if owners is not None else {}))
    as_receiver = messages.filter(**({"receiver__in": owners} if owners is not None else {}))
    state: dict[tuple[int, int], dict] = {}

    def row(owner: int, peer: int) -> dict:
        empty = {"sent": 0, "received": 0, "unread": 0, "last_message_id": None}
        return state.setdefault((owner, peer), {"owner_id": owner, "peer_id": peer, **empty})

    for owner, peer, sent, last in as_sender.values_list("sender", "receiver").annotate(
        n=Count("id", filter=Q(deleted_by_sender=False)), last=Max("id", filter=Q(deleted_by_sender=False))
    ):
        entry = row(owner, peer)
        entry["sent"] = sent
        entry["last_message_id"] = last
    for owner, peer, received, unread, last in as_receiver.values_list("receiver", "sender").annotate(
        n=Count("id", filter=Q(deleted_by_receiver=False)),
        unread=Count("id", filter=Q(deleted_by_receiver=False, read_at__isnull=True)),
        last=Max("id", filter=Q(deleted_by_receiver=False)),
    ):
        entry = row(owner, peer)
        entry["received"] = received
        entry["unread"] = unread
        entry["last_message_id"] = max(filter(None, (entry["last_message_id"], last)), default=None)
    with transaction.atomic():
        rows.delete()
        Conversation.objects.bulk_create((Conversation(**entry) for entry in state.values()), batch_size=2000)
