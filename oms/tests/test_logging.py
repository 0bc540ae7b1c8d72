"""The log an operator reads: one line per event, who was involved, and never a secret."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.urls import reverse

from blocking.tests.factories import BlockFactory
from conftest import PASSWORD
from oms.tests.helpers import run_manage

pytestmark = pytest.mark.django_db

LOGIN = reverse("auth-login")
REGISTER = reverse("auth-register")
MESSAGES = reverse("message-list")
BLOCKS = reverse("block-list")
CONTENT = "the launch code is 0000, tell nobody"


@pytest.fixture(autouse=True)
def _info_logs(caplog):
    # Whatever LOG_LEVEL the test run has, these tests read the INFO lines.
    for name in ("oms", "accounts", "blocking", "messageservice"):
        caplog.set_level(logging.INFO, logger=name)


def records_of(caplog, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def everything_logged(caplog) -> str:
    """Each line as written, plus every field attached to it (what a JSON log would carry)."""
    return "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)


def test_login_logs_one_info_line_naming_the_user_and_no_secret(api_client, alice, caplog):
    response = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    (line,) = records_of(caplog, "accounts.services")
    assert line.levelno == logging.INFO
    assert line.getMessage() == "login user=alice"
    logged = everything_logged(caplog)
    assert PASSWORD not in logged
    assert response.json()["token"] not in logged


def test_invalid_login_logs_one_warning_naming_the_attempted_user_only(api_client, alice, caplog):
    wrong = "not-alices-password-at-all"
    api_client.post(LOGIN, {"username": "alice", "password": wrong}, format="json")
    (line,) = records_of(caplog, "accounts.services")
    assert line.levelno == logging.WARNING
    assert "invalid login" in line.getMessage() and "alice" in line.getMessage()
    logged = everything_logged(caplog)
    assert wrong not in logged
    assert PASSWORD not in logged


def test_a_password_typed_into_the_username_field_is_not_logged(api_client, alice, caplog):
    # A name that is nobody's is logged only as a keyed hash: the same typo twice, the same hash.
    for _ in range(2):
        api_client.post(LOGIN, {"username": PASSWORD, "password": PASSWORD}, format="json")
    first, second = records_of(caplog, "accounts.services")
    assert re.fullmatch(r"invalid login unknown_user=[0-9a-f]{12} path=/api/auth/login", first.getMessage())
    assert first.getMessage() == second.getMessage()
    assert PASSWORD not in everything_logged(caplog)


def test_registration_logs_one_info_line_without_the_password_or_token(api_client, caplog):
    response = api_client.post(REGISTER, {"username": "dave", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    (line,) = records_of(caplog, "accounts.services")
    assert line.levelno == logging.INFO
    assert line.getMessage() == "user registered user=dave"
    logged = everything_logged(caplog)
    assert PASSWORD not in logged
    assert response.json()["token"] not in logged


def test_sent_message_logs_one_info_line_with_both_users_and_not_the_content(client_for, alice, bob, caplog):
    client = client_for(alice)
    response = client.post(MESSAGES, {"receiver": "bob", "content": CONTENT}, format="json")
    assert response.status_code == 201
    (line,) = records_of(caplog, "messageservice.services")
    assert line.levelno == logging.INFO
    assert line.getMessage() == f"message sent id={response.json()['id']} sender=alice receiver=bob"
    logged = everything_logged(caplog)
    assert CONTENT not in logged
    assert client.token not in logged


def test_refused_message_logs_one_info_line_with_both_users_and_not_the_content(
    client_for, alice, bob, caplog
):
    BlockFactory(blocker=bob, blocked=alice)
    client = client_for(alice)
    response = client.post(MESSAGES, {"receiver": "bob", "content": CONTENT}, format="json")
    assert response.status_code == 403
    (line,) = records_of(caplog, "messageservice.services")
    assert line.levelno == logging.INFO
    assert "refused" in line.getMessage()
    assert "sender=alice" in line.getMessage() and "receiver=bob" in line.getMessage()
    logged = everything_logged(caplog)
    assert CONTENT not in logged
    assert client.token not in logged


def test_blocking_logs_one_info_line_with_both_users(client_for, alice, bob, caplog):
    client = client_for(alice)
    assert client.post(BLOCKS, {"blocked": "BOB"}, format="json").status_code == 201
    (line,) = records_of(caplog, "blocking.services")
    assert line.levelno == logging.INFO
    assert line.getMessage() == "user blocked blocker=alice blocked=bob"
    assert client.token not in everything_logged(caplog)


def test_unblocking_logs_one_info_line_with_both_users(client_for, alice, bob, caplog):
    BlockFactory(blocker=alice, blocked=bob)
    assert client_for(alice).delete(reverse("block-delete", kwargs={"username": "bob"})).status_code == 204
    (line,) = records_of(caplog, "blocking.services")
    assert line.levelno == logging.INFO
    assert line.getMessage() == "user unblocked blocker=alice blocked=bob"


def test_refused_block_logs_no_block_event(client_for, alice, caplog):
    assert client_for(alice).post(BLOCKS, {"blocked": "nobody"}, format="json").status_code == 400
    assert not records_of(caplog, "blocking.services")


def test_each_request_gets_one_access_line_with_method_path_status_duration_and_user(
    client_for, alice, caplog
):
    client = client_for(alice)
    client.get(MESSAGES)
    (line,) = records_of(caplog, "oms.access")
    assert line.levelno == logging.INFO
    assert (line.method, line.path, line.status, line.user) == ("GET", MESSAGES, 200, "alice")
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    text = line.getMessage()
    assert text.startswith(f"GET {MESSAGES} 200 ") and text.endswith("ms user=alice")
    assert client.token not in everything_logged(caplog)


def test_access_lines_follow_requests_one_for_one(client_for, api_client, alice, caplog):
    client = client_for(alice)
    client.get(MESSAGES)
    api_client.get(MESSAGES)
    client.post(MESSAGES, {"receiver": "nobody", "content": CONTENT}, format="json")
    api_client.get("/api/nope")
    lines = [(r.method, r.path, r.status, r.user) for r in records_of(caplog, "oms.access")]
    assert lines == [
        ("GET", MESSAGES, 200, "alice"),
        ("GET", MESSAGES, 401, "-"),
        ("POST", MESSAGES, 400, "alice"),
        ("GET", "/api/nope", 404, "-"),
    ]
    assert CONTENT not in everything_logged(caplog)


def test_access_line_of_a_login_names_who_logged_in_and_hides_the_password(api_client, alice, caplog):
    api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    (line,) = records_of(caplog, "oms.access")
    assert (line.method, line.path, line.status) == ("POST", LOGIN, 200)
    assert PASSWORD not in everything_logged(caplog)


# The log format and destination, chosen by environment variables read at start

EMIT = (
    "import logging; logging.getLogger('messageservice.services').info('x', extra={'a': 1}); "
    "from django.test import Client; Client().get('/api/nope', HTTP_HOST='localhost')"
)


@pytest.fixture(scope="module")
def json_run(tmp_path_factory):
    log_file = tmp_path_factory.mktemp("logs") / "oms.log"
    result = run_manage("shell", "-c", EMIT, LOG_FORMAT="json", LOG_FILE=str(log_file))
    assert result.returncode == 0, result.stderr
    return result, log_file


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.django_db(False)
def test_json_format_writes_one_json_object_per_line(json_run):
    result, _ = json_run
    # Every line on the log stream parses on its own; nothing else is mixed in.
    lines = _json_lines(result.stderr)
    assert len(lines) == 2
    event, access = lines
    assert event["message"] == "x"
    assert event["a"] == 1
    assert (event["level"], event["logger"]) == ("INFO", "messageservice.services")
    assert event["time"]
    assert access["logger"] == "oms.access"
    assert (access["method"], access["path"], access["status"], access["user"]) == (
        "GET",
        "/api/nope",
        404,
        "-",
    )
    assert isinstance(access["duration_ms"], float)
    assert "messageservice.services" not in result.stdout


@pytest.mark.django_db(False)
def test_log_file_receives_the_same_lines(json_run):
    result, log_file = json_run
    assert _json_lines(log_file.read_text()) == _json_lines(result.stderr)


@pytest.mark.django_db(False)
def test_text_format_is_the_default_one_line_per_event():
    result = run_manage("shell", "-c", EMIT)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\S+ \S+ INFO messageservice\.services x", lines[0])
    assert re.fullmatch(r"\S+ \S+ INFO oms\.access GET /api/nope 404 \d+\.\dms user=-", lines[1])


@pytest.mark.django_db(False)
def test_unknown_log_format_is_refused_at_start_naming_the_variable():
    result = run_manage("check", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "LOG_FORMAT" in result.stderr


def test_a_newline_in_a_path_cannot_forge_an_access_line(api_client, caplog):
    caplog.set_level(logging.INFO, logger="oms.access")
    api_client.get("/api/x%0AGET /api/admin 200")
    lines = [r.getMessage() for r in caplog.records if r.name == "oms.access"]
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "\\n" in lines[0]
