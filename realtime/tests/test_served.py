"""End to end: two real server processes (gunicorn.conf.py) sharing this run's database, and Redis
when the run has one. A socket held by one process gets what is sent through the other.

Also what only a real server shows: slow clients do not hold a worker, a client that never reads
does not grow the server's memory, and a dead socket is closed by the pings.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import websockets
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)
HOST = "127.0.0.1"
PASSWORD = "served test password 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _database_url() -> str:
    s = settings.DATABASES["default"]
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Server:
    def __init__(self, port: int, process: subprocess.Popen, log: Path):
        self.port, self.process, self.log = port, process, log

    @property
    def rss_kib(self) -> int:
        """Resident memory of the server's worker (one worker per server here)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        status = Path(f"/proc/{children[0]}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None, timeout=10):
        import http.client

        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"} | (
            {"Authorization": f"Token {token}"} if token else {}
        )
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, (json.loads(data) if data else None)

    def register(self, name: str) -> str:
        status, body = self.call("POST", "/api/auth/register", {"username": name, "password": PASSWORD})
        assert status == 201, body
        return body["token"]

    def ws_url(self, since: int | None = None) -> str:
        return f"ws://{HOST}:{self.port}/ws/events" + (f"?since={since}" if since is not None else "")


def _start(tmp: Path, name: str) -> Server:
    port = _free_port()
    log = tmp / f"{name}.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LOG_", "EVENT"))},
        "DATABASE_URL": _database_url(),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "THROTTLE_AUTH_RATE": "100000/minute",
        "LOG_LEVEL": "WARNING",
        "EVENTS_PING_SECONDS": "1",
        "EVENTS_SEND_TIMEOUT_SECONDS": "1",
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    process = subprocess.Popen(  # noqa: S603 - our own server with a fixed argument list
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return Server(port, process, log)


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    pair = [_start(tmp, "a"), _start(tmp, "b")]
    try:
        deadline = time.monotonic() + 30
        for server in pair:
            while True:
                try:
                    if server.call("GET", "/api/schema?format=json", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, server.log.read_text()
                time.sleep(0.2)
        yield pair
    finally:
        for server in pair:
            server.process.terminate()
        for server in pair:
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()


def _names(n: int) -> list[str]:
    run = secrets.token_hex(3)
    return [f"u{run}{i}" for i in range(n)]


async def _frames_until(ws, count: int, timeout: float = 20) -> list[dict]:
    frames = []
    async with asyncio.timeout(timeout):
        while len(frames) < count:
            frame = json.loads(await ws.recv())
            if "id" in frame:
                frames.append(frame)
    return frames


def test_a_socket_on_one_process_gets_what_is_sent_through_the_other_once_in_order(servers):
    a, b = servers
    reader, *writers = _names(3)
    reader_token = a.register(reader)
    writer_tokens = [b.register(w) for w in writers]
    per_writer = 12

    def burst(token, via):
        for i in range(per_writer):
            assert via.call("POST", "/api/message", {"receiver": reader, "content": f"{i}"}, token)[0] == 201

    async def scenario():
        async with websockets.connect(
            a.ws_url(), additional_headers={"Authorization": f"Token {reader_token}"}
        ) as ws:
            ready = json.loads(await ws.recv())
            assert ready["type"] == "ready"
            threads = [
                threading.Thread(target=burst, args=(token, via))
                for token, via in zip(writer_tokens, (b, a), strict=True)
            ]
            for t in threads:
                t.start()
            frames = await _frames_until(ws, per_writer * len(writers))
            for t in threads:
                t.join()
            _, page = b.call("GET", "/api/events?since=0&timeout=0", token=reader_token)
            assert [f["id"] for f in frames] == [e["id"] for e in page["events"]]
            assert all(f["type"] == "message.created" for f in frames)
            # Nothing more: every event came exactly once.
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await ws.recv()

    asyncio.run(scenario())


def test_replay_after_reconnect_to_the_other_process(servers):
    a, b = servers
    reader, writer = _names(2)
    reader_token, writer_token = a.register(reader), b.register(writer)

    async def scenario():
        headers = {"Authorization": f"Token {reader_token}"}
        async with websockets.connect(a.ws_url(), additional_headers=headers) as ws:
            since = json.loads(await ws.recv())["next_since"]
        for i in range(3):
            b.call("POST", "/api/message", {"receiver": reader, "content": f"offline {i}"}, writer_token)
        async with websockets.connect(b.ws_url(since), additional_headers=headers) as ws:
            frames = await _frames_until(ws, 3)
            assert [f["data"]["content"] for f in frames] == ["offline 0", "offline 1", "offline 2"]

    asyncio.run(scenario())


def test_logout_through_one_process_closes_the_socket_on_the_other(servers):
    a, b = servers
    (name,) = _names(1)
    token = a.register(name)

    async def scenario():
        async with websockets.connect(
            a.ws_url(), additional_headers={"Authorization": f"Token {token}"}
        ) as ws:
            await ws.recv()
            assert b.call("POST", "/api/auth/logout", token=token)[0] == 204
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(5):
                    while True:
                        await ws.recv()
            assert closed.value.rcvd.code == 4401

    asyncio.run(scenario())


@pytest.mark.skipif(
    not settings.REDIS_URL and "sqlite" in settings.DATABASES["default"]["ENGINE"],
    reason="without Redis on SQLite, typing reaches only the sockets of the same process",
)
def test_typing_crosses_processes(servers):
    a, b = servers
    typist, peer = _names(2)
    typist_token, peer_token = a.register(typist), b.register(peer)

    async def scenario():
        async with (
            websockets.connect(
                b.ws_url(), additional_headers={"Authorization": f"Token {peer_token}"}
            ) as peers,
            websockets.connect(
                a.ws_url(), additional_headers={"Authorization": f"Token {typist_token}"}
            ) as typists,
        ):
            await peers.recv()
            await typists.recv()
            await typists.send(json.dumps({"type": "typing", "to": peer}))
            async with asyncio.timeout(5):
                assert json.loads(await peers.recv()) == {"type": "typing", "from": typist}

    asyncio.run(scenario())


def test_slow_clients_do_not_hold_the_server(servers):
    a, _ = servers
    (name,) = _names(1)
    token = a.register(name)
    slow = []
    for _ in range(6):
        s = socket.create_connection((HOST, a.port))
        s.sendall(b"POST /api/message HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n")
        slow.append(s)
    try:
        stop = time.monotonic() + 3
        while time.monotonic() < stop:
            for s in slow:
                s.sendall(b"X")  # a header trickling in, one byte a second
            started = time.monotonic()
            status, _ = a.call("GET", "/api/message/unread", token=token, timeout=5)
            assert status == 200
            # A server that gave a worker to each slow client would not answer until they finish.
            assert time.monotonic() - started < 5
            time.sleep(1)
    finally:
        for s in slow:
            s.close()


def test_a_client_that_never_reads_does_not_grow_the_servers_memory(servers):
    from accounts.models import User
    from events.models import Event

    a, _ = servers
    reader, other = _names(2)
    reader_token, other_token = a.register(reader), a.register(other)
    # 40 MB of events waiting for that user, far more than any buffer on the way.
    big = "x" * 100_000
    Event.objects.bulk_create(
        [
            Event(user=User.objects.get(username=reader), type="message.deleted", data={"id": i, "pad": big})
            for i in range(400)
        ]
    )
    before = a.rss_kib
    # A raw WebSocket handshake asking for all of them, then never a read, with a small buffer.
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((HOST, a.port))
    s.sendall(
        (
            "GET /ws/events?since=0 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Token {reader_token}\r\n\r\n"
        ).encode()
    )
    try:
        # The server gives up on that client (EVENTS_SEND_TIMEOUT_SECONDS=1 here) ...
        deadline = time.monotonic() + 15
        while "client not reading" not in a.log.read_text():
            assert time.monotonic() < deadline, a.log.read_text()
            time.sleep(0.2)
        # ... having held no more than a batch of them, and it still serves everyone else.
        grown_mib = (a.rss_kib - before) / 1024
        assert grown_mib < 25, grown_mib
        assert a.call("GET", "/api/message/unread", token=other_token)[0] == 200
    finally:
        s.close()


def test_a_dead_socket_is_closed_by_the_pings(servers):
    a, _ = servers
    (name,) = _names(1)
    token = a.register(name)

    s = socket.create_connection((HOST, a.port))
    s.sendall(
        (
            "GET /ws/events HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Token {token}\r\n\r\n"
        ).encode()
    )
    s.settimeout(10)
    received = b""
    started = time.monotonic()
    while chunk := s.recv(65536):  # read everything, answer nothing: pings go unanswered
        received += chunk
    assert b"101 Switching Protocols" in received
    assert time.monotonic() - started < 8
    s.close()


@pytest.mark.parametrize("megabytes", [3, 6])
def test_an_oversized_body_is_a_json_413_whoever_refuses_it(servers, megabytes):
    a, _ = servers
    (name,) = _names(1)
    token = a.register(name)
    status, body = a.call(
        "POST", "/api/message", {"receiver": name, "content": "x" * megabytes * 2**20}, token
    )
    assert status == 413
    assert set(body) == {"detail"}
