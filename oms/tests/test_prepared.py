"""Prepared queries: compiled once, then each run binds its own values and converts rows as the ORM does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messageservice.models import Message
from messageservice.tests.factories import MessageFactory
from oms.prepared import Prepared, PreparedInsert

pytestmark = pytest.mark.django_db


def _received(limit, *, user, after):
    return (
        Message.objects.filter(receiver=user, created__gt=after)
        .order_by("id")
        .values_list("id", "sender__username", "created")[:limit]
    )


RECEIVED = Prepared(_received, ids=("user",), times=("after",))


def test_each_run_binds_its_own_values_and_gives_what_the_orm_gives(alice, bob, carol):
    long_ago = timezone.now() - dt.timedelta(days=1)
    for sender, receiver in [(bob, alice), (carol, alice), (alice, bob)]:
        MessageFactory(sender=sender, receiver=receiver)
    for user in (alice, bob, carol):
        assert RECEIVED.rows((10,), user=user, after=long_ago) == list(
            _received(10, user=user, after=long_ago)
        )
    assert RECEIVED.rows((10,), user=alice, after=timezone.now()) == []
    # The ORM's converters ran: aware datetimes, as a queryset gives them.
    [(_, _, created)] = RECEIVED.rows((1,), user=alice.pk, after=long_ago)
    assert timezone.is_aware(created)


def test_the_shape_key_picks_the_sql_and_runs_cost_one_query(alice, bob):
    MessageFactory.create_batch(3, sender=bob, receiver=alice)
    long_ago = timezone.now() - dt.timedelta(days=1)
    assert len(RECEIVED.rows((2,), user=alice, after=long_ago)) == 2
    with CaptureQueriesContext(connection) as ctx:
        assert len(RECEIVED.rows((3,), user=alice, after=long_ago)) == 3
        assert len(RECEIVED.rows((3,), user=alice, after=long_ago)) == 3
    assert len(ctx.captured_queries) == 2


def test_only_a_few_dozen_shapes_are_kept(alice):
    for limit in range(1, 100):
        RECEIVED.rows((limit,), user=alice, after=timezone.now())
    assert len(RECEIVED._compiled) <= 64


MESSAGE_INSERT = PreparedInsert(Message)


def test_a_prepared_insert_stores_and_reads_back_what_save_does(alice, bob):
    columns = [f.attname for f in Message._meta.concrete_fields if f.attname != "id"]
    for sender, receiver, content in [(alice, bob, "two"), (bob, alice, "three"), (bob, bob, "a note")]:
        message = Message(sender=sender, receiver=receiver, content=content)
        MESSAGE_INSERT.save(message)
        assert message.pk is not None and not message._state.adding
        # What the database computed is on the instance, as after save().
        assert (message.user_low, message.user_high) == tuple(sorted((sender.pk, receiver.pk)))
        stored = Message.objects.values(*columns).get(pk=message.pk)
        assert stored == {name: getattr(message, name) for name in columns}
    # Each insert is one query.
    message = Message(sender=alice, receiver=bob, content="four")
    with CaptureQueriesContext(connection) as ctx:
        MESSAGE_INSERT.save(message)
    assert len(ctx.captured_queries) == 1
