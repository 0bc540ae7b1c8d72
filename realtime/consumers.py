"""The WebSocket at /ws/events and the long-poll at /api/events: async end to end.

Both wait on the process's event hub (events.notify) and read the event log through a small
thread pool of their own, so a waiting client holds no thread, and a burst of wake-ups never
queues behind the request threads of the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host

from events import notify
from events.selectors import REPLAY_BATCH, event_latest_id, event_list_after, event_since_is_kept
from events.serializers import EventQuerySerializer, event_frame
from oms.middleware import printable
from realtime.selectors import token_is_live, token_owner, typing_peer

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("oms.access")

# Close codes of /ws/events (documented in the README).
CLOSE_PROTOCOL_ERROR = 4400  # a frame that is not JSON, or an unknown first frame, or a bad since
CLOSE_UNAUTHORIZED = 4401  # no token, an invalid, expired or revoked one, or no auth frame in time
CLOSE_RESYNC = 4410  # `since` is older than the kept log: resynchronise from the lists
CLOSE_TOO_SLOW = 4429  # the client did not read what was sent to it in time

RESYNC_DETAIL = "Events after this id are no longer kept; resynchronise from the lists."
# A socket shows at most one typing indicator per peer in this many seconds.
TYPING_INTERVAL = 2.0
NO_CHANNEL_LAYER = "events-none"  # consumers talk to the hub, not to a channel of their own

_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="oms-events-db")


def _in_pool(function):
    def call(**kwargs):
        close_old_connections()
        try:
            return function(**kwargs)
        finally:
            close_old_connections()

    return sync_to_async(call, thread_sensitive=False, executor=_executor)


latest_id = _in_pool(event_latest_id)
list_after = _in_pool(event_list_after)
since_is_kept = _in_pool(event_since_is_kept)
owner_of = _in_pool(token_owner)
token_live = _in_pool(token_is_live)
peer_for_typing = _in_pool(typing_peer)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _token_from_header(value: str | None) -> str | None:
    if value is None:
        return None
    scheme, _, key = value.strip().partition(" ")
    return key.strip() if scheme.lower() == "token" and key.strip() else ""


def _parse_since(raw) -> tuple[bool, int | None]:
    """(valid, since): since is optional; when given it is an id, 0 or more."""
    if raw is None:
        return True, None
    serializer = EventQuerySerializer(data={"since": raw})
    if not serializer.is_valid():
        return False, None
    return True, serializer.validated_data.get("since")


class EventStreamConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = NO_CHANNEL_LAYER

    async def connect(self):
        self.user = None
        self.digest = None
        self.waiter = None
        self.pusher: asyncio.Task | None = None
        self.closing = False
        self.typing_sent: dict[int, float] = {}
        await self.accept()
        header = _header(self.scope, b"authorization")
        key = _token_from_header(header)
        if key is not None:
            query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
            valid, since = _parse_since(query.get("since", [None])[0])
            if not valid:
                await self._close(CLOSE_PROTOCOL_ERROR)
                return
            await self._authenticate(key, since)
        else:
            self.auth_deadline = asyncio.get_running_loop().call_later(
                settings.EVENTS_AUTH_TIMEOUT_SECONDS, lambda: asyncio.ensure_future(self._auth_timeout())
            )

    async def _auth_timeout(self):
        if self.user is None and not self.closing:
            await self._close(CLOSE_UNAUTHORIZED)

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        try:
            frame = json.loads(text_data if text_data is not None else bytes_data)
        except (TypeError, ValueError):
            frame = None
        if not isinstance(frame, dict):
            await self._close(CLOSE_PROTOCOL_ERROR)
            return
        kind = frame.get("type")
        if self.user is None:
            if kind != "auth":
                await self._close(CLOSE_PROTOCOL_ERROR)
                return
            if getattr(self, "auth_deadline", None) is not None:
                self.auth_deadline.cancel()
            token = frame.get("token")
            valid, since = _parse_since(frame.get("since"))
            if not valid:
                await self._close(CLOSE_PROTOCOL_ERROR)
                return
            await self._authenticate(token if isinstance(token, str) else "", since)
        elif kind == "typing":
            await self._typing(frame.get("to"))
        elif kind == "ping":
            await self._send_frame({"type": "pong"})
        else:
            await self._send_frame({"type": "error", "detail": "Unknown frame type."})

    async def _authenticate(self, key: str, since: int | None) -> None:
        found = await owner_of(key=key) if key else None
        if found is None:
            await self._close(CLOSE_UNAUTHORIZED)
            return
        self.user, self.digest = found
        if since is not None and not await since_is_kept(since=since):
            await self._send_frame({"type": "error", "code": "resync_required", "detail": RESYNC_DETAIL})
            await self._close(CLOSE_RESYNC)
            return
        self.waiter = await notify.hub().add(self.user.pk, self.digest)
        if since is None:
            since = await latest_id(user_id=self.user.pk)
        self.waiter.last_id = since
        self.pusher = asyncio.create_task(self._push(since))

    async def _push(self, last: int) -> None:
        """Replay everything after `last`, then push what comes, each event once and in id order."""
        ready = False
        try:
            while not self.closing:
                events = await list_after(user_id=self.user.pk, since=last)
                for event in events:
                    if not await self._send_frame(event_frame(event)):
                        return
                    last = self.waiter.last_id = event.pk
                if len(events) == REPLAY_BATCH:
                    continue
                if not ready:
                    ready = True
                    if not await self._send_frame({"type": "ready", "next_since": last}):
                        return
                while self.waiter.ephemeral:
                    if not await self._send_frame(self.waiter.ephemeral.popleft()):
                        return
                # Woken by a change, a typing indicator, a logout, or the hub's periodic sweep.
                await self.waiter.woken.wait()
                self.waiter.woken.clear()
                if self.waiter.recheck_auth:
                    self.waiter.recheck_auth = False
                    if not await token_live(digest=self.digest):
                        await self._close(CLOSE_UNAUTHORIZED)
                        return
        except Exception:
            logger.exception("event stream failed user=%s", self.user.username)
            await self._close(1011)

    async def _send_frame(self, frame: dict) -> bool:
        """Send one frame; a client that does not take it within EVENTS_SEND_TIMEOUT_SECONDS is dropped."""
        try:
            await asyncio.wait_for(
                self.send(text_data=json.dumps(frame)), settings.EVENTS_SEND_TIMEOUT_SECONDS
            )
        except TimeoutError:
            logger.warning(
                "event stream closed, client not reading user=%s", self.user.username if self.user else "-"
            )
            await self._close(CLOSE_TOO_SLOW)
            return False
        return True

    async def _typing(self, to) -> None:
        if not isinstance(to, str) or not to:
            await self._send_frame({"type": "error", "detail": "typing needs `to`, a username."})
            return
        now = time.monotonic()
        peer = await peer_for_typing(user=self.user, username=to)
        if peer is None:
            return  # unknown, blocked either way, or yourself: nothing is shown, nothing is said
        if now - self.typing_sent.get(peer.pk, -TYPING_INTERVAL) < TYPING_INTERVAL:
            return
        if len(self.typing_sent) > 100:
            self.typing_sent.clear()
        self.typing_sent[peer.pk] = now
        await notify.hub().publish_typing(
            user_id=peer.pk, frame={"type": "typing", "from": self.user.username}
        )

    async def _close(self, code: int) -> None:
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(TimeoutError):  # not reading: the keepalive ping times it out
            await asyncio.wait_for(self.close(code), 1)

    async def disconnect(self, code):
        self.closing = True
        if getattr(self, "auth_deadline", None) is not None:
            self.auth_deadline.cancel()
        if self.pusher is not None:
            self.pusher.cancel()
        if self.waiter is not None:
            await notify.hub().remove(self.waiter)


class UnknownSocketConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: refused during the handshake."""

    channel_layer_alias = NO_CHANNEL_LAYER

    async def connect(self):
        await self.close()


class EventLongPollConsumer(AsyncHttpConsumer):
    """GET /api/events?since=&timeout=: answers as soon as there are events after `since`."""

    channel_layer_alias = NO_CHANNEL_LAYER

    async def handle(self, body):
        started = time.perf_counter()
        user = None
        status, payload, extra = await self._answer()
        if isinstance(payload, tuple):
            user, payload = payload
        headers = [
            (b"content-type", b"application/json"),
            (b"cache-control", b"no-store"),
            (b"vary", b"Authorization"),
            *extra,
        ]
        content = json.dumps(payload).encode()
        await self.send_response(status, b"" if self.scope["method"] == "HEAD" else content, headers=headers)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = printable(self.scope["path"])
        username = user.username if user is not None else "-"
        access_logger.info(
            "%s %s %s %.1fms user=%s",
            self.scope["method"],
            path,
            status,
            duration_ms,
            username,
            extra={
                "method": self.scope["method"],
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "user": username,
            },
        )

    async def _answer(self):
        host = _header(self.scope, b"host") or ""
        domain, _ = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return 400, {"detail": "Unknown host."}, []
        if self.scope["method"] not in ("GET", "HEAD"):
            return (
                405,
                {"detail": f'Method "{self.scope["method"]}" not allowed.'},
                [(b"allow", b"GET, HEAD")],
            )
        unauthorized = [(b"www-authenticate", b"Token")]
        key = _token_from_header(_header(self.scope, b"authorization"))
        if key is None:
            return 401, {"detail": "Authentication credentials were not provided."}, unauthorized
        found = await owner_of(key=key) if key else None
        if found is None:
            return 401, {"detail": "Invalid token."}, unauthorized
        user, _ = found
        query = {k: v[-1] for k, v in parse_qs(self.scope.get("query_string", b"").decode("latin-1")).items()}
        serializer = EventQuerySerializer(data={k: query[k] for k in ("since", "timeout") if k in query})
        if not serializer.is_valid():
            return 400, (user, serializer.errors), []
        since = serializer.validated_data.get("since")
        timeout = serializer.validated_data["timeout"]
        if since is not None and not await since_is_kept(since=since):
            return 410, (user, {"detail": RESYNC_DETAIL, "code": "resync_required"}), []
        hub = notify.hub()
        waiter = await hub.add(user.pk)
        try:
            if since is None:
                since = await latest_id(user_id=user.pk)
            waiter.last_id = since
            deadline = time.monotonic() + timeout
            while True:
                events = await list_after(user_id=user.pk, since=since)
                remaining = deadline - time.monotonic()
                if events or remaining <= 0:
                    break
                await waiter.wait(min(remaining, settings.EVENTS_PING_SECONDS))
        finally:
            await hub.remove(waiter)
        frames = [event_frame(e) for e in events]
        next_since = events[-1].pk if events else since
        return 200, (user, {"events": frames, "next_since": next_since}), []
