"""The conversation list (one entry per peer) and one conversation's history, paged by cursor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from messageservice.tests.factories import MessageFactory
from messageservice.tests.helpers import conversation, detail, send

pytestmark = pytest.mark.django_db

READ = reverse("message-read")
CONVERSATIONS = reverse("conversation-list")


def walk(client, url: str, params: dict | None = None) -> tuple[list[int], int]:
    """Follow `next` links from the first page; the ids in order and how many pages it took."""
    response = client.get(url, params or {})
    ids, pages = [], 0
    while True:
        assert response.status_code == 200
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        pages += 1
        if body["next"] is None:
            return ids, pages
        response = client.get(body["next"])


# --- The list of conversations -----------------------------------------------------------------


def test_conversation_list_has_one_entry_per_peer_most_recent_first(client_for, alice, bob, carol):
    alices, bobs, carols = client_for(alice), client_for(bob), client_for(carol)
    send(alices, "bob", "hi bob")
    send(bobs, "alice", "hi alice")
    send(carols, "alice", "hi from carol")
    last_with_bob = send(alices, "bob", "latest")
    response = alices.get(CONVERSATIONS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None and body["previous"] is None
    assert [entry["peer"] for entry in body["results"]] == ["bob", "carol"]
    bob_entry = body["results"][0]
    assert set(bob_entry) == {"peer", "last_message", "unread"}
    assert bob_entry["last_message"]["id"] == last_with_bob["id"]
    assert bob_entry["last_message"]["content"] == "latest"
    assert bob_entry["last_message"]["sender"] == "alice"


def test_a_reply_moves_a_conversation_to_the_top(client_for, alice, bob, carol):
    alices = client_for(alice)
    send(client_for(bob), "alice")
    send(client_for(carol), "alice")
    assert [e["peer"] for e in alices.get(CONVERSATIONS).json()["results"]] == ["carol", "bob"]
    send(alices, "bob", "a reply")
    assert [e["peer"] for e in alices.get(CONVERSATIONS).json()["results"]] == ["bob", "carol"]


def test_conversation_unread_counts_only_unread_messages_from_that_peer(client_for, alice, bob, carol):
    alices = client_for(alice)
    from_bob = MessageFactory.create_batch(3, sender=bob, receiver=alice)
    MessageFactory(sender=alice, receiver=bob)  # bob has not read it; not alice's unread
    MessageFactory(sender=carol, receiver=alice)
    alices.post(READ, {"ids": [from_bob[0].pk]}, format="json")
    unread = {e["peer"]: e["unread"] for e in alices.get(CONVERSATIONS).json()["results"]}
    assert unread == {"bob": 2, "carol": 1}
    # Bob sees his side: alice's message to him is his one unread.
    assert {e["peer"]: e["unread"] for e in client_for(bob).get(CONVERSATIONS).json()["results"]} == {
        "alice": 1
    }


def test_conversation_list_shows_only_my_conversations(client_for, alice, bob, carol):
    MessageFactory(sender=bob, receiver=carol)
    assert client_for(alice).get(CONVERSATIONS).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_deleting_the_last_message_shows_the_one_before(client_for, alice, bob):
    alices = client_for(alice)
    earlier = MessageFactory(sender=bob, receiver=alice)
    latest = MessageFactory(sender=alice, receiver=bob)
    alices.delete(detail(latest.pk))
    [entry] = alices.get(CONVERSATIONS).json()["results"]
    assert entry["last_message"]["id"] == earlier.pk
    # Bob still has both, so his last message is the one alice deleted.
    [bobs_entry] = client_for(bob).get(CONVERSATIONS).json()["results"]
    assert bobs_entry["last_message"]["id"] == latest.pk


def test_conversation_list_is_paged_by_page_number(client_for, alice):
    peers = UserFactory.create_batch(21)
    for peer in peers:
        MessageFactory(sender=peer, receiver=alice)
    alices = client_for(alice)
    first = alices.get(CONVERSATIONS).json()
    assert first["count"] == 21
    assert len(first["results"]) == 20
    assert first["previous"] is None
    second = alices.get(first["next"]).json()
    assert second["next"] is None
    assert second["previous"] is not None
    seen = [e["peer"] for e in first["results"] + second["results"]]
    assert seen == [p.username for p in reversed(peers)]


def test_conversation_list_page_past_the_end_is_404(client_for, alice, bob):
    MessageFactory(sender=bob, receiver=alice)
    response = client_for(alice).get(CONVERSATIONS, {"page": 2})
    assert response.status_code == 404
    assert "detail" in response.json()


# --- One conversation ------------------------------------------------------------------------


def test_conversation_shows_both_directions_newest_first_and_nothing_else(client_for, alice, bob, carol):
    alices, bobs = client_for(alice), client_for(bob)
    first = send(alices, "bob", "one")
    send(client_for(carol), "alice", "not in this conversation")
    second = send(bobs, "alice", "two")
    MessageFactory(sender=bob, receiver=carol)
    third = send(alices, "bob", "three")
    response = alices.get(conversation("bob"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert [m["id"] for m in body["results"]] == [third["id"], second["id"], first["id"]]
    assert [m["content"] for m in body["results"]] == ["three", "two", "one"]
    # Bob sees the same conversation from his side.
    assert [m["id"] for m in bobs.get(conversation("alice")).json()["results"]] == [
        third["id"],
        second["id"],
        first["id"],
    ]


def test_conversation_username_ignores_case(client_for, alice, bob):
    message = MessageFactory(sender=bob, receiver=alice)
    response = client_for(alice).get(conversation("BOB"))
    assert [m["id"] for m in response.json()["results"]] == [message.pk]


def test_conversation_with_an_unknown_user_is_404(client_for, alice):
    response = client_for(alice).get(conversation("nobody"))
    assert response.status_code == 404
    assert response.json() == {"detail": "User does not exist."}


def test_conversation_with_someone_i_never_wrote_to_is_empty(client_for, alice, bob):
    response = client_for(alice).get(conversation("bob"))
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_following_next_walks_the_whole_conversation_once(client_for, alice, bob, carol):
    everything = []
    for i in range(23):
        sender, receiver = (alice, bob) if i % 3 else (bob, alice)
        everything.append(MessageFactory(sender=sender, receiver=receiver).pk)
        MessageFactory(sender=carol, receiver=alice)  # noise from another conversation
    ids, pages = walk(client_for(alice), conversation("bob"), {"page_size": 5})
    assert ids == list(reversed(everything))
    assert pages == 5


def test_walking_survives_messages_sent_at_the_same_instant(client_for, alice, bob):
    start = timezone.now() - timedelta(hours=1)
    everything = []
    for i in range(17):
        # Runs of equal timestamps longer than a page, across page boundaries.
        created = start + timedelta(seconds=i // 7)
        everything.append(MessageFactory(sender=bob, receiver=alice, created=created).pk)
    ids, _ = walk(client_for(alice), conversation("bob"), {"page_size": 3})
    assert sorted(ids) == sorted(everything)
    assert len(ids) == len(set(ids))


def test_new_messages_during_a_walk_do_not_repeat_or_skip_older_ones(client_for, alice, bob):
    alices = client_for(alice)
    older = [MessageFactory(sender=bob, receiver=alice).pk for _ in range(10)]
    first = alices.get(conversation("bob"), {"page_size": 4}).json()
    for _ in range(3):
        send(client_for(bob), "alice", "while you scroll")
    ids = [m["id"] for m in first["results"]]
    response = alices.get(first["next"])
    while True:
        body = response.json()
        ids += [m["id"] for m in body["results"]]
        if body["next"] is None:
            break
        response = alices.get(body["next"])
    assert ids == list(reversed(older))


def test_previous_link_returns_to_the_page_before(client_for, alice, bob):
    alices = client_for(alice)
    for _ in range(9):
        MessageFactory(sender=bob, receiver=alice)
    first = alices.get(conversation("bob"), {"page_size": 4}).json()
    second = alices.get(first["next"]).json()
    back = alices.get(second["previous"]).json()
    assert [m["id"] for m in back["results"]] == [m["id"] for m in first["results"]]


def test_conversation_page_size_defaults_to_50_and_is_capped_at_100(client_for, alice, bob):
    for _ in range(120):
        MessageFactory(sender=bob, receiver=alice)
    alices = client_for(alice)
    assert len(alices.get(conversation("bob")).json()["results"]) == 50
    assert len(alices.get(conversation("bob"), {"page_size": 10}).json()["results"]) == 10
    assert len(alices.get(conversation("bob"), {"page_size": 1000}).json()["results"]) == 100


def test_every_conversation_page_costs_the_same_queries(client_for, alice, bob, django_assert_num_queries):
    for _ in range(30):
        MessageFactory(sender=bob, receiver=alice)
    alices = client_for(alice)
    with django_assert_num_queries(6):  # with the receipt event's insert
        first = alices.get(conversation("bob"), {"page_size": 5}).json()
    url = first["next"]
    for _ in range(4):
        # Deeper pages cost what the first did: a cursor, not an offset, one UPDATE, one INSERT.
        with django_assert_num_queries(6):
            body = alices.get(url).json()
        url = body["next"]
    assert url is not None


def test_i_do_not_see_messages_i_deleted_in_a_conversation_but_the_peer_does(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    kept = send(alices, "bob", "kept")
    gone = send(bobs, "alice", "gone")
    assert alices.delete(detail(gone["id"])).status_code == 204
    assert [m["id"] for m in alices.get(conversation("bob")).json()["results"]] == [kept["id"]]
    assert [m["id"] for m in bobs.get(conversation("alice")).json()["results"]] == [gone["id"], kept["id"]]


@pytest.mark.parametrize(
    "querystring", ["p=notadate", "p=2020-13-45", "r=1&p=x", "o=1&p=2020-01-01+25:00:00"]
)
def test_a_forged_cursor_is_404_not_500(client_for, alice, bob, querystring):
    import base64

    MessageFactory(sender=bob, receiver=alice)
    cursor = base64.b64encode(querystring.encode()).decode()
    response = client_for(alice).get(
        reverse("conversation-detail", kwargs={"username": "bob"}), {"cursor": cursor}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}
