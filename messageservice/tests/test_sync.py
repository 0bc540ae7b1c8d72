"""Catch-up sync: every message I sent or received after a given id, oldest first, each exactly once."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messageservice.models import Message
from messageservice.tests.factories import MessageFactory
from messageservice.tests.helpers import detail, send

pytestmark = pytest.mark.django_db

SYNC = reverse("sync")
# Far more calls than any test needs: a sync that never finishes fails instead of hanging.
MAX_CALLS = 200


def sync(client, **params) -> dict:
    response = client.get(SYNC, params)
    assert response.status_code == 200, response.content
    return response.json()


def sync_all(client, since: int = 0, limit: int = 100) -> tuple[list[int], int]:
    """Call sync with each returned next_since until nothing more; the ids seen and the last next_since."""
    ids = []
    for _ in range(MAX_CALLS):
        body = sync(client, since=since, limit=limit)
        ids += [m["id"] for m in body["messages"]]
        since = body["next_since"]
        if not body["has_more"]:
            return ids, since
    pytest.fail(f"sync still says has_more after {MAX_CALLS} calls")


def test_sync_returns_what_i_sent_and_received_oldest_first(client_for, alice, bob, carol):
    alices = client_for(alice)
    first = send(alices, "bob", "one")
    second = send(client_for(bob), "alice", "two")
    MessageFactory(sender=bob, receiver=carol)  # not mine
    third = send(client_for(carol), "alice", "three")
    body = sync(alices)
    assert [m["id"] for m in body["messages"]] == [first["id"], second["id"], third["id"]]
    assert [m["content"] for m in body["messages"]] == ["one", "two", "three"]
    assert body["next_since"] == third["id"]
    assert body["has_more"] is False
    assert set(body["messages"][0]) >= {"id", "sender", "receiver", "content", "created", "delivered_at"}


def test_sync_with_nothing_new_keeps_since(client_for, alice, bob):
    message = MessageFactory(sender=bob, receiver=alice)
    assert sync(client_for(alice), since=message.pk) == {
        "messages": [],
        "next_since": message.pk,
        "has_more": False,
    }


def test_sync_from_scratch_on_an_empty_inbox(client_for, alice):
    assert sync(client_for(alice)) == {"messages": [], "next_since": 0, "has_more": False}


def test_sync_pages_by_limit_and_says_when_more_follow(client_for, alice, bob):
    ids = [MessageFactory(sender=bob, receiver=alice).pk for _ in range(5)]
    alices = client_for(alice)
    first = sync(alices, limit=2)
    assert [m["id"] for m in first["messages"]] == ids[:2]
    assert first["has_more"] is True
    second = sync(alices, since=first["next_since"], limit=2)
    assert [m["id"] for m in second["messages"]] == ids[2:4]
    assert second["has_more"] is True
    third = sync(alices, since=second["next_since"], limit=2)
    assert [m["id"] for m in third["messages"]] == ids[4:]
    assert third["has_more"] is False


def test_exactly_limit_messages_left_is_not_more(client_for, alice, bob):
    MessageFactory.create_batch(3, sender=bob, receiver=alice)
    body = sync(client_for(alice), limit=3)
    assert len(body["messages"]) == 3
    assert body["has_more"] is False


def test_sync_limit_defaults_to_100_and_goes_up_to_500(client_for, alice, bob):
    MessageFactory.create_batch(501, sender=bob, receiver=alice)
    alices = client_for(alice)
    default = sync(alices)
    assert len(default["messages"]) == 100
    assert default["has_more"] is True
    biggest = sync(alices, limit=500)
    assert len(biggest["messages"]) == 500
    assert biggest["has_more"] is True


def test_sync_sees_what_i_sent_from_another_device(client_for, alice, bob):
    phone, laptop = client_for(alice), client_for(alice)
    seen, since = sync_all(laptop)
    assert seen == []
    from_phone = send(phone, "bob", "sent from my phone")
    incoming = send(client_for(bob), "alice", "reply")
    seen, since = sync_all(laptop, since=since)
    assert seen == [from_phone["id"], incoming["id"]]
    assert sync_all(laptop, since=since)[0] == []


def test_sync_marks_received_messages_delivered_but_not_sent_ones(client_for, alice, bob):
    received = MessageFactory(sender=bob, receiver=alice)
    sent = MessageFactory(sender=alice, receiver=bob)
    sync(client_for(alice))
    bobs = client_for(bob)
    assert bobs.get(detail(received.pk)).json()["delivered_at"] is not None
    sent.refresh_from_db()
    assert sent.delivered_at is None


def test_sync_leaves_out_what_i_deleted_but_not_what_the_peer_deleted(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    mine_deleted = send(alices, "bob", "alice deletes this")
    peer_deleted = send(bobs, "alice", "bob deletes this")
    assert alices.delete(detail(mine_deleted["id"])).status_code == 204
    assert bobs.delete(detail(peer_deleted["id"])).status_code == 204
    assert sync_all(alices)[0] == [peer_deleted["id"]]
    assert sync_all(bobs)[0] == [mine_deleted["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "-1"},
        {"since": "abc"},
        {"since": "1.5"},
        {"since": "1e3"},
        {"since": str(2**63)},
        {"since": "9" * 40},
        {"limit": "-5"},
        {"limit": "501"},
        {"limit": "ten"},
        {"limit": "2.5"},
    ],
)
def test_bad_since_or_limit_is_400(client_for, alice, bob, params):
    message = MessageFactory(sender=bob, receiver=alice)
    response = client_for(alice).get(SYNC, params)
    assert response.status_code == 400
    assert set(response.json()) <= {"since", "limit"}
    message.refresh_from_db()
    assert message.delivered_at is None


def test_sync_costs_the_same_queries_for_1_or_20_messages(
    client_for, alice, bob, carol, django_assert_num_queries
):
    alices, carols = client_for(alice), client_for(carol)
    MessageFactory(sender=bob, receiver=alice)
    MessageFactory.create_batch(20, sender=bob, receiver=carol)
    # Token lookup + cleanup, the messages, sender and receiver names, one delivery update and
    # the one insert of its receipt events.
    with django_assert_num_queries(7):
        assert len(sync(alices, limit=20)["messages"]) == 1
    with django_assert_num_queries(7):
        assert len(sync(carols, limit=20)["messages"]) == 20


# --- Property: repeated sync sees every visible message once --------------------------------------

PEOPLE = ("alice", "bob", "carol")

send_op = st.tuples(st.just("send"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE))
delete_op = st.tuples(st.just("delete"), st.sampled_from(PEOPLE), st.integers(min_value=0, max_value=50))
sync_op = st.tuples(st.just("sync"), st.integers(min_value=1, max_value=4), st.just(None))
operations = st.lists(st.one_of(send_op, send_op, delete_op, sync_op), max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, final_limit=st.integers(min_value=1, max_value=5))
def test_repeated_sync_sees_each_visible_message_exactly_once_in_id_order(
    client_for, alice, bob, carol, ops, final_limit
):
    """Sends between everyone (alice also from a second device), deletes and partial syncs, interleaved.

    Alice's syncing device must get every message she can see, in id order, never twice, and never one
    she cannot see at the time.
    """
    users = {"alice": alice, "bob": bob, "carol": carol}
    # Each example starts from an empty database: everything it writes is rolled back at the end.
    with transaction.atomic():
        clients = {name: client_for(user) for name, user in users.items()}
        other_device = client_for(alice)
        syncing = clients["alice"]
        model: dict[int, dict] = {}  # id -> sender, receiver and who deleted it

        def visible_to_alice(row: dict) -> bool:
            return "alice" in (row["sender"], row["receiver"]) and "alice" not in row["deleted_by"]

        seen: list[int] = []
        since = 0
        for op, a, b in ops:
            if op == "send":
                client = other_device if a == "alice" else clients[a]
                message = send(client, b)
                model[message["id"]] = {"sender": a, "receiver": b, "deleted_by": set()}
            elif op == "delete":
                candidates = [
                    pk
                    for pk, row in sorted(model.items())
                    if a in (row["sender"], row["receiver"]) and a not in row["deleted_by"]
                ]
                if candidates:
                    pk = candidates[b % len(candidates)]
                    assert clients[a].delete(detail(pk)).status_code == 204
                    model[pk]["deleted_by"].add(a)
            else:
                body = sync(syncing, since=since, limit=a)
                got = [m["id"] for m in body["messages"]]
                assert all(visible_to_alice(model[pk]) for pk in got)
                seen += got
                since = body["next_since"]

        for _ in range(MAX_CALLS):
            body = sync(syncing, since=since, limit=final_limit)
            got = [m["id"] for m in body["messages"]]
            assert len(got) <= final_limit
            assert all(visible_to_alice(model[pk]) for pk in got)
            seen += got
            since = body["next_since"]
            if not body["has_more"]:
                break
        else:
            pytest.fail(f"sync still says has_more after {MAX_CALLS} calls")

        assert seen == sorted(set(seen)), "each message once, oldest first"
        visible_now = {pk for pk, row in model.items() if visible_to_alice(row)}
        deleted_after_seen = set(seen) - visible_now
        assert visible_now <= set(seen), "no visible message is skipped"
        assert all("alice" in model[pk]["deleted_by"] for pk in deleted_after_seen)
        # A client that has caught up gets nothing more.
        assert sync(syncing, since=since) == {"messages": [], "next_since": since, "has_more": False}
        # From scratch, a new device gets exactly what alice can see now.
        assert sync_all(client_for(alice), limit=final_limit)[0] == sorted(visible_now)
        transaction.set_rollback(True)
    assert not Message.objects.exists()


def test_limit_zero_returns_nothing_but_says_whether_messages_wait(client_for, alice, bob):
    message = MessageFactory(sender=bob, receiver=alice)
    body = client_for(alice).get(SYNC, {"limit": "0"}).json()
    assert body == {"messages": [], "next_since": 0, "has_more": True}
    message.refresh_from_db()
    assert message.delivered_at is None
