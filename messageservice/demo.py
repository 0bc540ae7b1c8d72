"""Demo data for trying and measuring OMS: users and their message history, written in bulk.

`demo_history` decides what happened (who wrote to whom, when, what was delivered, read or
deleted) from a seed; `demo_write` stores it as the services would have, row for row, only faster.
The test suite replays the same history through the services and compares the two databases.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from messageservice.models import Message
from messageservice.services import conversation_rebuild

DEFAULT_PASSWORD = "demo-password-123"  # noqa: S105 - demo accounts only
BATCH = 5000
# Each demo user writes mostly to a circle of this many contacts, a few of them much more often.
CONTACTS = 30
HEAVY_PEERS = 500


@dataclass(frozen=True)
class DemoMessage:
    sender: int  # index into the usernames
    receiver: int
    created: dt.datetime
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    deleted_by_sender: bool
    deleted_by_receiver: bool


def demo_usernames(*, users: int, heavy: list[tuple[str, int]]) -> list[str]:
    return [f"demo{i}" for i in range(1, users + 1)] + [name for name, _ in heavy]


def demo_history(
    *, users: int, messages: int, heavy: list[tuple[str, int]], seed: int = 0, days: int = 365, now=None
) -> Iterator[DemoMessage]:
    """`messages` among the demo users plus, for each heavy user, K messages with many peers, in
    the order they were sent (oldest first) over the last `days` days."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = now or timezone.now()
    contacts = [
        rng.sample([j for j in range(users) if j != i], min(CONTACTS, users - 1)) if users > 1 else [i]
        for i in range(users)
    ]
    # Which kind each message is, in time order: a demo user's, or one of a heavy user's.
    kinds = [-1] * messages + [h for h, (_, count) in enumerate(heavy) for _ in range(count)]
    rng.shuffle(kinds)
    span = days * 86400.0
    offsets = sorted(rng.random() * span for _ in kinds)
    heavy_peers = [rng.sample(range(users), min(HEAVY_PEERS, users)) for _ in heavy]
    for kind, offset in zip(kinds, offsets, strict=True):
        created = now - dt.timedelta(seconds=span - offset)
        if kind < 0:
            sender = rng.randrange(users)
            receiver = sender if rng.random() < 0.01 else _favourite(rng, contacts[sender])
        else:
            peer = _favourite(rng, heavy_peers[kind])
            sender, receiver = (users + kind, peer) if rng.random() < 0.5 else (peer, users + kind)
        yield _fate(rng, sender, receiver, created, now)


def _favourite(rng: random.Random, people: list[int]) -> int:
    # The first few people of a list get most of the messages, as in real inboxes.
    return people[min(int(rng.expovariate(1 / max(1.0, len(people) / 6))), len(people) - 1)]


def _fate(rng: random.Random, sender: int, receiver: int, created: dt.datetime, now) -> DemoMessage:
    """What became of a message: older ones are mostly delivered and read, some deleted."""
    old = now - created > dt.timedelta(days=2)
    delivered_at = read_at = None
    if rng.random() < (0.97 if old else 0.6):
        delivered_at = min(now, created + dt.timedelta(seconds=rng.random() * 6 * 3600))
        if rng.random() < (0.85 if old else 0.4):
            read_at = min(now, delivered_at + dt.timedelta(seconds=rng.random() * 12 * 3600))
    by_sender = rng.random() < 0.04
    # A note to self is deleted for its one owner at once, as the delete service does.
    by_receiver = by_sender if sender == receiver else rng.random() < 0.04
    return DemoMessage(sender, receiver, created, delivered_at, read_at, by_sender, by_receiver)


def demo_write(
    *,
    users: int,
    messages: int,
    heavy: list[tuple[str, int]],
    password: str = DEFAULT_PASSWORD,
    seed: int = 0,
) -> int:
    """Create the users and their history in bulk; returns how many messages were stored."""
    names = demo_usernames(users=users, heavy=heavy)
    taken = list(User.objects.filter(username__in=names).values_list("username", flat=True)[:5])
    if taken:
        raise ValueError(f"these users already exist: {', '.join(taken)}; seed an empty database")
    # One hash for every demo account: hashing is made slow on purpose, and these are demo accounts.
    hashed = make_password(password)
    stored = 0
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=name, email=f"{name}@example.com", password=hashed) for name in names],
            batch_size=BATCH,
        )
        ids = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
        pks = [ids[name] for name in names]
        batch: list[Message] = []
        for i, m in enumerate(demo_history(users=users, messages=messages, heavy=heavy, seed=seed)):
            batch.append(
                Message(
                    sender_id=pks[m.sender],
                    receiver_id=pks[m.receiver],
                    content=demo_content(i),
                    created=m.created,
                    delivered_at=m.delivered_at,
                    read_at=m.read_at,
                    deleted_by_sender=m.deleted_by_sender,
                    deleted_by_receiver=m.deleted_by_receiver,
                )
            )
            if len(batch) == BATCH:
                stored += len(Message.objects.bulk_create(batch))
                batch = []
        stored += len(Message.objects.bulk_create(batch))
        conversation_rebuild(owners=pks)
    # After a bulk load the query planner needs fresh statistics to pick the right index (PostgreSQL's
    # autovacuum would gather them soon; SQLite never does by itself).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return stored


def demo_content(i: int) -> str:
    return f"Demo message {i + 1}: see you at {8 + i % 12}:{i % 60:02d}?"
