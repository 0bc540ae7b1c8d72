"""The message selectors, called directly: what each read returns and in what order."""

from __future__ import annotations

import pytest

from messageservice.selectors import (
    SyncBatch,
    UnreadCounts,
    conversation_entries,
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
    rows = list(conversation_list_for(user=alice))
    entries = conversation_entries(user=alice, rows=rows)
    assert [(e.peer, e.last_message, e.unread) for e in entries] == [
        ("bob", last_with_bob, 3),
        ("carol", last_with_carol, 0),
    ]


def test_notes_to_self_form_their_own_conversation(alice, bob):
    note = MessageFactory(sender=alice, receiver=alice)
    entries = conversation_entries(user=alice, rows=list(conversation_list_for(user=alice)))
    assert [(e.peer, e.last_message) for e in entries] == [("alice", note)]
    assert list(message_between(user=alice, peer=alice)) == [note]


def test_message_between_covers_both_directions_and_nobody_else(alice, bob, carol):
    ab = MessageFactory(sender=alice, receiver=bob)
    ba = MessageFactory(sender=bob, receiver=alice)
    MessageFactory(sender=alice, receiver=carol)
    MessageFactory(sender=bob, receiver=carol)
    assert set(message_between(user=alice, peer=bob)) == {ab, ba}
    assert set(message_between(user=bob, peer=alice)) == {ab, ba}


def test_sync_pages_by_id_and_says_where_to_continue(alice, bob):
    messages = [MessageFactory(sender=bob, receiver=alice) for _ in range(5)]
    first = message_sync_for(user=alice, since=0, limit=3)
    rest = message_sync_for(user=alice, since=first.next_since, limit=3)
    assert first.messages + rest.messages == messages
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
