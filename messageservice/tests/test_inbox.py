"""Delivery and read state, read marks, unread counts and deleting, as both parties see them over HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocking.tests.factories import BlockFactory
from messageservice.models import Message
from messageservice.serializers import MARK_READ_MAX_IDS
from messageservice.tests.factories import MessageFactory
from messageservice.tests.helpers import MESSAGES, conversation, detail, send

pytestmark = pytest.mark.django_db

SENT = reverse("message-sent")
RECEIVED = reverse("message-received")
READ = reverse("message-read")
UNREAD = reverse("message-unread")
CONVERSATIONS = reverse("conversation-list")
SYNC = reverse("sync")


def ids_of(response) -> list[int]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    if isinstance(body, dict) and "messages" in body:
        rows = body["messages"]
    return [row["id"] for row in rows]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_public_paths_are_the_documented_ones():
    assert READ == "/api/message/read"
    assert UNREAD == "/api/message/unread"
    assert detail(7) == "/api/message/7"
    assert CONVERSATIONS == "/api/conversation"
    assert conversation("bob") == "/api/conversation/bob"
    assert SYNC == "/api/sync"


# --- State in every representation -------------------------------------------------------------


def test_new_message_shows_null_delivery_and_read_state_to_its_sender(client_for, alice, bob):
    body = send(client_for(alice), "bob")
    assert body["delivered_at"] is None
    assert body["read_at"] is None
    assert set(body) >= {"id", "sender", "receiver", "content", "created", "delivered_at", "read_at"}


def test_receiver_fetching_the_message_shows_delivered_at_to_the_sender(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    assert bobs.get(RECEIVED).status_code == 200
    seen_by_sender = alices.get(detail(message["id"])).json()
    assert seen_by_sender["delivered_at"] is not None
    assert parse_time(seen_by_sender["delivered_at"]) >= parse_time(message["created"])
    assert seen_by_sender["read_at"] is None


@pytest.mark.parametrize(
    "url",
    [
        MESSAGES,
        RECEIVED,
        "detail",
        CONVERSATIONS,
        conversation("alice"),
        SYNC,
    ],
)
def test_every_read_endpoint_marks_the_receivers_messages_delivered(client_for, alice, bob, url):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    response = bobs.get(detail(message["id"]) if url == "detail" else url)
    assert response.status_code == 200
    assert alices.get(detail(message["id"])).json()["delivered_at"] is not None


def test_sent_list_delivers_a_message_to_myself(client_for, alice):
    alices = client_for(alice)
    message = send(alices, "alice")
    assert alices.get(SENT).status_code == 200
    assert alices.get(detail(message["id"])).json()["delivered_at"] is not None


@pytest.mark.parametrize("url", [MESSAGES, SENT, "detail", CONVERSATIONS, conversation("bob"), SYNC])
def test_sender_looking_at_a_message_does_not_mark_it_delivered(client_for, alice, bob, url):
    alices = client_for(alice)
    message = send(alices, "bob")
    response = alices.get(detail(message["id"]) if url == "detail" else url)
    assert response.status_code == 200
    assert alices.get(detail(message["id"])).json()["delivered_at"] is None
    assert Message.objects.get(pk=message["id"]).delivered_at is None


def test_delivered_at_keeps_the_time_of_the_first_delivery(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    bobs.get(RECEIVED)
    first = alices.get(detail(message["id"])).json()["delivered_at"]
    bobs.get(MESSAGES)
    bobs.get(detail(message["id"]))
    bobs.get(SYNC)
    assert alices.get(detail(message["id"])).json()["delivered_at"] == first


def test_only_the_page_shown_is_marked_delivered(client_for, alice, bob):
    older = [MessageFactory(sender=alice, receiver=bob) for _ in range(5)]
    newer = [MessageFactory(sender=alice, receiver=bob) for _ in range(20)]
    response = client_for(bob).get(RECEIVED)
    assert sorted(ids_of(response)) == sorted(m.pk for m in newer)
    sent = {row["id"]: row for row in client_for(alice).get(SENT, {"page": 1}).json()["results"]}
    sent |= {row["id"]: row for row in client_for(alice).get(SENT, {"page": 2}).json()["results"]}
    assert all(sent[m.pk]["delivered_at"] is not None for m in newer)
    assert all(sent[m.pk]["delivered_at"] is None for m in older)


def test_conversation_list_delivers_only_the_last_message_it_shows(client_for, alice, bob):
    first = MessageFactory(sender=alice, receiver=bob)
    last = MessageFactory(sender=alice, receiver=bob)
    entries = client_for(bob).get(CONVERSATIONS).json()["results"]
    assert [e["last_message"]["id"] for e in entries] == [last.pk]
    first.refresh_from_db()
    last.refresh_from_db()
    assert last.delivered_at is not None
    assert first.delivered_at is None


# --- One UPDATE per request, whatever the page size ----------------------------------------------


def _queries(client, url, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _updates(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if sql.lstrip().upper().startswith("UPDATE")]


@pytest.mark.parametrize(
    ("url", "params", "budget"),
    [
        # The full list and sync load sender and receiver names in two prefetch queries; each
        # delivery also inserts its receipt events, in one query.
        (MESSAGES, None, 8),
        (RECEIVED, None, 6),
        (conversation("alice"), {"page_size": 20}, 6),
        (SYNC, {"limit": 20}, 8),
    ],
)
def test_delivering_a_page_costs_one_update_whatever_its_size(
    client_for,
    alice,
    bob,
    carol,
    url,
    params,
    budget,
    django_assert_max_num_queries,
    django_assert_num_queries,
):
    bobs, carols = client_for(bob), client_for(carol)
    MessageFactory(sender=alice, receiver=bob)
    with django_assert_max_num_queries(budget) as small:
        assert bobs.get(url, params or {}).status_code == 200
    small_sqls = [q["sql"] for q in small.captured_queries]
    assert len(_updates(small_sqls)) == 1

    for _ in range(20):
        MessageFactory(sender=alice, receiver=carol)
    with django_assert_num_queries(len(small_sqls)) as big:
        response = carols.get(url, params or {})
    assert len(ids_of(response)) == 20
    assert len(_updates([q["sql"] for q in big.captured_queries])) == 1
    assert not Message.objects.filter(receiver=carol, delivered_at__isnull=True).exists()


def test_message_detail_delivers_with_one_update(client_for, alice, bob, django_assert_max_num_queries):
    bobs = client_for(bob)
    message = MessageFactory(sender=alice, receiver=bob)
    with django_assert_max_num_queries(5) as ctx:  # with the receipt event's insert
        assert bobs.get(detail(message.pk)).status_code == 200
    assert len(_updates([q["sql"] for q in ctx.captured_queries])) == 1


def test_conversation_list_delivers_with_one_update_for_1_or_20_peers(
    client_for, alice, bob, django_assert_max_num_queries, django_assert_num_queries
):
    from accounts.tests.factories import UserFactory

    MessageFactory(sender=bob, receiver=alice)
    alices = client_for(alice)
    with django_assert_max_num_queries(7) as small:  # with the receipt event's insert
        assert alices.get(CONVERSATIONS).status_code == 200
    assert len(_updates([q["sql"] for q in small.captured_queries])) == 1

    dave = UserFactory(username="dave")
    for peer in UserFactory.create_batch(20):
        MessageFactory(sender=peer, receiver=dave)
    daves = client_for(dave)
    with django_assert_num_queries(len(small.captured_queries)) as big:
        response = daves.get(CONVERSATIONS)
    assert len(response.json()["results"]) == 20
    assert len(_updates([q["sql"] for q in big.captured_queries])) == 1


def test_already_delivered_page_costs_no_update(client_for, alice, bob):
    bobs = client_for(bob)
    MessageFactory(sender=alice, receiver=bob)
    bobs.get(RECEIVED)
    assert _updates(_queries(bobs, RECEIVED)) == []


# --- Marking read ----------------------------------------------------------------------------------


def test_receiver_reading_shows_read_at_to_sender(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    response = bobs.post(READ, {"ids": [message["id"]]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    seen = alices.get(detail(message["id"])).json()
    assert seen["read_at"] is not None
    assert seen["delivered_at"] is not None
    [in_sent_list] = alices.get(SENT).json()["results"]
    assert in_sent_list["read_at"] == seen["read_at"]


def test_reading_an_undelivered_message_also_delivers_it(client_for, alice, bob):
    message = MessageFactory(sender=alice, receiver=bob)
    client_for(bob).post(READ, {"all": True}, format="json")
    seen = client_for(alice).get(detail(message.pk)).json()
    assert seen["delivered_at"] is not None
    assert parse_time(seen["delivered_at"]) <= parse_time(seen["read_at"])


def test_reading_keeps_an_earlier_delivery_time(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    bobs.get(RECEIVED)
    delivered = alices.get(detail(message["id"])).json()["delivered_at"]
    bobs.post(READ, {"ids": [message["id"]]}, format="json")
    assert alices.get(detail(message["id"])).json()["delivered_at"] == delivered


def test_mark_read_by_sender_marks_only_that_senders_messages(client_for, alice, bob, carol):
    from_bob = MessageFactory.create_batch(2, sender=bob, receiver=alice)
    from_carol = MessageFactory(sender=carol, receiver=alice)
    alices = client_for(alice)
    assert alices.post(READ, {"sender": "bob"}, format="json").json() == {"marked": 2}
    assert all(alices.get(detail(m.pk)).json()["read_at"] for m in from_bob)
    assert alices.get(detail(from_carol.pk)).json()["read_at"] is None


def test_mark_read_by_sender_ignores_the_case_of_the_username(client_for, alice, bob):
    MessageFactory(sender=bob, receiver=alice)
    assert client_for(alice).post(READ, {"sender": "BOB"}, format="json").json() == {"marked": 1}


def test_mark_all_read_marks_every_unread_received_message(client_for, alice, bob, carol):
    MessageFactory.create_batch(2, sender=bob, receiver=alice)
    MessageFactory(sender=carol, receiver=alice)
    already = MessageFactory(sender=carol, receiver=alice)
    alices = client_for(alice)
    alices.post(READ, {"ids": [already.pk]}, format="json")
    assert alices.post(READ, {"all": True}, format="json").json() == {"marked": 3}
    assert alices.get(UNREAD).json() == {"count": 0, "by_sender": {}}


def test_mark_all_read_leaves_what_i_sent_unread_for_the_receiver(client_for, alice, bob):
    mine = MessageFactory(sender=alice, receiver=bob)
    assert client_for(alice).post(READ, {"all": True}, format="json").json() == {"marked": 0}
    assert client_for(bob).get(detail(mine.pk)).json()["read_at"] is None


def test_marking_twice_counts_only_the_first_time_and_keeps_read_at(client_for, alice, bob):
    message = MessageFactory(sender=alice, receiver=bob)
    bobs = client_for(bob)
    assert bobs.post(READ, {"ids": [message.pk]}, format="json").json() == {"marked": 1}
    first = bobs.get(detail(message.pk)).json()["read_at"]
    assert bobs.post(READ, {"ids": [message.pk]}, format="json").json() == {"marked": 0}
    assert bobs.post(READ, {"all": True}, format="json").json() == {"marked": 0}
    assert bobs.get(detail(message.pk)).json()["read_at"] == first


def test_repeated_ids_count_once(client_for, alice, bob):
    message = MessageFactory(sender=alice, receiver=bob)
    response = client_for(bob).post(READ, {"ids": [message.pk, message.pk, message.pk]}, format="json")
    assert response.json() == {"marked": 1}


def test_ids_of_other_peoples_messages_are_ignored_and_never_confirmed(client_for, alice, bob, carol):
    between_others = MessageFactory(sender=bob, receiver=carol)
    sent_by_me = MessageFactory(sender=alice, receiver=bob)
    response = client_for(alice).post(READ, {"ids": [between_others.pk, sent_by_me.pk]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 0}
    assert client_for(carol).get(detail(between_others.pk)).json()["read_at"] is None
    assert client_for(bob).get(UNREAD).json() == {"count": 1, "by_sender": {"alice": 1}}


def test_unknown_ids_mixed_with_mine_count_only_mine(client_for, alice, bob):
    mine = MessageFactory(sender=bob, receiver=alice)
    response = client_for(alice).post(READ, {"ids": [mine.pk, mine.pk + 1000]}, format="json")
    assert response.json() == {"marked": 1}


def test_mark_read_accepts_exactly_the_maximum_number_of_ids(client_for, alice, bob):
    message = MessageFactory(sender=bob, receiver=alice)
    ids = [message.pk, *range(10**6, 10**6 + MARK_READ_MAX_IDS - 1)]
    response = client_for(alice).post(READ, {"ids": ids}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 1}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"ids": ["abc"]},
        {"ids": [1.5]},
        {"ids": [None]},
        {"ids": [[1]]},
        {"ids": [True]},
        {"ids": 5},
        {"ids": "1,2"},
        {"all": False},
        {"all": None},
        {"sender": 12},
        {"sender": ""},
        {"ids": [1], "all": True},
        {"ids": [1], "sender": "bob"},
        {"sender": "bob", "all": True},
        {"ids": list(range(1, MARK_READ_MAX_IDS + 2))},
        {"sender": "nobody"},
        {"everything": True},
    ],
)
def test_bad_mark_read_bodies_get_400_and_mark_nothing(client_for, alice, bob, body):
    message = MessageFactory(sender=bob, receiver=alice)
    response = client_for(alice).post(READ, body, format="json")
    assert response.status_code == 400, response.content
    assert isinstance(response.json(), dict)
    message.refresh_from_db()
    assert message.read_at is None


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", '"all"', "null"])
def test_malformed_mark_read_bodies_get_400(client_for, alice, bob, raw):
    message = MessageFactory(sender=bob, receiver=alice)
    response = client_for(alice).post(READ, raw, content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.json(), dict)
    message.refresh_from_db()
    assert message.read_at is None


def test_huge_ids_are_an_error_not_a_crash(client_for, alice):
    response = client_for(alice).post(READ, {"ids": [2**64]}, format="json")
    assert response.status_code == 400


# --- Unread filter and counts ---------------------------------------------------------------------


def test_received_unread_true_lists_only_unread_and_false_only_read(client_for, alice, bob):
    read, unread = MessageFactory.create_batch(2, sender=bob, receiver=alice)
    alices = client_for(alice)
    alices.post(READ, {"ids": [read.pk]}, format="json")
    assert ids_of(alices.get(RECEIVED, {"unread": "true"})) == [unread.pk]
    assert ids_of(alices.get(RECEIVED, {"unread": "false"})) == [read.pk]
    assert sorted(ids_of(alices.get(RECEIVED))) == sorted([read.pk, unread.pk])


@pytest.mark.parametrize("value", ["maybe", "yes", "2", "TRUEISH"])
def test_received_unread_must_be_a_boolean(client_for, alice, value):
    response = client_for(alice).get(RECEIVED, {"unread": value})
    assert response.status_code == 400
    assert "unread" in response.json()


def test_unread_counts_by_sender(client_for, alice, bob, carol):
    MessageFactory.create_batch(3, sender=bob, receiver=alice)
    MessageFactory(sender=carol, receiver=alice)
    MessageFactory(sender=alice, receiver=bob)  # sent, not received
    MessageFactory(sender=bob, receiver=carol)  # not mine at all
    response = client_for(alice).get(UNREAD)
    assert response.status_code == 200
    assert response.json() == {"count": 4, "by_sender": {"bob": 3, "carol": 1}}


def test_unread_counts_start_at_zero(client_for, alice):
    assert client_for(alice).get(UNREAD).json() == {"count": 0, "by_sender": {}}


def test_delivery_is_not_reading(client_for, alice, bob):
    MessageFactory(sender=bob, receiver=alice)
    alices = client_for(alice)
    alices.get(RECEIVED)
    assert alices.get(UNREAD).json() == {"count": 1, "by_sender": {"bob": 1}}
    assert len(ids_of(alices.get(RECEIVED, {"unread": "true"}))) == 1


def test_reading_drops_the_unread_count(client_for, alice, bob, carol):
    from_bob = MessageFactory.create_batch(2, sender=bob, receiver=alice)
    MessageFactory(sender=carol, receiver=alice)
    alices = client_for(alice)
    alices.post(READ, {"ids": [from_bob[0].pk]}, format="json")
    assert alices.get(UNREAD).json() == {"count": 2, "by_sender": {"bob": 1, "carol": 1}}
    alices.post(READ, {"sender": "bob"}, format="json")
    assert alices.get(UNREAD).json() == {"count": 1, "by_sender": {"carol": 1}}


# --- Deleting ----------------------------------------------------------------------------------


def test_deleted_message_is_gone_from_everything_of_mine(client_for, alice, bob):
    alices = client_for(alice)
    message = MessageFactory(sender=bob, receiver=alice)
    kept = MessageFactory(sender=bob, receiver=alice)
    response = alices.delete(detail(message.pk))
    assert response.status_code == 204
    assert alices.get(detail(message.pk)).status_code == 404
    assert ids_of(alices.get(MESSAGES)) == [kept.pk]
    assert ids_of(alices.get(RECEIVED)) == [kept.pk]
    assert ids_of(alices.get(conversation("bob"))) == [kept.pk]
    assert ids_of(alices.get(SYNC)) == [kept.pk]
    assert alices.get(UNREAD).json() == {"count": 1, "by_sender": {"bob": 1}}
    [entry] = alices.get(CONVERSATIONS).json()["results"]
    assert entry["unread"] == 1
    assert entry["last_message"]["id"] == kept.pk


def test_deleted_sent_message_is_gone_from_my_sent_list(client_for, alice, bob):
    alices = client_for(alice)
    message = send(alices, "bob")
    assert alices.delete(detail(message["id"])).status_code == 204
    assert ids_of(alices.get(SENT)) == []
    assert alices.get(CONVERSATIONS).json()["count"] == 0


def test_other_party_keeps_a_message_i_deleted(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    bobs.post(READ, {"ids": [message["id"]]}, format="json")
    before = bobs.get(detail(message["id"])).json()
    assert alices.delete(detail(message["id"])).status_code == 204

    assert bobs.get(detail(message["id"])).json() == before
    assert ids_of(bobs.get(RECEIVED)) == [message["id"]]
    assert ids_of(bobs.get(conversation("alice"))) == [message["id"]]
    assert ids_of(bobs.get(SYNC)) == [message["id"]]
    [entry] = bobs.get(CONVERSATIONS).json()["results"]
    assert entry["peer"] == "alice"


def test_receiver_deleting_an_unread_message_leaves_the_senders_copy(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    assert bobs.delete(detail(message["id"])).status_code == 204
    assert bobs.get(UNREAD).json() == {"count": 0, "by_sender": {}}
    assert ids_of(alices.get(SENT)) == [message["id"]]
    assert alices.get(detail(message["id"])).json()["read_at"] is None


def test_deleted_message_cannot_be_marked_read(client_for, alice, bob):
    alices = client_for(alice)
    message = MessageFactory(sender=bob, receiver=alice)
    alices.delete(detail(message.pk))
    assert alices.post(READ, {"ids": [message.pk]}, format="json").json() == {"marked": 0}
    assert alices.post(READ, {"all": True}, format="json").json() == {"marked": 0}
    assert client_for(bob).get(detail(message.pk)).json()["read_at"] is None


def test_deleting_twice_is_404(client_for, alice, bob):
    alices = client_for(alice)
    message = MessageFactory(sender=bob, receiver=alice)
    assert alices.delete(detail(message.pk)).status_code == 204
    response = alices.delete(detail(message.pk))
    assert response.status_code == 404
    assert "detail" in response.json()


def test_deleting_someone_elses_message_is_404_and_changes_nothing(client_for, alice, bob, carol):
    message = MessageFactory(sender=bob, receiver=carol)
    response = client_for(alice).delete(detail(message.pk))
    assert response.status_code == 404
    assert "detail" in response.json()
    assert ids_of(client_for(carol).get(RECEIVED)) == [message.pk]
    assert ids_of(client_for(bob).get(SENT)) == [message.pk]


@pytest.mark.parametrize("pk", [999_999, 10**17])
def test_deleting_an_unknown_message_is_404(client_for, alice, pk):
    response = client_for(alice).delete(detail(pk))
    assert response.status_code == 404
    assert "detail" in response.json()


def test_someone_elses_message_is_404_to_read(client_for, alice, bob, carol):
    message = MessageFactory(sender=bob, receiver=carol)
    assert client_for(alice).get(detail(message.pk)).status_code == 404
    message.refresh_from_db()
    assert message.delivered_at is None


def test_deleting_a_message_to_myself_removes_it_for_me(client_for, alice):
    alices = client_for(alice)
    message = send(alices, "alice")
    assert alices.delete(detail(message["id"])).status_code == 204
    assert alices.get(detail(message["id"])).status_code == 404
    assert ids_of(alices.get(MESSAGES)) == []
    assert ids_of(alices.get(SENT)) == []
    assert ids_of(alices.get(RECEIVED)) == []
    assert ids_of(alices.get(SYNC)) == []
    assert alices.get(CONVERSATIONS).json()["count"] == 0
    assert alices.get(UNREAD).json() == {"count": 0, "by_sender": {}}


def test_both_parties_deleting_hides_it_from_both(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = send(alices, "bob")
    assert alices.delete(detail(message["id"])).status_code == 204
    assert bobs.delete(detail(message["id"])).status_code == 204
    assert alices.get(detail(message["id"])).status_code == 404
    assert bobs.get(detail(message["id"])).status_code == 404


# --- Unblocking -------------------------------------------------------------------------------


def test_unblocked_user_can_message_me_again(client_for, alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    alices, bobs = client_for(alice), client_for(bob)
    refused = bobs.post(MESSAGES, {"receiver": "alice", "content": "hi"}, format="json")
    assert refused.status_code == 403
    response = alices.delete(reverse("block-delete", kwargs={"username": "bob"}))
    assert response.status_code == 204
    message = send(bobs, "alice", "hi again")
    assert ids_of(alices.get(RECEIVED)) == [message["id"]]


# --- Authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", READ),
        ("get", UNREAD),
        ("get", detail(1)),
        ("delete", detail(1)),
        ("get", CONVERSATIONS),
        ("get", conversation("bob")),
        ("get", SYNC),
    ],
)
def test_inbox_endpoints_need_a_token(api_client, method, url):
    response = getattr(api_client, method)(url)
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("message-list", {}), ("message-received", {}), ("conversation-list", {}), ("sync", {})],
)
def test_a_head_request_shows_nothing_so_delivers_nothing(client_for, alice, bob, name, kwargs):
    message = MessageFactory(sender=bob, receiver=alice)
    assert client_for(alice).head(reverse(name, kwargs=kwargs)).status_code == 200
    message.refresh_from_db()
    assert message.delivered_at is None


def test_history_with_a_deactivated_user_stays_reachable(client_for, alice, bob):
    MessageFactory(sender=bob, receiver=alice)
    bob.is_active = False
    bob.save()
    client = client_for(alice)
    assert client.get(reverse("message-unread")).json()["by_sender"] == {"bob": 1}
    assert client.get(reverse("message-received"), {"sender": "bob"}).json()["count"] == 1
    assert client.get(reverse("conversation-detail", kwargs={"username": "bob"})).status_code == 200
    assert client.post(reverse("message-read"), {"sender": "bob"}, format="json").json() == {"marked": 1}
    # ...but nobody can write to a deactivated account.
    response = client.post(reverse("message-list"), {"receiver": "bob", "content": "hi"}, format="json")
    assert response.status_code == 400
