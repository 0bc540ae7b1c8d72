"""The message services, called directly: the rules each write enforces."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from blocking.tests.factories import BlockFactory
from messageservice.models import IdempotencyKey, Message
from messageservice.services import (
    message_delete,
    message_mark_delivered,
    message_mark_read,
    message_send,
)
from messageservice.tests.factories import MessageFactory
from oms.exceptions import Conflict

pytestmark = pytest.mark.django_db


def test_send_stores_and_reports_a_fresh_message(alice, bob):
    message, replayed = message_send(sender=alice, receiver_username="BOB", content="hi")
    assert not replayed
    assert (message.sender, message.receiver, message.content) == (alice, bob, "hi")
    assert Message.objects.get() == message


def test_send_to_an_unknown_or_inactive_user_names_the_receiver(alice, bob):
    bob.is_active = False
    bob.save()
    for name in ("nobody", "bob"):
        with pytest.raises(ValidationError) as raised:
            message_send(sender=alice, receiver_username=name, content="hi")
        assert raised.value.detail == {"receiver": ["Receiver does not exist."]}
    assert not Message.objects.exists()


def test_send_from_a_blocked_sender_is_refused_and_stores_nothing(alice, bob):
    BlockFactory(blocker=bob, blocked=alice)
    with pytest.raises(PermissionDenied, match="You are blocked by bob"):
        message_send(sender=alice, receiver_username="bob", content="hi")
    assert not Message.objects.exists()


def test_same_key_replays_the_first_message_and_stores_one(alice, bob):
    first, _ = message_send(sender=alice, receiver_username="bob", content="hi", idempotency_key="k1")
    again, replayed = message_send(sender=alice, receiver_username="bob", content="hi", idempotency_key="k1")
    assert replayed and again == first
    assert Message.objects.count() == 1


def test_same_key_for_other_content_is_a_conflict(alice, bob):
    message_send(sender=alice, receiver_username="bob", content="hi", idempotency_key="k1")
    with pytest.raises(Conflict):
        message_send(sender=alice, receiver_username="bob", content="bye", idempotency_key="k1")
    assert Message.objects.count() == 1


def test_expired_keys_are_dropped_when_the_sender_uses_a_key(alice, bob):
    from django.utils import timezone

    message_send(sender=alice, receiver_username="bob", content="old", idempotency_key="old")
    IdempotencyKey.objects.update(created=timezone.now() - timezone.timedelta(hours=25))
    message_send(sender=alice, receiver_username="bob", content="new", idempotency_key="new")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_mark_delivered_updates_only_the_receivers_undelivered_messages_in_one_query(
    alice, bob, django_assert_num_queries
):
    received = MessageFactory.create_batch(3, sender=bob, receiver=alice)
    sent = MessageFactory(sender=alice, receiver=bob)
    with django_assert_num_queries(2):  # the update, and the insert of its receipt event
        message_mark_delivered(user=alice, messages=[*received, sent])
    assert all(m.delivered_at for m in received)
    assert Message.objects.filter(delivered_at__isnull=False).count() == 3
    sent.refresh_from_db()
    assert sent.delivered_at is None
    with django_assert_num_queries(0):
        message_mark_delivered(user=alice, messages=received)


def test_mark_read_counts_only_my_unread_and_sets_delivered_too(alice, bob, carol):
    mine = MessageFactory.create_batch(2, sender=bob, receiver=alice)
    theirs = MessageFactory(sender=bob, receiver=carol)
    assert message_mark_read(user=alice, ids=[m.id for m in mine] + [theirs.id]) == 2
    assert message_mark_read(user=alice, everything=True) == 0
    for message in mine:
        message.refresh_from_db()
        assert message.read_at and message.delivered_at
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_keeps_an_earlier_delivery_time(alice, bob):
    message = MessageFactory(sender=bob, receiver=alice)
    message_mark_delivered(user=alice, messages=[message])
    delivered = Message.objects.get().delivered_at
    message_mark_read(user=alice, sender_username="bob")
    message.refresh_from_db()
    assert message.delivered_at == delivered
    assert message.read_at >= delivered


def test_delete_hides_from_one_party_only(alice, bob):
    message = MessageFactory(sender=alice, receiver=bob)
    message_delete(user=alice, message_id=message.id)
    message.refresh_from_db()
    assert message.deleted_by_sender and not message.deleted_by_receiver
    with pytest.raises(NotFound):
        message_delete(user=alice, message_id=message.id)
    message_delete(user=bob, message_id=message.id)


def test_delete_of_someone_elses_message_is_not_found(alice, bob, carol):
    message = MessageFactory(sender=bob, receiver=carol)
    with pytest.raises(NotFound):
        message_delete(user=alice, message_id=message.id)
    message.refresh_from_db()
    assert not (message.deleted_by_sender or message.deleted_by_receiver)
