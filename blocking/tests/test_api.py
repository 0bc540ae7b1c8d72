"""Blocking and unblocking over HTTP, and what a block does to sending messages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from blocking.models import Block
from blocking.tests.factories import BlockFactory
from messageservice.models import Message

pytestmark = pytest.mark.django_db

BLOCKS = reverse("block-list")
MESSAGES = reverse("message-list")


def unblock(username: str) -> str:
    return reverse("block-delete", kwargs={"username": username})


def send(client, receiver: str, content: str = "hi"):
    return client.post(MESSAGES, {"receiver": receiver, "content": content}, format="json")


def test_public_paths_are_the_documented_ones():
    assert BLOCKS == "/api/block"
    assert unblock("bob") == "/api/block/bob"


def test_block_answers_201_with_the_block(client_for, alice, bob):
    response = client_for(alice).post(BLOCKS, {"blocked": "bob"}, format="json")
    assert response.status_code == 201
    block = Block.objects.get()
    body = response.json()
    assert body == {"id": block.id, "blocked": "bob", "created": body["created"]}
    assert dt.datetime.fromisoformat(body["created"]) == block.created
    assert (block.blocker, block.blocked) == (alice, bob)


def test_blocker_in_the_body_is_ignored(client_for, alice, bob, carol):
    client_for(alice).post(BLOCKS, {"blocked": "bob", "blocker": "carol"}, format="json")
    assert Block.objects.get().blocker == alice


def test_block_accepts_form_encoded_bodies(client_for, alice, bob):
    response = client_for(alice).post(BLOCKS, "blocked=bob", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()


@pytest.mark.parametrize("name", ["BOB", "Bob", "bOb"])
def test_blocking_is_case_insensitive(client_for, alice, bob, name):
    response = client_for(alice).post(BLOCKS, {"blocked": name}, format="json")
    assert response.status_code == 201
    assert response.json()["blocked"] == "bob"
    assert Block.objects.get().blocked == bob
    assert send(client_for(bob), "alice").status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"blocked": ""}, "This field may not be blank."),
        ({"blocked": "nobody"}, "User does not exist."),
        ({"blocked": "alice"}, "You cannot block yourself."),
        ({"blocked": "ALICE"}, "You cannot block yourself."),
        ({"blocked": "x" * 151}, "Ensure this field has no more than 150 characters."),
    ],
)
def test_bad_block_is_400_naming_the_blocked_field(client_for, alice, body, message):
    response = client_for(alice).post(BLOCKS, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"blocked": [message]}
    assert not Block.objects.exists()


@pytest.mark.parametrize("value", [42, 4.2, True, None, ["bob"], {"username": "bob"}])
def test_blocked_that_is_not_a_string_is_400(client_for, alice, bob, value):
    response = client_for(alice).post(BLOCKS, {"blocked": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["blocked"]
    assert not Block.objects.exists()


def test_a_numeric_username_is_not_matched_by_a_json_number(client_for, alice):
    UserFactory(username="1234")
    response = client_for(alice).post(BLOCKS, {"blocked": 1234}, format="json")
    assert response.status_code == 400
    assert response.json() == {"blocked": ["Must be a string."]}


@pytest.mark.parametrize("again", ["bob", "BOB"])
def test_blocking_twice_is_400_and_keeps_one_block(client_for, alice, bob, again):
    client = client_for(alice)
    assert client.post(BLOCKS, {"blocked": "bob"}, format="json").status_code == 201
    response = client.post(BLOCKS, {"blocked": again}, format="json")
    assert response.status_code == 400
    assert response.json() == {"blocked": ["You already block bob."]}
    assert Block.objects.count() == 1


def test_an_inactive_user_cannot_be_blocked(client_for, alice, bob):
    bob.is_active = False
    bob.save()
    response = client_for(alice).post(BLOCKS, {"blocked": "bob"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"blocked": ["User does not exist."]}


def test_blocking_is_one_way_each_side_may_block_the_other(client_for, alice, bob):
    assert client_for(alice).post(BLOCKS, {"blocked": "bob"}, format="json").status_code == 201
    assert client_for(bob).post(BLOCKS, {"blocked": "alice"}, format="json").status_code == 201
    assert Block.objects.count() == 2


def test_blocked_sender_gets_403_and_nothing_is_stored(client_for, alice, bob):
    client_for(alice).post(BLOCKS, {"blocked": "bob"}, format="json")
    response = send(client_for(bob), "alice")
    assert response.status_code == 403
    assert response.json() == {"detail": "You are blocked by alice"}
    assert not Message.objects.exists()


def test_blocked_sender_is_refused_whatever_case_the_receiver_is_written_in(client_for, alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    response = send(client_for(bob), "ALICE")
    assert response.status_code == 403
    assert response.json() == {"detail": "You are blocked by alice"}
    assert not Message.objects.exists()


def test_block_refuses_only_messages_to_the_blocker(client_for, alice, bob, carol):
    BlockFactory(blocker=alice, blocked=bob)
    response = send(client_for(bob), "carol")
    assert response.status_code == 201
    assert Message.objects.get().receiver == carol


def test_other_users_can_still_message_the_blocker(client_for, alice, bob, carol):
    BlockFactory(blocker=alice, blocked=bob)
    assert send(client_for(carol), "alice").status_code == 201


def test_blocker_can_still_message_the_blocked_user(client_for, alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    response = send(client_for(alice), "bob", "you are blocked, but read this")
    assert response.status_code == 201
    assert Message.objects.get().sender == alice


def test_messages_sent_before_the_block_stay_in_the_inbox(client_for, alice, bob):
    send(client_for(bob), "alice", "before the block")
    client = client_for(alice)
    client.post(BLOCKS, {"blocked": "bob"}, format="json")
    results = client.get(MESSAGES).json()["results"]
    assert [m["content"] for m in results] == ["before the block"]


def test_list_shows_only_blocks_i_made_newest_first(client_for, alice, bob, carol):
    now = timezone.now()
    dave = UserFactory(username="dave")
    older = BlockFactory(blocker=alice, blocked=bob, created=now - dt.timedelta(hours=2))
    newer = BlockFactory(blocker=alice, blocked=carol, created=now - dt.timedelta(hours=1))
    BlockFactory(blocker=bob, blocked=alice)  # made by someone else, about me
    BlockFactory(blocker=carol, blocked=dave)  # nothing to do with me
    response = client_for(alice).get(BLOCKS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(b["id"], b["blocked"]) for b in body["results"]] == [(newer.id, "carol"), (older.id, "bob")]
    assert set(body["results"][0]) == {"id", "blocked", "created"}


def test_blocks_made_at_the_same_instant_are_ordered_by_id(client_for, alice, bob, carol):
    moment = timezone.now()
    first = BlockFactory(blocker=alice, blocked=bob, created=moment)
    second = BlockFactory(blocker=alice, blocked=carol, created=moment)
    results = client_for(alice).get(BLOCKS).json()["results"]
    assert [b["id"] for b in results] == [second.id, first.id]


def test_block_list_is_empty_for_someone_who_blocks_nobody(client_for, alice):
    assert client_for(alice).get(BLOCKS).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_block_list_pages_hold_20_and_a_page_past_the_end_is_404(client_for, alice):
    BlockFactory.create_batch(45, blocker=alice)
    client = client_for(alice)
    first = client.get(BLOCKS).json()
    third = client.get(BLOCKS, {"page": 3}).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 45
    assert len(first["results"]) == 20
    assert first["previous"] is None and "page=2" in first["next"]
    assert len(third["results"]) == 5 and third["next"] is None and third["previous"]
    seen = [b["id"] for page in (1, 2, 3) for b in client.get(BLOCKS, {"page": page}).json()["results"]]
    assert sorted(seen) == sorted(Block.objects.values_list("id", flat=True))
    past = client.get(BLOCKS, {"page": 4})
    assert past.status_code == 404
    assert "detail" in past.json()


def test_block_list_query_count_does_not_grow_with_the_page(client_for, alice, django_assert_max_num_queries):
    BlockFactory.create_batch(20, blocker=alice)
    client = client_for(alice)
    # token lookup + token cleanup, count, page (with the blocked users joined).
    with django_assert_max_num_queries(4):
        response = client.get(BLOCKS)
    assert len(response.json()["results"]) == 20


def test_unblock_is_204_and_that_user_can_message_me_again(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    alices.post(BLOCKS, {"blocked": "bob"}, format="json")
    assert send(bobs, "alice").status_code == 403
    response = alices.delete(unblock("bob"))
    assert response.status_code == 204
    assert not response.content
    assert not Block.objects.exists()
    assert send(bobs, "alice").status_code == 201
    assert alices.get(BLOCKS).json()["count"] == 0


def test_unblock_is_case_insensitive(client_for, alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    assert client_for(alice).delete(unblock("BoB")).status_code == 204
    assert not Block.objects.exists()


def test_unblock_removes_only_my_block_of_that_user(client_for, alice, bob, carol):
    BlockFactory(blocker=alice, blocked=bob)
    BlockFactory(blocker=alice, blocked=carol)
    BlockFactory(blocker=carol, blocked=bob)
    client_for(alice).delete(unblock("bob"))
    remaining = set(Block.objects.values_list("blocker__username", "blocked__username"))
    assert remaining == {("alice", "carol"), ("carol", "bob")}


def test_unblocking_twice_is_404_the_second_time(client_for, alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    client = client_for(alice)
    assert client.delete(unblock("bob")).status_code == 204
    response = client.delete(unblock("bob"))
    assert response.status_code == 404
    assert response.json() == {"detail": "You do not block bob."}


def test_unblocking_someone_i_do_not_block_is_404(client_for, alice, bob, carol):
    BlockFactory(blocker=carol, blocked=bob)  # someone else's block is not mine to remove
    response = client_for(alice).delete(unblock("bob"))
    assert response.status_code == 404
    assert response.json() == {"detail": "You do not block bob."}
    assert Block.objects.count() == 1


def test_unblocking_an_unknown_user_is_404(client_for, alice):
    response = client_for(alice).delete(unblock("nobody"))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "You do not block nobody."}


def test_a_blocked_user_who_was_deactivated_can_still_be_unblocked(client_for, alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    bob.is_active = False
    bob.save()
    client = client_for(alice)
    assert [b["blocked"] for b in client.get(BLOCKS).json()["results"]] == ["bob"]
    response = client.delete(unblock("bob"))
    assert response.status_code == 204
    assert not Block.objects.exists()


def test_trailing_slash_is_accepted_without_redirect(client_for, alice, bob, carol):
    client = client_for(alice)
    assert client.post(BLOCKS + "/", {"blocked": "bob"}, format="json").status_code == 201
    assert client.post(BLOCKS, {"blocked": "carol"}, format="json").status_code == 201
    listed = client.get(BLOCKS + "/")
    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert client.delete(unblock("bob") + "/").status_code == 204
    assert client.delete(unblock("carol")).status_code == 204
    assert not Block.objects.exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", BLOCKS), ("post", BLOCKS), ("get", BLOCKS + "/"), ("delete", unblock("bob"))],
)
def test_blocking_needs_a_token(api_client, bob, method, url):
    response = getattr(api_client, method)(url, {"blocked": "bob"}, format="json")
    assert response.status_code == 401
    assert "detail" in response.json()
    assert not Block.objects.exists()


def test_an_unblock_without_a_token_removes_nothing(api_client, alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    assert api_client.delete(unblock("bob")).status_code == 401
    assert Block.objects.count() == 1
