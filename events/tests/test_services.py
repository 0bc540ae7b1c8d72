"""Each change writes its events, for the right users, in one query, in the change's own transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from blocking.services import block_create, block_delete
from blocking.tests.factories import BlockFactory
from events.models import Event, EventHorizon
from events.selectors import event_latest_id, event_list_after, event_since_is_kept
from events.services import NewEvent, event_record, events_purge
from messageservice.services import message_delete, message_mark_delivered, message_mark_read, message_send
from messageservice.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def events_of(user) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in Event.objects.filter(user=user).order_by("id")]


def test_a_send_tells_the_sender_and_the_receiver_the_whole_message(client_for, alice, bob):
    sent = client_for(alice).post("/api/message", {"receiver": "bob", "content": "hi"}, format="json").json()
    assert events_of(alice) == [("message.created", sent)]
    assert events_of(bob) == [("message.created", sent)]


def test_a_note_to_self_is_one_event(alice):
    message_send(sender=alice, receiver_username="alice", content="note")
    assert [t for t, _ in events_of(alice)] == ["message.created"]


def test_a_refused_send_writes_no_event(alice, bob):
    BlockFactory(blocker=bob, blocked=alice)
    with pytest.raises(Exception):  # noqa: B017 - the 403 is tested elsewhere; here: nothing stored
        message_send(sender=alice, receiver_username="bob", content="hi")
    assert not Event.objects.exists()


def test_an_idempotent_replay_writes_no_second_event(alice, bob):
    message_send(sender=alice, receiver_username="bob", content="hi", idempotency_key="k")
    message_send(sender=alice, receiver_username="bob", content="hi", idempotency_key="k")
    assert Event.objects.count() == 2  # one for each party, once


def test_delivery_sends_each_sender_a_receipt_with_its_own_ids(alice, bob, carol):
    from_bob = MessageFactory.create_batch(2, sender=bob, receiver=alice)
    from_carol = MessageFactory(sender=carol, receiver=alice)
    message_mark_delivered(user=alice, messages=[*from_bob, from_carol])
    ((kind, data),) = events_of(bob)
    assert kind == "message.delivered"
    assert data["ids"] == sorted(m.pk for m in from_bob)
    assert data["receiver"] == "alice"
    assert events_of(carol)[0][1]["ids"] == [from_carol.pk]
    assert events_of(alice) == []


def test_showing_a_page_twice_sends_the_receipt_once(client_for, alice, bob):
    MessageFactory(sender=bob, receiver=alice)
    alices = client_for(alice)
    alices.get("/api/message/received")
    alices.get("/api/message/received")
    assert [t for t, _ in events_of(bob)] == ["message.delivered"]


def test_reading_tells_the_reader_and_each_sender_which_messages(alice, bob, carol):
    from_bob = MessageFactory.create_batch(2, sender=bob, receiver=alice)
    from_carol = MessageFactory(sender=carol, receiver=alice)
    already = MessageFactory(sender=bob, receiver=alice, read_at=timezone.now())
    assert message_mark_read(user=alice, everything=True) == 3
    ((kind, mine),) = events_of(alice)
    assert kind == "message.read"
    assert mine["ids"] == sorted([*(m.pk for m in from_bob), from_carol.pk])
    assert mine["reader"] == "alice"
    ((_, bobs),) = events_of(bob)
    assert bobs["ids"] == sorted(m.pk for m in from_bob)
    assert already.pk not in bobs["ids"]
    assert events_of(carol)[0][1]["ids"] == [from_carol.pk]
    assert bobs["read_at"] == mine["read_at"]


def test_reading_by_ids_or_sender_names_only_those(alice, bob, carol):
    one, two = MessageFactory.create_batch(2, sender=bob, receiver=alice)
    other = MessageFactory(sender=carol, receiver=alice)
    message_mark_read(user=alice, ids=[two.pk, other.pk + 1000])
    assert events_of(bob)[-1][1]["ids"] == [two.pk]
    message_mark_read(user=alice, sender_username="carol")
    assert events_of(carol)[-1][1]["ids"] == [other.pk]
    assert [d["ids"] for _, d in events_of(alice)] == [[two.pk], [other.pk]]
    assert one.pk not in {i for _, d in events_of(alice) for i in d["ids"]}


def test_reading_nothing_new_writes_nothing(alice, bob):
    assert message_mark_read(user=alice, everything=True) == 0
    assert not Event.objects.exists()


def test_reading_your_notes_to_self_is_one_event(alice):
    note = MessageFactory(sender=alice, receiver=alice)
    message_mark_read(user=alice, everything=True)
    assert events_of(alice) == [("message.read", events_of(alice)[0][1])]
    assert events_of(alice)[0][1]["ids"] == [note.pk]


def test_a_delete_tells_only_the_deleting_users_devices(alice, bob):
    message = MessageFactory(sender=alice, receiver=bob)
    message_delete(user=bob, message_id=message.pk)
    assert events_of(bob) == [("message.deleted", {"id": message.pk})]
    assert events_of(alice) == []


def test_blocks_and_unblocks_tell_only_the_blocker(alice, bob):
    block = block_create(blocker=alice, blocked_username="BOB")
    block_delete(blocker=alice, blocked_username="Bob")
    assert [t for t, _ in events_of(alice)] == ["block.created", "block.deleted"]
    assert events_of(alice)[0][1] == {
        "id": block.pk,
        "blocked": "bob",
        "created": events_of(alice)[0][1]["created"],
    }
    assert events_of(alice)[1][1] == {"blocked": "bob"}
    assert events_of(bob) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda a, b, m: message_delete(user=a, message_id=m.pk),
        lambda a, b, m: message_mark_read(user=b, everything=True),
        lambda a, b, m: block_create(blocker=a, blocked_username="bob"),
    ],
)
def test_events_roll_back_with_their_change(alice, bob, change):
    message = MessageFactory(sender=alice, receiver=bob)
    with pytest.raises(RuntimeError), transaction.atomic():
        change(alice, bob, message)
        raise RuntimeError("the change fails after its event was written")
    assert not Event.objects.exists()


def test_every_event_write_is_one_query(
    alice, bob, carol, django_assert_num_queries, django_assert_max_num_queries
):
    with django_assert_num_queries(1):
        event_record(
            events=[
                NewEvent(user_id=u.pk, type="message.deleted", data={"id": 1}) for u in (alice, bob, carol)
            ]
        )
    assert Event.objects.count() == 3
    message = MessageFactory(sender=bob, receiver=alice)
    # The read mark's UPDATE, then one statement that finds the rows it marked and writes the events.
    with django_assert_max_num_queries(10) as ctx:
        message_mark_read(user=alice, ids=[message.pk])
    assert len(_statements(ctx)) == 2
    # Two conditional UPDATEs (one per party), then the event.
    with django_assert_max_num_queries(10) as ctx:
        message_delete(user=alice, message_id=message.pk)
    assert len(_statements(ctx)) == 3


def _statements(ctx) -> list[str]:
    """The queries, less the savepoint a nested transaction costs inside a test's transaction."""
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def test_replay_reads_after_an_id_in_order(alice, bob):
    for i in range(5):
        message_send(sender=alice, receiver_username="bob", content=f"m{i}")
    ids = list(Event.objects.filter(user=bob).order_by("id").values_list("id", flat=True))
    assert [e.pk for e in event_list_after(user_id=bob.pk, since=ids[1], limit=2)] == ids[2:4]
    assert event_latest_id(user_id=bob.pk) == ids[-1]
    assert event_latest_id(user_id=99999) == 0


def test_purge_drops_old_events_and_says_older_ids_need_a_resync(alice, bob, settings):
    settings.EVENT_RETENTION_DAYS = 7
    message_send(sender=alice, receiver_username="bob", content="old")
    old_ids = list(Event.objects.values_list("id", flat=True))
    Event.objects.update(created=timezone.now() - timedelta(days=8))
    message_send(sender=alice, receiver_username="bob", content="new")
    assert event_since_is_kept(since=0)
    assert events_purge() == 2
    assert not Event.objects.filter(id__in=old_ids).exists()
    assert Event.objects.count() == 2
    assert EventHorizon.objects.get().purged_through == max(old_ids)
    assert not event_since_is_kept(since=0)
    assert not event_since_is_kept(since=max(old_ids) - 1)
    assert event_since_is_kept(since=max(old_ids))
    assert events_purge() == 0


def test_purge_command_reports_what_it_dropped(alice, bob):
    from django.core.management import call_command

    message_send(sender=alice, receiver_username="bob", content="old")
    Event.objects.update(created=timezone.now() - timedelta(days=30))
    from io import StringIO

    out = StringIO()
    call_command("purge_events", stdout=out)
    assert out.getvalue().strip() == "2 events purged"
