"""Reads of messages: lists, conversations, unread counts and catch-up sync."""

from __future__ import annotations

from django.db.models import Case, Count, F, Max, Q, QuerySet, When

from accounts.models import User
from messageservice.models import UNREAD, IdempotencyKey, Message

NEWEST_FIRST = ("-created", "-id")


# Of the sender and receiver, every message representation shows only the username.
_UNUSED_USER_FIELDS = tuple(
    f"{party}__{field.name}"
    for party in ("sender", "receiver")
    for field in User._meta.concrete_fields
    if field.name not in ("id", "username")
)


def _messages() -> QuerySet[Message]:
    """Messages with their sender's and receiver's usernames, in one query."""
    return Message.objects.select_related("sender", "receiver").defer(*_UNUSED_USER_FIELDS)


def _visible_to(user: User) -> Q:
    """Messages the user sent or received and has not deleted."""
    return Q(sender=user, deleted_by_sender=False) | Q(receiver=user, deleted_by_receiver=False)


def message_visible_to(*, user: User) -> QuerySet[Message]:
    """Every message the user can see, newest first, as a queryset that can be filtered further."""
    return _messages().filter(_visible_to(user)).order_by(*NEWEST_FIRST)


def message_list_for(*, user: User, within: QuerySet[Message] | None = None) -> QuerySet[Message]:
    """The messages of `within` (all by default) that the user can see, newest first, to page through.

    A UNION ALL of what the user sent and what others sent the user: each half is a range of its
    own index, already in order, so a page is a merge of two short index scans. The equivalent OR
    sorts every message of the user for every page. Usernames come by prefetch, since a UNION
    cannot carry joins cheaply into its count.
    """
    return _sent_or_received(user, Message.objects.all() if within is None else within).order_by(
        *NEWEST_FIRST
    )


def _sent_or_received(user: User, within: QuerySet[Message]) -> QuerySet[Message]:
    sent = within.filter(sender=user, deleted_by_sender=False).prefetch_related("sender", "receiver")
    received = within.filter(receiver=user, deleted_by_receiver=False).exclude(sender=user)
    return sent.union(received, all=True)


def message_sent_by(*, user: User) -> QuerySet[Message]:
    return _messages().filter(sender=user, deleted_by_sender=False).order_by(*NEWEST_FIRST)


def message_received_by(*, user: User) -> QuerySet[Message]:
    return _messages().filter(receiver=user, deleted_by_receiver=False).order_by(*NEWEST_FIRST)


def message_between(*, user: User, peer: User) -> QuerySet[Message]:
    """The conversation of `user` with `peer` as `user` sees it, newest first."""
    low, high = sorted((user.pk, peer.pk))
    return message_visible_to(user=user).filter(user_low=low, user_high=high)


def message_sync_for(*, user: User, since: int, limit: int) -> dict:
    """`{"messages", "next_since", "has_more"}`: up to `limit` messages the user can see with an
    id above `since`, oldest first, and the `since` to ask with next time."""
    # The same UNION ALL as message_list_for, in id order.
    rows = list(_sent_or_received(user, Message.objects.filter(id__gt=since)).order_by("id")[: limit + 1])
    messages = rows[:limit]
    return {
        "messages": messages,
        "next_since": messages[-1].pk if messages else since,
        "has_more": len(rows) > limit,
    }


def unread_counts_for(*, user: User) -> dict:
    """`{"count": n, "by_sender": {username: k}}` over the user's unread received messages."""
    rows = (
        Message.objects.filter(UNREAD, receiver=user)
        .values("sender__username")
        .annotate(n=Count("id"))
        .order_by("sender__username")
    )
    by_sender = {row["sender__username"]: row["n"] for row in rows}
    return {"count": sum(by_sender.values()), "by_sender": by_sender}


def conversation_list_for(*, user: User) -> list[dict]:
    """One row per peer, `{"peer", "last_id", "unread"}`, most recent activity first.

    A list, not a queryset: there is one small row per peer, and paging a list costs one
    aggregation where paging the queryset would run it twice (once more to count).
    """
    peer = Case(When(sender=user, then=F("receiver")), default=F("sender"))
    return list(
        Message.objects.filter(_visible_to(user))
        .annotate(peer=peer)
        .values("peer")
        .annotate(
            last_id=Max("id"),
            unread=Count("id", filter=UNREAD & Q(receiver=user)),
        )
        .order_by("-last_id")
    )


def conversation_entries(*, user: User, rows: list[dict]) -> list[dict]:
    """Turns a page of `conversation_list_for` rows into `{"peer", "last_message", "unread"}`."""
    messages = _messages().in_bulk([row["last_id"] for row in rows])
    entries = []
    for row in rows:
        last = messages.get(row["last_id"])
        if last is None:  # removed (by an admin) since the page was counted
            continue
        peer = last.receiver if last.sender_id == user.pk else last.sender
        entries.append({"peer": peer.username, "last_message": last, "unread": row["unread"]})
    return entries


def idempotency_key_get(*, sender: User, key: str) -> IdempotencyKey | None:
    return (
        IdempotencyKey.objects.filter(sender=sender, key=key)
        .select_related("message__sender", "message__receiver")
        .first()
    )
