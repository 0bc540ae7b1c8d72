"""Safe retries: POST /api/message with an Idempotency-Key stores a message once per key and sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from blocking.tests.factories import BlockFactory
from messageservice.models import IdempotencyKey, Message
from messageservice.tests.helpers import MESSAGES

pytestmark = pytest.mark.django_db

RECEIVED = reverse("message-received")


def post(client, receiver: str = "bob", content: str = "hello", key: str | None = None):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(MESSAGES, {"receiver": receiver, "content": content}, format="json", headers=headers)


def test_retry_with_the_same_key_returns_the_first_message_and_stores_nothing_new(client_for, alice, bob):
    alices = client_for(alice)
    first = post(alices, key="retry-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = post(alices, key="retry-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Message.objects.count() == 1
    assert [m["id"] for m in client_for(bob).get(RECEIVED).json()["results"]] == [first.json()["id"]]


def test_many_retries_still_store_one_message(client_for, alice, bob):
    alices = client_for(alice)
    ids = {post(alices, key="k").json()["id"] for _ in range(5)}
    assert len(ids) == 1
    assert Message.objects.count() == 1


def test_replay_works_from_another_device_of_the_same_sender(client_for, alice, bob):
    first = post(client_for(alice), key="k")
    again = post(client_for(alice), key="k")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_different_keys_store_different_messages(client_for, alice, bob):
    alices = client_for(alice)
    one, two = post(alices, key="one"), post(alices, key="two")
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    assert Message.objects.count() == 2


def test_without_a_key_each_send_is_a_new_message(client_for, alice, bob):
    alices = client_for(alice)
    assert post(alices).json()["id"] != post(alices).json()["id"]
    assert Message.objects.count() == 2


def test_the_receiver_name_may_differ_in_case_on_a_retry(client_for, alice, bob):
    alices = client_for(alice)
    first = post(alices, receiver="bob", key="k")
    again = post(alices, receiver="BOB", key="k")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    "changed",
    [{"receiver": "carol"}, {"content": "something else"}, {"content": "hello "}],
)
def test_same_key_for_a_different_message_is_422_and_stores_nothing(client_for, alice, bob, carol, changed):
    alices = client_for(alice)
    first = post(alices, key="k")
    response = post(alices, **({"receiver": "bob", "content": "hello"} | changed), key="k")
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail"}
    assert "Idempotency-Key" in body["detail"]
    assert list(Message.objects.values_list("id", flat=True)) == [first.json()["id"]]


def test_keys_belong_to_their_sender(client_for, alice, bob, carol):
    from_alice = post(client_for(alice), receiver="carol", key="shared")
    from_bob = post(client_for(bob), receiver="carol", key="shared")
    assert from_bob.status_code == 201
    assert "Idempotent-Replayed" not in from_bob.headers
    assert from_bob.json()["id"] != from_alice.json()["id"]
    assert from_bob.json()["sender"] == "bob"
    assert len(client_for(carol).get(RECEIVED).json()["results"]) == 2


def test_a_key_older_than_24_hours_creates_a_new_message(client_for, alice, bob):
    alices = client_for(alice)
    first = post(alices, key="k").json()
    IdempotencyKey.objects.filter(key="k").update(created=timezone.now() - timedelta(hours=24, seconds=1))
    later = post(alices, key="k")
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert later.json()["id"] != first["id"]
    assert Message.objects.count() == 2
    # The key now stands for the new message.
    again = post(alices, key="k")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == later.json()["id"]


def test_a_key_just_inside_24_hours_still_replays(client_for, alice, bob):
    alices = client_for(alice)
    first = post(alices, key="k").json()
    IdempotencyKey.objects.filter(key="k").update(created=timezone.now() - timedelta(hours=23, minutes=59))
    again = post(alices, key="k")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"]


def test_an_expired_key_may_carry_a_different_message(client_for, alice, bob, carol):
    alices = client_for(alice)
    post(alices, key="k")
    IdempotencyKey.objects.filter(key="k").update(created=timezone.now() - timedelta(days=2))
    response = post(alices, receiver="carol", content="new", key="k")
    assert response.status_code == 201
    assert response.json()["receiver"] == "carol"


def test_replay_works_after_the_receiver_blocked_me(client_for, alice, bob):
    alices = client_for(alice)
    first = post(alices, key="k").json()
    BlockFactory(blocker=bob, blocked=alice)
    again = post(alices, key="k")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"]
    # A new message is still refused.
    assert post(alices, key="other").status_code == 403
    assert Message.objects.count() == 1


def test_replay_works_after_the_receiver_account_was_deactivated(client_for, alice, bob):
    alices = client_for(alice)
    first = post(alices, key="k").json()
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    # The first send succeeded; telling the retrying client otherwise would make it think it failed.
    again = post(alices, key="k")
    assert again.status_code == 201, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"]


def test_a_refused_send_does_not_use_up_its_key(client_for, alice, bob):
    block = BlockFactory(blocker=bob, blocked=alice)
    alices = client_for(alice)
    assert post(alices, key="k").status_code == 403
    block.delete()
    response = post(alices, key="k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert Message.objects.count() == 1


def test_an_invalid_send_does_not_use_up_its_key(client_for, alice, bob):
    alices = client_for(alice)
    assert post(alices, content="", key="k").status_code == 400
    assert post(alices, receiver="nobody", key="k").status_code == 400
    response = post(alices, key="k")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_a_key_of_255_characters_is_accepted(client_for, alice, bob):
    alices = client_for(alice)
    key = "k" * 255
    first = post(alices, key=key)
    assert first.status_code == 201
    assert post(alices, key=key).json()["id"] == first.json()["id"]


@pytest.mark.parametrize("key", ["", "k" * 256, "k" * 5000])
def test_an_empty_or_too_long_key_is_400_and_stores_nothing(client_for, alice, bob, key):
    response = post(client_for(alice), key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Message.objects.exists()
    assert not IdempotencyKey.objects.exists()
