"""ASGI entry point (what `make run` serves): the HTTP API, the long-poll and the WebSocket on one port.

The HTTP API is Django's WSGI application on a fixed pool of threads (a2wsgi): measured, that
serves sync views faster than Django's own ASGI handler, which starts a thread per request. The
request body is read on the event loop first, so a slow upload holds no thread.
"""

import json
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

# Django first: it sets up the apps the routes below import.
django_wsgi = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from realtime.consumers import EventLongPollConsumer, EventStreamConsumer, UnknownSocketConsumer  # noqa: E402

# Bodies are refused past this, before reaching Django (which refuses them past 2.5 MB itself).
BODY_LIMIT = 2 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class WholeBody:
    """Reads the whole request body on the event loop, then hands the request on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > BODY_LIMIT:
                body = json.dumps({"detail": "The request body is too large."}).encode()
                headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
                await send({"type": "http.response.start", "status": 413, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        handed = False

        async def replay():
            nonlocal handed
            if not handed:
                handed = True
                return whole
            return await receive()

        await self.app(scope, replay, send)


application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [
                # The long-poll waits without holding a thread, so it is routed before Django's views.
                re_path(r"^api/events/?$", EventLongPollConsumer.as_asgi()),
                re_path(r"", WholeBody(WSGIMiddleware(django_wsgi, workers=settings.WEB_THREADS))),
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
