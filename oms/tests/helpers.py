"""Helpers for tests that must start Django afresh (settings are read once at start), or a real server."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a new process, with this environment less DJANGO_* and LOG_*, plus `env`."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LOG_")) or key == "DJANGO_SETTINGS_MODULE"
    }
    environ.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py with a fixed argument list
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_environ(**env: str) -> dict[str, str]:
    """This environment less DJANGO_*, LOG_*, REDIS_URL and DATABASE_URL, plus `env`."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LOG_", "REDIS_URL", "DATABASE_URL", "PROMETHEUS_"))
        or key == "DJANGO_SETTINGS_MODULE"
    }
    environ.update(env)
    return environ


@contextlib.contextmanager
def served(port: int, log: Path, **env: str):
    """`make run`'s server (gunicorn.conf.py) on 127.0.0.1:`port` with `env`, stopped on leaving."""
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env=clean_environ(PORT=str(port), **env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, log.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the server did not start: " + log.read_text()
                    time.sleep(0.1)
            yield
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def request_once(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """One request on its own connection: (status, headers, body); header names match in any case,
    as HTTP says (the served ASGI worker sends them in lower case)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()
