"""The HTTP API under `oms.asgi`, as `make run` serves it: the event loop reads a request whole,
Django answers it on one of the worker's threads, and the whole answer goes back."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.testing import ApplicationCommunicator

from accounts.models import User
from oms.asgi import application
from realtime.tests.conftest import in_thread

pytestmark = pytest.mark.django_db(transaction=True)

REGISTER = b'{"username": "carol", "password": "a-long-enough-password-1"}'


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def register(pieces: list[dict]) -> ApplicationCommunicator:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(REGISTER)).encode())]
    communicator = ApplicationCommunicator(application, http_scope("POST", "/api/auth/register", headers))
    for piece in pieces:
        await communicator.send_input(piece)
    return communicator


def test_a_body_sent_in_pieces_reaches_django_whole_and_the_answer_comes_back_whole():
    third = len(REGISTER) // 3
    pieces = [
        {"type": "http.request", "body": REGISTER[:third], "more_body": True},
        {"type": "http.request", "body": REGISTER[third : 2 * third], "more_body": True},
        {"type": "http.request", "body": REGISTER[2 * third :], "more_body": False},
    ]

    async def go():
        communicator = await register(pieces)
        start = await communicator.receive_output(10)
        body = await communicator.receive_output(10)
        return start, body

    start, body = run(go())
    assert start["type"] == "http.response.start"
    assert start["status"] == 201
    assert (b"content-type", b"application/json") in start["headers"]
    assert body.get("more_body", False) is False
    answer = json.loads(body["body"])
    assert answer["user"]["username"] == "carol"
    assert answer["token"]
    assert run(in_thread(User.objects.filter(username="carol").exists)())


def test_a_client_that_leaves_before_its_body_is_complete_changes_nothing_and_gets_no_answer():
    pieces = [
        {"type": "http.request", "body": REGISTER[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def go():
        communicator = await register(pieces)
        await communicator.wait(10)  # the application returns without answering
        return await communicator.receive_nothing()

    assert run(go()) is True
    assert not run(in_thread(User.objects.filter(username="carol").exists)())
