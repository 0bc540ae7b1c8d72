"""Wake-ups for online clients: the push side of the event log.

A wake-up says only "user N has new events" (or "re-check your token", or a typing indicator);
every waiting client then reads the log itself. The log is the truth, so a lost wake-up costs
latency, never an event: waiters also re-read the log every EVENTS_PING_SECONDS.

Each process runs one `Hub` per event loop that the sockets and long-polls of that process wait
on. How a change in one process reaches the hubs of the others depends on the deployment:

- with REDIS_URL: the Channels layer (channels-redis). Each hub joins the group `events.u<id>`
  of every user it holds a waiter for, with one process channel; a publish is a group_send.
- PostgreSQL without Redis: LISTEN/NOTIFY. The statement that writes the events also NOTIFYs
  (delivered by PostgreSQL at commit); each hub keeps one connection that LISTENs.
- SQLite without Redis: one thread per hub watches the event table (EVENTS_SQLITE_POLL_SECONDS).
  Typing indicators reach only the sockets of the same process there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import weakref
from collections import deque
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection, connections

logger = logging.getLogger(__name__)

REDIS = "redis"
POSTGRES = "postgres"
SQLITE = "sqlite"
PG_CHANNEL = "oms_events"
# At most this many typing indicators wait for a socket that is not reading; older ones are dropped.
EPHEMERAL_BACKLOG = 8


def transport() -> str:
    return settings.EVENTS_TRANSPORT


def group_for(user_id: int) -> str:
    return f"events.u{user_id}"


class Waiter:
    """One socket's or long-poll's view of its user's wake-ups. Never grows: a flag and a short deque."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.woken = asyncio.Event()
        self.recheck_auth = False
        self.ephemeral: deque[dict] = deque(maxlen=EPHEMERAL_BACKLOG)

    def wake(self) -> None:
        self.woken.set()

    async def wait(self, timeout: float) -> bool:
        """Until woken or `timeout`; True if woken. Clears the flag."""
        try:
            await asyncio.wait_for(self.woken.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self.woken.clear()
        return True


class Hub:
    """The waiters of one event loop, and the transport that wakes them from other processes."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.waiters: dict[int, set[Waiter]] = {}
        self.transport = transport()
        self._started = False
        self._tasks: list[asyncio.Task] = []
        self._stop = threading.Event()
        self._layer = None
        self._channel: str | None = None
        self._publisher = None  # PostgreSQL connection used for typing NOTIFYs
        self.drop_wakeups = False  # tests set it to prove that lost wake-ups cost only latency

    # Local delivery -------------------------------------------------------------------------

    def wake(self, user_ids) -> None:
        if self.drop_wakeups:
            return
        targets = self.waiters.values() if user_ids == "*" else (self.waiters.get(u, ()) for u in user_ids)
        for waiters in list(targets):
            for waiter in list(waiters):
                waiter.wake()

    def recheck_auth(self, user_id: int) -> None:
        for waiter in list(self.waiters.get(user_id, ())):
            waiter.recheck_auth = True
            waiter.wake()

    def typing(self, user_id: int, frame: dict) -> None:
        for waiter in list(self.waiters.get(user_id, ())):
            waiter.ephemeral.append(frame)
            waiter.wake()

    def dispatch(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "events.wake":
            self.wake(message["users"])
        elif kind == "events.auth":
            self.recheck_auth(message["user"])
        elif kind == "events.typing":
            self.typing(message["user"], message["frame"])

    # Waiters -----------------------------------------------------------------------------------

    async def add(self, user_id: int) -> Waiter:
        await self._start()
        waiter = Waiter(user_id)
        first = user_id not in self.waiters
        self.waiters.setdefault(user_id, set()).add(waiter)
        if first and self._layer is not None:
            await self._layer.group_add(group_for(user_id), self._channel)
        return waiter

    async def remove(self, waiter: Waiter) -> None:
        waiters = self.waiters.get(waiter.user_id)
        if waiters is None:
            return
        waiters.discard(waiter)
        if not waiters:
            del self.waiters[waiter.user_id]
            if self._layer is not None:
                with contextlib.suppress(Exception):
                    await self._layer.group_discard(group_for(waiter.user_id), self._channel)

    # Transports --------------------------------------------------------------------------------

    async def _start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.transport == REDIS:
            from channels.layers import get_channel_layer

            self._layer = get_channel_layer()
            self._channel = await self._layer.new_channel("events.hub.")
            self._tasks.append(asyncio.create_task(self._receive_layer()))
            self._tasks.append(asyncio.create_task(self._refresh_groups()))
        elif self.transport == POSTGRES:
            self._tasks.append(asyncio.create_task(self._listen_postgres()))
        else:
            threading.Thread(target=self._watch_sqlite, name="oms-events-watcher", daemon=True).start()

    async def _receive_layer(self) -> None:
        # No timeout around receive: channels-redis's receive must not be cancelled mid-read.
        while True:
            try:
                message = await self._layer.receive(self._channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("channel layer receive failed; retrying", exc_info=True)
                await asyncio.sleep(1)
                self.wake("*")  # something may have been missed: everyone re-reads the log
                continue
            self.dispatch(message)

    async def _refresh_groups(self) -> None:
        # Group membership expires in Redis; renew it while we still hold waiters.
        while True:
            await asyncio.sleep(max(60.0, settings.EVENTS_GROUP_EXPIRY_SECONDS / 4))
            for user_id in list(self.waiters):
                with contextlib.suppress(Exception):
                    await self._layer.group_add(group_for(user_id), self._channel)

    async def _listen_postgres(self) -> None:
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**_pg_params(), autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {PG_CHANNEL}")
                    self.wake("*")  # (re)connected: anything before this may have been missed
                    async for notice in conn.notifies():
                        self.dispatch(_decode_pg(notice.payload))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("LISTEN %s failed; reconnecting", PG_CHANNEL, exc_info=True)
                await asyncio.sleep(1)

    def _watch_sqlite(self) -> None:
        name = connections["default"].settings_dict["NAME"]
        table = "events_event"
        last = None
        db = None
        while not self._stop.is_set() and not self.loop.is_closed():
            try:
                if db is None:
                    db = sqlite3.connect(str(name), timeout=5, check_same_thread=False)
                if last is None:
                    last = db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]  # noqa: S608
                rows = db.execute(
                    f"SELECT id, user_id FROM {table} WHERE id > ? ORDER BY id LIMIT 5000",  # noqa: S608
                    (last,),
                ).fetchall()
                db.rollback()
                if rows:
                    last = rows[-1][0]
                    users = sorted({user_id for _, user_id in rows})
                    self.loop.call_soon_threadsafe(self.wake, users)
            except RuntimeError:
                return  # the loop closed
            except sqlite3.Error:
                logger.warning("event table watcher failed; retrying", exc_info=True)
                db = None
            self._stop.wait(settings.EVENTS_SQLITE_POLL_SECONDS)

    async def publish_typing(self, *, user_id: int, frame: dict) -> None:
        if self.transport == REDIS:
            await self._layer.group_send(
                group_for(user_id), {"type": "events.typing", "user": user_id, "frame": frame}
            )
        elif self.transport == POSTGRES:
            import psycopg

            try:
                if self._publisher is None or self._publisher.closed:
                    self._publisher = await psycopg.AsyncConnection.connect(**_pg_params(), autocommit=True)
                await self._publisher.execute(
                    "SELECT pg_notify(%s, %s)", [PG_CHANNEL, _encode_pg_typing(user_id, frame)]
                )
            except psycopg.Error:
                logger.warning("typing NOTIFY failed", exc_info=True)
                self._publisher = None
        else:
            self.typing(user_id, frame)

    def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub() -> Hub:
    """The hub of the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        found = _hubs.get(loop)
        if found is None:
            found = _hubs[loop] = Hub(loop)
        return found


def _local_hubs() -> list[Hub]:
    with _hubs_lock:
        return [h for loop, h in _hubs.items() if not loop.is_closed()]


def _pg_params() -> dict[str, Any]:
    s = connections["default"].settings_dict
    params = {"dbname": s["NAME"], "user": s["USER"], "password": s["PASSWORD"], "host": s["HOST"]}
    if s["PORT"]:
        params["port"] = s["PORT"]
    return {k: v for k, v in params.items() if v}


def _encode_pg_typing(user_id: int, frame: dict) -> str:
    return f"t:{user_id}:{frame['from']}"


def _decode_pg(payload: str) -> dict:
    kind, _, rest = payload.partition(":")
    if kind == "w":
        return {
            "type": "events.wake",
            "users": "*" if rest == "*" else [int(u) for u in rest.split(",") if u],
        }
    if kind == "a":
        return {"type": "events.auth", "user": int(rest)}
    if kind == "t":
        user, _, sender = rest.partition(":")
        return {"type": "events.typing", "user": int(user), "frame": {"type": "typing", "from": sender}}
    return {}


# Publishing from sync code, after a commit ----------------------------------------------------


def _wake_local(message: dict) -> None:
    for h in _local_hubs():
        with contextlib.suppress(RuntimeError):  # its loop closed meanwhile
            h.loop.call_soon_threadsafe(h.dispatch, message)


def users_woken(*, user_ids: list[int]) -> None:
    """After a commit: wake every waiter of these users, in this process and the others."""
    message = {"type": "events.wake", "users": list(user_ids)}
    _wake_local(message)
    if transport() == REDIS:
        _group_send_all([(group_for(u), message) for u in user_ids])
    # PostgreSQL: the NOTIFY went out with the commit. SQLite: the other processes' watchers see it.


def auth_recheck(*, user_id: int) -> None:
    """After a logout: the user's sockets re-check their tokens now instead of at the next ping."""
    message = {"type": "events.auth", "user": user_id}
    _wake_local(message)
    if transport() == REDIS:
        _group_send_all([(group_for(user_id), message)])
    elif transport() == POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, f"a:{user_id}"])


def _group_send_all(sends: list[tuple[str, dict]]) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()

    async def send_all() -> None:
        for group, message in sends:
            await layer.group_send(group, message)

    try:
        async_to_sync(send_all)()
    except Exception:
        # The log has the events; waiters find them at their next periodic re-read.
        logger.warning("channel layer publish failed", exc_info=True)
