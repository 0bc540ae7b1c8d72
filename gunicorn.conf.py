"""How `make run` (and `make bench`) serve OMS: one place for the server's settings.

PORT and WEB_CONCURRENCY come from the environment, as on most platforms. Each worker runs an
event loop (uvicorn) serving the ASGI application: the HTTP API, the long-poll /api/events and
the WebSocket /ws/events on the same port.
"""

import glob
import os
import tempfile

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

# Prometheus metrics from every worker: each writes its counters to files in one directory, which
# /metrics reads back as one set. The previous run's files are removed when the server starts.
_metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"oms-metrics-{bind.rsplit(':', 1)[-1]}")
)


def on_starting(server):
    os.makedirs(_metrics_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(_metrics_dir, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Once the worker has loaded the application: import the views too, then take everything
    loaded so far out of the garbage collector's sight (gc.freeze). Those objects live as long as
    the worker; without this each full collection walks all of them again, a pause that measured
    about a quarter of a request's time."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    gc.collect()
    gc.freeze()
