"""The message selectors, called directly: what each read returns and in what order."""

from __future__ import annotations

import pytest

from messageservice.models import Message
from messageservice.selectors import (
    SyncBatch,
    UnreadCounts,
    conversation_list_for,
    message_between,
    message_sync_for,
    unread_counts_for,
)
from messageservice.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_conversations_are_one_per_peer_most_recent_first_with_unread_counts(alice, bob, carol):
    MessageFactory(sender=bob, receiver=alice)
    MessageFactory(sender=bob, receiver=alice)
    last_with_carol = MessageFactory(sender=alice, receiver=carol)
    last_with_bob = MessageFactory(sender=bob, receiver=alice)
    entries = conversation_list_for(user=alice)[0:20]
    assert [(e.peer, e.last_message.id, e.unread) for e in entries] == [
        ("bob", last_with_bob.id, 3),
        ("carol", last_with_carol.id, 0),
    ]


def test_notes_to_self_form_their_own_conversation(alice, bob):
    note = MessageFactory(sender=alice, receiver=alice)
    entries = conversation_list_for(user=alice)[0:20]
    assert [(e.peer, e.last_message.id) for e in entries] == [("alice", note.id)]
    assert [m["id"] for m in message_between(user=alice, peer=alice)] == [note.id]


def test_message_between_covers_both_directions_and_nobody_else(alice, bob, carol):
    ab = MessageFactory(sender=alice, receiver=bob)
    ba = MessageFactory(sender=bob, receiver=alice)
    MessageFactory(sender=alice, receiver=carol)
    MessageFactory(sender=bob, receiver=carol)
    assert {m["id"] for m in message_between(user=alice, peer=bob)} == {ab.id, ba.id}
    assert {m["id"] for m in message_between(user=bob, peer=alice)} == {ab.id, ba.id}


def test_sync_pages_by_id_and_says_where_to_continue(alice, bob):
    messages = [MessageFactory(sender=bob, receiver=alice) for _ in range(5)]
    first = message_sync_for(user=alice, since=0, limit=3)
    rest = message_sync_for(user=alice, since=first.next_since, limit=3)
    assert [m.id for m in first.messages + rest.messages] == [m.id for m in messages]
    assert (first.next_since, first.has_more) == (messages[2].id, True)
    assert (rest.next_since, rest.has_more) == (messages[4].id, False)
    assert message_sync_for(user=alice, since=rest.next_since, limit=3) == SyncBatch(
        messages=[], next_since=messages[4].id, has_more=False
    )


def test_unread_counts_group_by_sender(alice, bob, carol):
    MessageFactory.create_batch(2, sender=bob, receiver=alice)
    MessageFactory(sender=carol, receiver=alice)
    MessageFactory(sender=alice, receiver=bob)
    assert unread_counts_for(user=alice) == UnreadCounts(count=3, by_sender={"bob": 2, "carol": 1})


def test_rows_serialise_exactly_as_the_message_serializer_does(alice, bob, settings):
    from django.utils import timezone

    from messageservice.selectors import message_received_list
    from messageservice.serializers import MessageSerializer, message_data, message_model_data, messages_data

    settings.TIME_ZONE = "America/New_York"
    delivered = MessageFactory(sender=bob, receiver=alice, content="två ord")
    Message.objects.filter(pk=delivered.pk).update(delivered_at=timezone.now(), read_at=timezone.now())
    MessageFactory(sender=bob, receiver=alice)
    rows = message_received_list(user=alice)[0:20]
    models = Message.objects.filter(receiver=alice).order_by("-created", "-id")
    assert messages_data(rows) == MessageSerializer(models, many=True).data
    assert [message_data(row) for row in rows] == MessageSerializer(models, many=True).data
    assert [message_model_data(model) for model in models] == MessageSerializer(models, many=True).data
