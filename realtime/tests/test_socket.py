"""/ws/events through Channels' WebsocketCommunicator: auth, replay, live events, typing, close codes."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from channels.testing.websocket import WebsocketCommunicator

from blocking.services import block_create, block_delete
from events import notify
from events.models import Event
from events.services import events_purge
from messageservice.services import message_delete, message_mark_delivered, message_mark_read, message_send
from oms.asgi import application
from realtime.tests.conftest import in_thread

pytestmark = pytest.mark.django_db(transaction=True)


def socket(token: str | None = None, since: int | None = None) -> WebsocketCommunicator:
    path = "/ws/events" + (f"?since={since}" if since is not None else "")
    headers = [(b"authorization", f"Token {token}".encode())] if token else []
    return WebsocketCommunicator(application, path, headers=headers)


async def receive(ws: WebsocketCommunicator, timeout: float = 5) -> dict:
    return await ws.receive_json_from(timeout=timeout)


async def closed_with(ws: WebsocketCommunicator, timeout: float = 5) -> int:
    """The close code the server sent, skipping any frames before it."""
    while True:
        message = await ws.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return message["code"]


async def events_until_ready(ws) -> list[dict]:
    frames = []
    while (frame := await receive(ws))["type"] != "ready":
        frames.append(frame)
    return [*frames, frame]


def send(sender, to, content="hi"):
    return in_thread(message_send)(sender=sender, receiver_username=to, content=content)


def test_header_auth_replays_after_since_then_pushes_live(run, alice, bob, token_for):
    first, _ = message_send(sender=alice, receiver_username="bob", content="before")
    _second, _ = message_send(sender=alice, receiver_username="bob", content="also before")
    since = Event.objects.filter(user=bob, data__id=first.pk).get().pk

    async def scenario():
        ws = socket(token_for(bob), since=since)
        assert (await ws.connect())[0]
        replay = await events_until_ready(ws)
        assert [f["data"]["content"] for f in replay[:-1]] == ["also before"]
        assert replay[-1] == {"type": "ready", "next_since": replay[0]["id"]}
        await send(alice, "bob", "live")
        live = await receive(ws)
        assert (live["type"], live["data"]["content"]) == ("message.created", "live")
        assert live["id"] > replay[0]["id"]
        await ws.disconnect()

    run(scenario())


def test_browser_auth_frame_with_since_replays_everything(run, alice, bob, token_for):
    for i in range(3):
        message_send(sender=alice, receiver_username="bob", content=f"m{i}")

    async def scenario():
        ws = socket()
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "auth", "token": token_for(bob), "since": 0})
        frames = await events_until_ready(ws)
        assert [f["data"]["content"] for f in frames[:-1]] == ["m0", "m1", "m2"]
        await ws.disconnect()

    run(scenario())


def test_without_since_only_new_events_come_and_ready_names_the_newest_id(run, alice, bob, token_for):
    message_send(sender=alice, receiver_username="bob", content="old")
    newest = Event.objects.filter(user=bob).latest("id").pk

    async def scenario():
        ws = socket(token_for(bob))
        await ws.connect()
        assert await receive(ws) == {"type": "ready", "next_since": newest}
        await send(alice, "bob", "new")
        assert (await receive(ws))["data"]["content"] == "new"
        await ws.disconnect()

    run(scenario())


def test_every_event_type_arrives_live(run, alice, bob, token_for):
    async def scenario():
        alices, bobs = socket(token_for(alice)), socket(token_for(bob))
        await alices.connect()
        await bobs.connect()
        await receive(alices)
        await receive(bobs)
        message, _ = await send(alice, "bob", "hello")
        assert (await receive(alices))["type"] == "message.created"
        assert (await receive(bobs))["type"] == "message.created"
        await in_thread(message_mark_delivered)(user=bob, messages=[message])
        delivered = await receive(alices)
        assert (delivered["type"], delivered["data"]["ids"]) == ("message.delivered", [message.pk])
        await in_thread(message_mark_read)(user=bob, ids=[message.pk])
        assert (await receive(alices))["type"] == "message.read"
        assert (await receive(bobs))["data"]["ids"] == [message.pk]
        await in_thread(message_delete)(user=bob, message_id=message.pk)
        assert await receive(bobs) == {**(await _last(bob)), "type": "message.deleted"}
        await in_thread(block_create)(blocker=bob, blocked_username="alice")
        assert (await receive(bobs))["data"]["blocked"] == "alice"
        await in_thread(block_delete)(blocker=bob, blocked_username="alice")
        assert (await receive(bobs)) == {**(await _last(bob)), "type": "block.deleted"}
        assert await alices.receive_nothing(timeout=0.3)  # alice is told of none of bob's own changes
        await alices.disconnect()
        await bobs.disconnect()

    run(scenario())


async def _last(user) -> dict:
    from events.serializers import event_frame

    event = await in_thread(lambda: Event.objects.filter(user=user).latest("id"))()
    return event_frame(event)


def test_concurrent_sends_arrive_exactly_once_and_in_id_order(run, alice, bob, carol, token_for):
    senders = [alice, carol]

    def burst(sender):
        for i in range(15):
            message_send(sender=sender, receiver_username="bob", content=f"{sender.username}{i}")

    async def scenario():
        ws = socket(token_for(bob), since=0)
        await ws.connect()
        await receive(ws)
        threads = [threading.Thread(target=burst, args=(s,)) for s in senders]
        for t in threads:
            t.start()
        received = [await receive(ws, timeout=10) for _ in range(30)]
        for t in threads:
            t.join()
        stored = await in_thread(
            lambda: list(Event.objects.filter(user=bob).order_by("id").values_list("id", flat=True))
        )()
        assert [f["id"] for f in received] == stored
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    run(scenario(), timeout=60)


def test_lost_wakeups_cost_latency_not_events(run, alice, bob, token_for, settings):
    settings.EVENTS_PING_SECONDS = 0.5

    async def scenario():
        ws = socket(token_for(bob))
        await ws.connect()
        await receive(ws)
        notify.hub().drop_wakeups = True  # every wake-up of this process is lost from now on
        await send(alice, "bob", "nobody woke me")
        frame = await receive(ws, timeout=3)
        assert frame["data"]["content"] == "nobody woke me"
        await ws.disconnect()

    run(scenario())


@pytest.mark.parametrize("token", [None, "not-a-token", "x" * 64])
def test_bad_or_missing_header_token_closes_4401(run, alice, token):
    async def scenario():
        ws = WebsocketCommunicator(
            application,
            "/ws/events",
            headers=[(b"authorization", f"Token {token}".encode())] if token else [],
        )
        await ws.connect()
        if token is None:
            await ws.send_json_to({"type": "auth", "token": "wrong"})
        assert await closed_with(ws) == 4401

    run(scenario())


def test_no_auth_frame_in_time_closes_4401(run, settings):
    settings.EVENTS_AUTH_TIMEOUT_SECONDS = 0.2

    async def scenario():
        ws = socket()
        await ws.connect()
        assert await closed_with(ws, timeout=3) == 4401

    run(scenario())


@pytest.mark.parametrize(
    "first",
    [
        "not json",
        json.dumps([1]),
        json.dumps({"type": "typing", "to": "bob"}),
        json.dumps({"type": "auth", "token": "t", "since": -1}),
    ],
)
def test_protocol_errors_close_4400(run, first):
    async def scenario():
        ws = socket()
        await ws.connect()
        await ws.send_to(text_data=first)
        assert await closed_with(ws) == 4400

    run(scenario())


def test_expired_token_closes_4401(run, alice, token_for):
    from django.utils import timezone
    from knox.models import AuthToken

    token = token_for(alice)
    AuthToken.objects.update(expiry=timezone.now() - timezone.timedelta(seconds=1))

    async def scenario():
        ws = socket(token)
        await ws.connect()
        assert await closed_with(ws) == 4401

    run(scenario())


def test_logout_closes_that_tokens_sockets_at_once_and_only_those(run, alice, token_for, client_for):
    from rest_framework.test import APIClient

    kept, dropped = token_for(alice), token_for(alice)

    def logout():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {dropped}")
        assert client.post("/api/auth/logout").status_code == 204

    async def scenario():
        keep, drop = socket(kept), socket(dropped)
        await keep.connect()
        await drop.connect()
        await receive(keep)
        await receive(drop)
        await in_thread(logout)()
        assert await closed_with(drop, timeout=2) == 4401
        await send(alice, "alice", "still here")
        assert (await receive(keep))["type"] == "message.created"
        await keep.disconnect()

    run(scenario())


def test_a_since_older_than_the_kept_log_closes_4410_with_a_resync_frame(run, alice, bob, token_for):
    from datetime import timedelta

    from django.utils import timezone

    message_send(sender=alice, receiver_username="bob", content="old")
    Event.objects.update(created=timezone.now() - timedelta(days=30))
    events_purge()

    async def scenario():
        ws = socket(token_for(bob), since=0)
        await ws.connect()
        assert (await receive(ws))["code"] == "resync_required"
        assert await closed_with(ws) == 4410

    run(scenario())


def test_typing_reaches_the_peer_rate_limited_and_never_across_a_block(run, alice, bob, carol, token_for):
    from blocking.tests.factories import BlockFactory

    BlockFactory(blocker=carol, blocked=alice)

    async def scenario():
        alices, bobs, carols = socket(token_for(alice)), socket(token_for(bob)), socket(token_for(carol))
        for ws in (alices, bobs, carols):
            await ws.connect()
            await receive(ws)
        await alices.send_json_to({"type": "typing", "to": "BOB"})
        assert await receive(bobs) == {"type": "typing", "from": "alice"}
        await alices.send_json_to({"type": "typing", "to": "bob"})  # within 2 s: not passed on
        await alices.send_json_to({"type": "typing", "to": "carol"})  # carol blocks alice
        await carols.send_json_to({"type": "typing", "to": "alice"})  # ... so not this way either
        await alices.send_json_to({"type": "typing", "to": "nobody"})
        assert await bobs.receive_nothing(timeout=0.5)
        assert await carols.receive_nothing(timeout=0.2)
        assert await alices.receive_nothing(timeout=0.2)
        assert not await in_thread(Event.objects.exists)()  # never stored
        for ws in (alices, bobs, carols):
            await ws.disconnect()

    run(scenario())


def test_app_level_ping_and_unknown_frames_are_answered(run, alice, token_for):
    async def scenario():
        ws = socket(token_for(alice))
        await ws.connect()
        await receive(ws)
        await ws.send_json_to({"type": "ping"})
        assert await receive(ws) == {"type": "pong"}
        await ws.send_json_to({"type": "dance"})
        assert (await receive(ws))["type"] == "error"
        await ws.disconnect()

    run(scenario())


def test_other_socket_paths_are_refused(run):
    async def scenario():
        ws = WebsocketCommunicator(application, "/ws/other")
        connected, _ = await ws.connect()
        assert not connected

    run(scenario())


def _transports() -> list[str]:
    from django.conf import settings as django_settings

    found = ["sqlite"] if django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else ["postgres"]
    return found + (["redis"] if django_settings.REDIS_URL else [])


@pytest.mark.parametrize("transport", _transports())
def test_a_wakeup_crosses_each_transport_without_the_in_process_shortcut(
    run, alice, bob, token_for, settings, monkeypatch, transport
):
    # As if the send were handled by another process: only the transport can wake the socket,
    # and the periodic re-read is too far away to hide a transport that does not work.
    settings.EVENTS_TRANSPORT = transport
    settings.EVENTS_PING_SECONDS = 30
    monkeypatch.setattr(notify, "_wake_local", lambda message: None)

    async def scenario():
        ws = socket(token_for(bob))
        await ws.connect()
        await receive(ws)
        await asyncio.sleep(0.3)  # the hub's listener is up
        await send(alice, "bob", f"via {transport}")
        assert (await receive(ws, timeout=3))["data"]["content"] == f"via {transport}"
        await ws.disconnect()

    run(scenario())
