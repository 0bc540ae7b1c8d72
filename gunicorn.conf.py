"""How `make run` (and `make bench`) serve OMS: one place for the server's settings.

PORT and WEB_CONCURRENCY come from the environment, as on most platforms. Each worker runs an
event loop (uvicorn) serving the ASGI application: the HTTP API, the long-poll /api/events and
the WebSocket /ws/events on the same port.
"""

import os

wsgi_app = "oms.asgi:application"
worker_class = "oms.workers.OmsUvicornWorker"
bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Seconds an idle keep-alive HTTP connection stays open.
keepalive = 5
# A worker whose event loop stops answering the arbiter for this long is restarted.
timeout = 30
graceful_timeout = 10
# No shared control socket: several servers (tests, side-by-side checkouts) run on one machine.
control_socket_disable = True
# Our own middleware writes one access line per request; gunicorn's would repeat it.
accesslog = None
