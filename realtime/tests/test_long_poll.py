"""GET /api/events: the async long-poll served under ASGI, and the same path through Django's views."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from channels.testing.http import HttpCommunicator
from django.utils import timezone

from events.models import Event
from events.services import events_purge
from messageservice.services import message_send
from oms.asgi import application
from realtime.tests.conftest import in_thread

pytestmark = pytest.mark.django_db(transaction=True)


async def poll(query: str, token: str | None = None, method: str = "GET", host: bytes = b"localhost"):
    headers = [(b"host", host)] + ([(b"authorization", f"Token {token}".encode())] if token else [])
    communicator = HttpCommunicator(
        application, method, f"/api/events?{query}" if query else "/api/events", headers=headers
    )
    response = await communicator.get_response(timeout=70)
    body = json.loads(response["body"]) if response["body"] else None
    return response["status"], body, dict(response["headers"])


def test_events_after_since_come_at_once_oldest_first(run, alice, bob, token_for):
    for i in range(3):
        message_send(sender=alice, receiver_username="bob", content=f"m{i}")
    token = token_for(bob)

    async def scenario():
        started = time.monotonic()
        status, body, headers = await poll("since=0&timeout=30", token)
        assert time.monotonic() - started < 5
        assert status == 200
        assert [e["data"]["content"] for e in body["events"]] == ["m0", "m1", "m2"]
        assert body["next_since"] == body["events"][-1]["id"]
        assert headers[b"cache-control"] == b"no-store"
        status, body, _ = await poll(f"since={body['next_since']}&timeout=0", token)
        assert body == {"events": [], "next_since": body["next_since"]}

    run(scenario())


def test_a_waiting_poll_answers_as_soon_as_an_event_arrives(run, alice, bob, token_for):
    token = token_for(bob)

    async def later():
        await asyncio.sleep(0.5)
        await in_thread(message_send)(sender=alice, receiver_username="bob", content="now")

    async def scenario():
        started = time.monotonic()
        (status, body, _), _ = await asyncio.gather(poll("timeout=20", token), later())
        assert status == 200
        assert [e["data"]["content"] for e in body["events"]] == ["now"]
        assert time.monotonic() - started < 10

    run(scenario())


def test_an_empty_answer_at_the_end_of_the_timeout(run, bob, token_for):
    token = token_for(bob)

    async def scenario():
        started = time.monotonic()
        status, body, _ = await poll("since=0&timeout=1", token)
        assert (status, body) == (200, {"events": [], "next_since": 0})
        assert time.monotonic() - started >= 1

    run(scenario())


@pytest.mark.parametrize(
    ("query", "field"),
    [("since=-1", "since"), ("since=x", "since"), ("timeout=61", "timeout"), ("timeout=a", "timeout")],
)
def test_bad_parameters_are_400_naming_the_field(run, bob, token_for, query, field):
    token = token_for(bob)

    async def scenario():
        status, body, _ = await poll(query, token)
        assert status == 400
        assert field in body

    run(scenario())


@pytest.mark.parametrize("token", [None, "wrong"])
def test_without_a_valid_token_it_is_401(run, db, token):
    async def scenario():
        status, body, headers = await poll("since=0", token)
        assert status == 401
        assert set(body) == {"detail"}
        assert headers[b"www-authenticate"] == b"Token"

    run(scenario())


def test_a_since_older_than_the_kept_log_is_410_with_a_code(run, alice, bob, token_for):
    message_send(sender=alice, receiver_username="bob", content="old")
    Event.objects.update(created=timezone.now() - timedelta(days=30))
    events_purge()
    token = token_for(bob)

    async def scenario():
        status, body, _ = await poll("since=0&timeout=0", token)
        assert status == 410
        assert body["code"] == "resync_required"
        status, body, _ = await poll("timeout=0", token)  # without since: what comes next
        assert status == 200

    run(scenario())


def test_other_methods_and_unknown_hosts_are_refused(run, bob, token_for):
    token = token_for(bob)

    async def scenario():
        assert (await poll("", token, method="POST"))[0] == 405
        assert (await poll("", token, host=b"evil.example.com"))[0] == 400

    run(scenario())


def test_through_djangos_views_the_same_path_answers_without_waiting(client_for, alice, bob):
    message_send(sender=alice, receiver_username="bob", content="hi")
    bobs = client_for(bob)
    body = bobs.get("/api/events", {"since": 0, "timeout": 60}).json()
    assert [e["type"] for e in body["events"]] == ["message.created"]
    assert bobs.get("/api/events", {"since": body["next_since"]}).json()["events"] == []
    assert bobs.get("/api/events", {"since": "x"}).status_code == 400
    alices_newest = Event.objects.filter(user=alice).latest("id").pk
    assert client_for(alice).get("/api/events").json() == {"events": [], "next_since": alices_newest}
    Event.objects.update(created=timezone.now() - timedelta(days=30))
    events_purge()
    assert bobs.get("/api/events", {"since": 0}).json()["code"] == "resync_required"
