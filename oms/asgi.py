"""ASGI entry point (what `make run` serves): the HTTP API, the long-poll and the WebSocket on one port."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

# Django first: it sets up the apps the routes below import.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from realtime.consumers import EventLongPollConsumer, EventStreamConsumer, UnknownSocketConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [
                # The long-poll waits without holding a thread, so it is routed before Django's views.
                re_path(r"^api/events/?$", EventLongPollConsumer.as_asgi()),
                re_path(r"", django_application),
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
