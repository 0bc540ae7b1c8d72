"""Database and cache faults: a clear 503 with Retry-After, fast, and one short log line, not a
traceback per request."""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from messageservice.models import Message
from oms.availability import outage_log
from oms.tests.helpers import run_manage

# Ports of this test suite: 8380-8399. Nothing listens on CLOSED_PORT.
CLOSED_PORT = 8399
FROZEN_PORT = 8398

LOGIN = reverse("auth-login")
REGISTER = reverse("auth-register")
MESSAGES = reverse("message-list")

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{CLOSED_PORT}/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture(autouse=True)
def _fresh_outage_log():
    outage_log.reset()
    yield
    outage_log.reset()


def outage_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "oms.availability"]


# The cache (Redis) is down


@pytest.mark.django_db
def test_with_redis_down_login_and_register_are_503_with_retry_after_logged_once(api_client, alice, caplog):
    with override_settings(CACHES=DEAD_REDIS, REDIS_URL=DEAD_REDIS["default"]["LOCATION"]):
        answers = [
            api_client.post(url, {"username": "alice", "password": "whatever-it-is"}, format="json")
            for url in (LOGIN, REGISTER, LOGIN, REGISTER, LOGIN)
        ]
    for response in answers:
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert response.json() == {"detail": "The service is temporarily unavailable. Retry later."}
    (line,) = outage_lines(caplog)
    assert line.levelno == logging.WARNING
    assert line.getMessage().startswith("cache unavailable, answering 503: ConnectionError")
    assert line.exc_info is None


@pytest.mark.django_db
def test_with_redis_down_a_send_is_503_and_stores_nothing(client_for, alice, bob):
    alices = client_for(alice)
    with override_settings(CACHES=DEAD_REDIS):
        response = alices.post(MESSAGES, {"receiver": "bob", "content": "hi"}, format="json")
    assert response.status_code == 503
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_readyz_is_503_while_redis_is_down_and_healthz_stays_200(client):
    with override_settings(CACHES=DEAD_REDIS, REDIS_URL=DEAD_REDIS["default"]["LOCATION"]):
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready["Retry-After"] == "5"
    assert ready.json()["checks"] == {"database": "ok", "cache": "ConnectionError"}
    assert alive.status_code == 200


# The database is down, or frozen: a fresh process, since the database is chosen at start.

REQUESTS = """
import json
from django.test import Client
client = Client(HTTP_HOST="localhost")
body = {"username": "alice", "password": "long enough pw"}
answers = []
for path in PATHS:
    if path.startswith("/api"):
        r = client.post(path, body, content_type="application/json")
    else:
        r = client.get(path)
    answers.append([r.status_code, r.headers.get("Retry-After"), r.content.decode()])
print(json.dumps(answers))
"""


ALL_PATHS = ("/api/auth/login", "/api/auth/login", "/api/auth/register", "/readyz", "/healthz")


def run_against(database_url: str, paths=ALL_PATHS, **env: str):
    script = f"PATHS = {paths!r}\n" + REQUESTS
    result = run_manage("shell", "-c", script, DATABASE_URL=database_url, REDIS_URL="", **env)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    return answers, result.stderr


def assert_answers_while_the_database_is_down(answers, log: str):
    *logins, ready, alive = answers
    for status, retry_after, body in logins:
        assert status == 503
        assert retry_after == "5"
        assert json.loads(body) == {"detail": "The service is temporarily unavailable. Retry later."}
    assert ready[0] == 503
    assert json.loads(ready[2])["checks"]["database"] != "ok"
    assert alive[0] == 200
    # One concise line for all the refused requests; no traceback.
    assert "Traceback" not in log
    outage = [line for line in log.splitlines() if "database unavailable" in line]
    assert len(outage) == 1, log
    assert " WARNING oms.availability " in outage[0]


def test_a_stopped_postgresql_is_a_503_with_retry_after_and_one_log_line():
    answers, log = run_against(f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/oms")
    assert_answers_while_the_database_is_down(answers, log)


def test_an_unreachable_sqlite_file_is_a_503_with_retry_after_and_one_log_line(tmp_path: Path):
    answers, log = run_against(f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}")
    assert_answers_while_the_database_is_down(answers, log)


def test_a_frozen_postgresql_fails_requests_within_the_connect_timeout():
    # Accepts connections (the kernel completes them from the backlog) and never says a word.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", FROZEN_PORT))
    listener.listen(64)
    try:
        # Without a connect timeout this process would hang until run_manage's own limit kills it.
        answers, log = run_against(
            f"postgres://postgres@127.0.0.1:{FROZEN_PORT}/oms?sslmode=disable",
            ("/api/auth/login", "/readyz", "/healthz"),
            DATABASE_CONNECT_TIMEOUT="1",
            READINESS_TIMEOUT="0.5",
        )
    finally:
        listener.close()
    assert_answers_while_the_database_is_down(answers, log)
    assert json.loads(answers[1][2])["checks"]["database"] == "timeout"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")
def test_the_statement_timeout_comes_from_the_environment_and_cancels_a_slow_query():
    script = (
        "from django.db import connection\n"
        "from oms.availability import unavailable_service\n"
        "cursor = connection.cursor()\n"
        "cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])\n"
        "try:\n"
        "    cursor.execute('SELECT pg_sleep(5)')\n"
        "except Exception as exc:\n"
        "    print(unavailable_service(exc))\n"
    )
    # The server's maintenance database, which always exists: the query needs no table of ours.
    server = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    result = run_manage("shell", "-c", script, DATABASE_URL=server, DATABASE_STATEMENT_TIMEOUT_MS="200")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-2:] == ["200ms", "database"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the busy timeout is SQLite's")
def test_a_send_waiting_too_long_for_the_sqlite_write_lock_is_503_then_works_again(client_for, alice, bob):
    alices = client_for(alice)
    options = connection.settings_dict["OPTIONS"]
    saved = options["timeout"]
    options["timeout"] = 0.2  # DATABASE_BUSY_TIMEOUT, applied when the connection opens
    connection.close()
    holder = sqlite3.connect(connection.settings_dict["NAME"], check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        refused = alices.post(MESSAGES, {"receiver": "bob", "content": "hi"}, format="json")
        holder.rollback()
        accepted = alices.post(MESSAGES, {"receiver": "bob", "content": "hi"}, format="json")
    finally:
        holder.close()
        options["timeout"] = saved
        connection.close()
    assert refused.status_code == 503
    assert refused["Retry-After"] == "5"
    assert accepted.status_code == 201
    assert Message.objects.count() == 1
