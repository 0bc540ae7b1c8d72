"""ASGI entry point (what `make run` serves): the HTTP API, the long-poll and the WebSocket on one port.

The HTTP API is Django's WSGI application on a fixed pool of threads. The event loop reads each
request whole, hands it to a thread once, and writes the whole response once the thread is done:
one hand-over each way. (a2wsgi, used before, hands over once more for the response's start and
for each piece of its body; measured under load, those waits cost about a third of a request.)
A slow client, sending or reading, holds the loop's buffers, never a thread.
"""

import asyncio
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

# Django first: it sets up the apps the routes below import.
django_wsgi = get_wsgi_application()

from a2wsgi.wsgi import build_environ  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from realtime.consumers import EventLongPollConsumer, EventStreamConsumer, UnknownSocketConsumer  # noqa: E402

# Bodies are refused past this, before reaching Django (which refuses them past 2.5 MB itself).
BODY_LIMIT = 2 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class WsgiOnThreads:
    """Serves a WSGI application under ASGI, whole request in and whole response out.

    Every response is held in memory until it is complete, which suits an API whose answers are
    small; nothing OMS serves streams.
    """

    def __init__(self, app, *, threads: int):
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope, receive, send):
        body = await self._whole_body(receive, send)
        if body is None:
            return
        environ = build_environ(scope, io.BytesIO(body))
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.executor, self._respond, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    @staticmethod
    async def _whole_body(receive, send) -> bytes | None:
        """The request's body, or None when the client left or the body is too large (answered 413)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > BODY_LIMIT:
                refusal = json.dumps({"detail": "The request body is too large."}).encode()
                headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
                await send({"type": "http.response.start", "status": 413, "headers": headers})
                await send({"type": "http.response.body", "body": refusal})
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _respond(self, environ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Runs on one of the threads: the application, to the end of its response."""
        started: list = []
        written: list[bytes] = []

        def start_response(status, headers, exc_info=None):
            # Nothing has been sent yet, so an error page may always replace what was started.
            started[:] = [status, headers]
            return written.append

        iterable = self.app(environ, start_response)
        try:
            written.extend(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()  # Django's request_finished: the thread's database connection is released
        status, headers = started
        encoded = [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]
        return int(status.split(" ", 1)[0]), encoded, b"".join(written)


application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [
                # The long-poll waits without holding a thread, so it is routed before Django's views.
                re_path(r"^api/events/?$", EventLongPollConsumer.as_asgi()),
                re_path(r"", WsgiOnThreads(django_wsgi, threads=settings.WEB_THREADS)),
            ]
        ),
        "websocket": URLRouter(
            [
                re_path(r"^ws/events/?$", EventStreamConsumer.as_asgi()),
                re_path(r"", UnknownSocketConsumer.as_asgi()),
            ]
        ),
    }
)
