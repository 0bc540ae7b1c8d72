"""Reads of messages: lists, conversations, unread counts and catch-up sync.

Every read starts from `Message.objects.visible_to(user)` or one of its halves (`sent_by`,
`received_by`); counts and unread numbers come from the user's Conversation rows, which the
services keep exact, so no read counts a user's messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import User
from messageservice.models import Conversation, IdempotencyKey, Message, MessageQuerySet, day_bounds, pair
from oms.prepared import Prepared

NEWEST_FIRST = ("-created", "-id")

# Of the sender and receiver, every message representation shows only the username.
_UNUSED_USER_FIELDS = tuple(
    field.name for field in User._meta.concrete_fields if field.name not in ("id", "username")
)


def _with_usernames(messages: MessageQuerySet) -> MessageQuerySet:
    """Messages with their sender's and receiver's usernames, in the same query."""
    parties = ("sender", "receiver")
    return messages.select_related(*parties).defer(
        *(f"{party}__{name}" for party in parties for name in _UNUSED_USER_FIELDS)
    )


@dataclass(slots=True)
class MessageRow:
    """A message as lists show it, read as one row with both usernames: no model instances, which
    cost more than the query on a page of twenty."""

    id: int
    sender: str
    receiver: str
    receiver_id: int
    sender_id: int
    content: str
    created: dt.datetime
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None

    @property
    def pk(self) -> int:
        return self.id


_ROW_COLUMNS = ("id", "sender__username", "receiver__username", "receiver_id", "sender_id", "content")
_ROW_COLUMNS += ("created", "delivered_at", "read_at")


@dataclass(frozen=True)
class MessageList:
    """Messages to page through, newest first, as Django's Paginator takes them.

    `total` is the list's size from the conversation rows, so a page costs no COUNT, or, for a
    filter by day, a function that counts that day's index range.
    """

    rows: Callable[[int, int], list[MessageRow]]  # (offset, limit) -> that slice
    total: int | Callable[[], int]

    def count(self) -> int:
        return self.total() if callable(self.total) else self.total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[MessageRow]:
        start, stop = index.start or 0, index.stop
        return self.rows(start, stop - start) if stop > start else []


# Each read below is one Prepared query: `build` functions take the shape (which filters apply,
# which slice) as positional arguments and every value as a keyword placeholder.


def _page(messages: QuerySet[Message], offset: int, limit: int, ordering=NEWEST_FIRST) -> QuerySet:
    return messages.order_by(*ordering).values_list(*_ROW_COLUMNS)[offset : offset + limit]


def _merged(halves: tuple[MessageQuerySet, MessageQuerySet], offset: int, limit: int, ordering) -> QuerySet:
    """A slice of two disjoint halves of `visible_to`, in `ordering`, in one query.

    Each half is a range of its own index, already in order, so the page is a merge of two short
    index scans (a UNION ALL); the equivalent OR sorts every message of the user for every page.
    Django cannot join usernames onto a UNION, so the UNION picks the ids and the outer query,
    an ordinary one, reads those rows with their usernames.
    """
    # The UNION selects the id as "pk" (and the other ordering columns), and orders by those names.
    columns = ["pk", *(name.lstrip("-") for name in ordering if name.lstrip("-") != "id")]
    union_ordering = [name.replace("id", "pk") if name.lstrip("-") == "id" else name for name in ordering]
    first, second = (half.order_by().values_list(*columns) for half in halves)
    ids = first.union(second, all=True).order_by(*union_ordering)[offset : offset + limit]
    sql, params = ids.query.sql_with_params()
    # Django's own SQL for `ids`, with its parameters still bound separately.
    page_ids = RawSQL(f"SELECT page.pk FROM ({sql}) page", params)  # noqa: S608, S611
    return _page(Message.objects.filter(pk__in=page_ids), 0, limit, ordering)


def _halves(user, within: MessageQuerySet) -> tuple[MessageQuerySet, MessageQuerySet]:
    """`within.visible_to(user)` as two disjoint parts: what the user sent, and what others sent."""
    return within.sent_by(user), within.received_by(user).exclude(sender=user)


def _all(
    has_peer, has_day, *, user, low=None, high=None, other=None, start=None, end=None
) -> MessageQuerySet:
    messages = Message.objects.visible_to(user)
    if has_peer:
        messages = messages.in_pair(low, high)
    return messages.created_within(start, end) if has_day else messages


def _all_page(
    has_peer, has_day, offset, limit, *, user, low=None, high=None, other=None, start=None, end=None
):
    if has_peer:
        return _page(_all(True, has_day, user=user, low=low, high=high, start=start, end=end), offset, limit)
    within = Message.objects.created_within(start, end) if has_day else Message.objects.all()
    return _merged(_halves(user, within), offset, limit, NEWEST_FIRST)


def _sent(has_receiver, has_day, *, user, low=None, high=None, other=None, start=None, end=None):
    messages = Message.objects.sent_by(user)
    if has_receiver:
        messages = messages.in_pair(low, high).filter(receiver=other)
    return messages.created_within(start, end) if has_day else messages


def _received(has_sender, has_day, unread, *, user, low=None, high=None, other=None, start=None, end=None):
    messages = Message.objects.received_by(user)
    if has_sender:
        messages = messages.in_pair(low, high).filter(sender=other)
    if has_day:
        messages = messages.created_within(start, end)
    return messages if unread is None else messages.filter(read_at__isnull=unread)


_VALUES = {"ids": ("user", "low", "high", "other"), "times": ("start", "end")}
_ALL_PAGE = Prepared(_all_page, **_VALUES)
_SENT_PAGE = Prepared(lambda *shape, **v: _page(_sent(*shape[:2], **v), *shape[2:]), **_VALUES)
_RECEIVED_PAGE = Prepared(lambda *shape, **v: _page(_received(*shape[:3], **v), *shape[3:]), **_VALUES)


def _count_by(messages: MessageQuerySet, party: str) -> QuerySet:
    # COUNT grouped by the one party every row shares: the one-row form of .count() a values_list
    # query can take.
    return messages.order_by().values_list(party).annotate(n=Count("id")).values_list("n")


_SENT_COUNT = Prepared(lambda *shape, **v: _count_by(_sent(*shape, **v), "sender"), **_VALUES)
_RECEIVED_COUNT = Prepared(lambda *shape, **v: _count_by(_received(*shape, **v), "receiver"), **_VALUES)


def _counter(prepared: Prepared, shape: tuple, values: dict) -> Callable[[], int]:
    def count() -> int:
        rows = prepared.rows(shape, **values)
        return rows[0][0] if rows else 0

    return count


_TOTALS_SQL = """
SELECT COALESCE(SUM(sent), 0), COALESCE(SUM(received), 0), COALESCE(SUM(unread), 0),
       COALESCE(SUM(CASE WHEN peer_id = owner_id THEN received ELSE 0 END), 0)
FROM {table} WHERE owner_id = %s
"""


def _totals(user: User, peer: User | None = None) -> dict[str, int]:
    """The user's counts (or those with one peer) from the conversation rows: one small query.

    `all` counts a note to self once, though it is both sent and received. Written as SQL: the
    ORM takes longer to build this aggregate than the database takes to run it.
    """
    sql, params = _TOTALS_SQL.format(table=Conversation._meta.db_table), [user.pk]
    if peer is not None:
        sql, params = sql + " AND peer_id = %s", [user.pk, peer.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        sent, received, unread, own_notes = cursor.fetchone()
    return {"sent": sent, "received": received, "unread": unread, "all": sent + received - own_notes}


def _values(user: User, other: User | None, day: dt.date | None) -> dict:
    low, high = pair(user.pk, other.pk) if other is not None else (None, None)
    start, end = day_bounds(day) if day is not None else (None, None)
    return {"user": user, "low": low, "high": high, "other": other, "start": start, "end": end}


def _list(prepared: Prepared, shape: tuple, values: dict, total, count: Callable[[], int]) -> MessageList:
    def rows(offset: int, limit: int) -> list[MessageRow]:
        return [MessageRow(*row) for row in prepared.rows((*shape, offset, limit), **values)]

    return MessageList(rows=rows, total=count if total is None else total)


def message_list_for(*, user: User, peer: User | None = None, day: dt.date | None = None) -> MessageList:
    """Every message the user can see (with `peer` only, on `day` only), newest first."""
    values, shape = _values(user, peer, day), (peer is not None, day is not None)
    total = None if day is not None else _totals(user, peer)["all"]
    return _list(_ALL_PAGE, shape, values, total, lambda: _all(*shape, **values).count())


def message_sent_list(*, user: User, receiver: User | None = None, day: dt.date | None = None) -> MessageList:
    """What the user sent and still sees (to `receiver` only, on `day` only), newest first."""
    values, shape = _values(user, receiver, day), (receiver is not None, day is not None)
    total = None if day is not None else _totals(user, receiver)["sent"]
    return _list(_SENT_PAGE, shape, values, total, _counter(_SENT_COUNT, shape, values))


def message_received_list(
    *, user: User, sender: User | None = None, day: dt.date | None = None, unread: bool | None = None
) -> MessageList:
    """What the user received and still sees (from `sender` only, on `day` only, unread or read
    only), newest first."""
    values, shape = _values(user, sender, day), (sender is not None, day is not None, unread)
    total = None
    if day is None:
        counts = _totals(user, sender)
        read = counts["received"] - counts["unread"]
        total = {None: counts["received"], True: counts["unread"], False: read}[unread]
    return _list(_RECEIVED_PAGE, shape, values, total, _counter(_RECEIVED_COUNT, shape, values))


def message_visible_to(*, user: User) -> MessageQuerySet:
    """Every message the user can see, with usernames, to pick one from."""
    return _with_usernames(Message.objects.visible_to(user))


def message_between(*, user: User, peer: User) -> QuerySet[dict]:
    """The conversation of `user` with `peer` as `user` sees it, newest first, as dicts that
    `message_rows` turns into MessageRows (cursor pagination reads `created` and `id` from them)."""
    messages = Message.objects.between(user, peer).visible_to(user).order_by(*NEWEST_FIRST)
    return messages.values(*_ROW_COLUMNS)


def message_rows(values: list[dict]) -> list[MessageRow]:
    return [MessageRow(*(row[column] for column in _ROW_COLUMNS)) for row in values]


@dataclass(frozen=True)
class SyncBatch:
    messages: list[MessageRow]
    next_since: int
    has_more: bool


_SYNC_PAGE = Prepared(
    lambda limit, *, user, since: _merged(
        _halves(user, Message.objects.filter(id__gt=since)), 0, limit, ("id",)
    ),
    ids=("user", "since"),
)


def message_sync_for(*, user: User, since: int, limit: int) -> SyncBatch:
    """Up to `limit` messages the user can see with an id above `since`, oldest first, and the
    `since` to ask with next time."""
    rows = [MessageRow(*row) for row in _SYNC_PAGE.rows((limit + 1,), user=user, since=since)]
    messages = rows[:limit]
    return SyncBatch(
        messages=messages, next_since=messages[-1].pk if messages else since, has_more=len(rows) > limit
    )


@dataclass(frozen=True)
class UnreadCounts:
    count: int
    by_sender: dict[str, int]


_UNREAD = Prepared(
    lambda *, user: (
        Conversation.objects.filter(owner=user, unread__gt=0)
        .order_by("peer__username")
        .values_list("peer__username", "unread")
    ),
    ids=("user",),
)


def unread_counts_for(*, user: User) -> UnreadCounts:
    """How many received messages the user has neither read nor deleted, in all and per sender."""
    by_sender = dict(_UNREAD.rows(user=user))
    return UnreadCounts(count=sum(by_sender.values()), by_sender=by_sender)


@dataclass(frozen=True)
class ConversationEntry:
    peer: str
    last_message: MessageRow
    unread: int


def _conversations(*, user) -> QuerySet[Conversation]:
    return Conversation.objects.filter(owner=user, last_message__isnull=False)


_CONVERSATION_PAGE = Prepared(
    lambda offset, limit, *, user: (
        _conversations(user=user)
        .order_by("-last_message")
        .values_list("unread", *(f"last_message__{column}" for column in _ROW_COLUMNS))[
            offset : offset + limit
        ]
    ),
    ids=("user",),
)


@dataclass(frozen=True)
class ConversationList:
    """The user's conversations to page through, as Django's Paginator takes them; counting them
    reads one index, not the rows they point at."""

    user: User

    def count(self) -> int:
        return _conversations(user=self.user).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[ConversationEntry]:
        start, stop = index.start or 0, index.stop
        if stop <= start:
            return []
        entries = []
        for unread, *message in _CONVERSATION_PAGE.rows((start, stop - start), user=self.user):
            last = MessageRow(*message)
            peer = last.sender if last.receiver_id == self.user.pk else last.receiver
            entries.append(ConversationEntry(peer=peer, last_message=last, unread=unread))
        return entries


def conversation_list_for(*, user: User) -> ConversationList:
    """The user's conversations with at least one message left, most recent activity first."""
    return ConversationList(user)


def idempotency_key_get(*, sender: User, key: str) -> IdempotencyKey | None:
    return (
        IdempotencyKey.objects.filter(sender=sender, key=key)
        .select_related("message__sender", "message__receiver")
        .first()
    )
