"""The gunicorn worker `make run` uses: uvicorn (uvloop, httptools) serving oms.asgi.

An event loop per worker, so a slow client (a body trickling in a byte a second, an idle
keep-alive connection, a WebSocket) holds a little memory, never the worker.
"""

from __future__ import annotations

import os

from uvicorn_worker import UvicornWorker


def _seconds(name: str, default: float) -> float:
    # Read here because gunicorn starts workers before Django's settings exist; the settings
    # check the same variable and refuse a bad value at start.
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


class OmsUvicornWorker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        # Protocol pings keep idle sockets open through proxies and close dead ones.
        "ws_ping_interval": _seconds("EVENTS_PING_SECONDS", 20.0),
        "ws_ping_timeout": _seconds("EVENTS_PING_SECONDS", 20.0),
        # Clients send only small frames (auth, typing); a bigger one closes the socket.
        "ws_max_size": 64 * 1024,
        "ws_per_message_deflate": False,
        "lifespan": "off",
        "server_header": False,
    }
