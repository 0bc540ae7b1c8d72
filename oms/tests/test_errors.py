"""What clients and operators see when things go wrong, plus the schema, docs, admin and deploy checks."""

from __future__ import annotations

import json
import logging
import re
import secrets

import pytest
from django.urls import reverse

from accounts.admin import UserAdmin
from accounts.models import User
from blocking.models import Block
from blocking.tests.factories import BlockFactory
from messageservice.models import Message
from messageservice.tests.factories import MessageFactory
from oms.tests.helpers import run_manage

pytestmark = pytest.mark.django_db

GENERIC_500 = {"detail": "Something went wrong"}
LEAKS = ("boom", "SELECT", "secret", "Traceback", "RuntimeError", ".py")

MESSAGES = reverse("message-list")
LOGIN = reverse("auth-login")


def message_detail(pk: int) -> str:
    return reverse("message-detail", kwargs={"pk": pk})


def assert_generic_500(response) -> None:
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == GENERIC_500
    body = response.content.decode()
    for leak in LEAKS:
        assert leak not in body


# Unknown endpoints


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/nope", "/api/message/abc", "/api/auth/nope/deeper"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_api_path_is_a_json_404(api_client, path, method):
    response = getattr(api_client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No such endpoint. See /api/docs for the list of endpoints."}


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_path_is_a_json_404_with_a_token_too(client_for, alice, method):
    response = getattr(client_for(alice), method)("/api/nope", {"a": 1}, format="json")
    assert response.status_code == 404
    assert list(response.json()) == ["detail"]


def test_a_message_id_too_long_for_the_database_is_a_json_404(client_for, alice):
    response = client_for(alice).get(f"{MESSAGES}/{'9' * 25}")
    assert response.status_code == 404
    assert "detail" in response.json()


# Bodies the API cannot read


@pytest.mark.parametrize("body", ['{"receiver": "bob",', "not json at all", "{'single': 'quotes'}"])
def test_malformed_json_is_a_json_400_and_stores_nothing(client_for, alice, bob, body):
    response = client_for(alice).post(MESSAGES, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("JSON parse error")
    assert not Message.objects.exists()


def test_malformed_json_on_login_is_a_json_400(api_client):
    response = api_client.post(LOGIN, '{"username": ', content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_unsupported_content_type_is_415(client_for, alice, bob, content_type):
    response = client_for(alice).post(MESSAGES, "receiver=bob&content=hi", content_type=content_type)
    assert response.status_code == 415
    assert content_type in response.json()["detail"]
    assert not Message.objects.exists()


def test_a_multipart_send_is_accepted_like_json(client_for, alice, bob):
    response = client_for(alice).post(MESSAGES, {"receiver": "bob", "content": "hi"}, format="multipart")
    assert response.status_code == 201
    assert Message.objects.get().content == "hi"


def test_unsupported_content_type_on_login_is_415(api_client, alice):
    response = api_client.post(LOGIN, "username=alice", content_type="text/plain")
    assert response.status_code == 415
    assert "detail" in response.json()


# Methods


@pytest.mark.parametrize("method", ["put", "patch"])
def test_messages_cannot_be_rewritten_405(client_for, alice, bob, method):
    message = MessageFactory(sender=alice, receiver=bob, content="original")
    response = getattr(client_for(alice), method)(
        message_detail(message.id), {"content": "rewritten"}, format="json"
    )
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert "DELETE" in response["Allow"] and method.upper() not in response["Allow"]
    message.refresh_from_db()
    assert message.content == "original"


@pytest.mark.parametrize("name", ["auth-login", "auth-register"])
def test_get_on_login_and_register_is_405(api_client, name):
    response = api_client.get(reverse(name))
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}
    assert "POST" in response["Allow"]


# Authentication

PROTECTED = [
    ("get", "message-list", {}),
    ("post", "message-list", {}),
    ("get", "message-sent", {}),
    ("get", "message-received", {}),
    ("post", "message-read", {}),
    ("get", "message-unread", {}),
    ("get", "message-detail", {"pk": 1}),
    ("delete", "message-detail", {"pk": 1}),
    ("get", "conversation-list", {}),
    ("get", "conversation-detail", {"username": "bob"}),
    ("get", "sync", {}),
    ("get", "block-list", {}),
    ("post", "block-list", {}),
    ("delete", "block-delete", {"username": "bob"}),
    ("post", "auth-logout", {}),
    ("post", "auth-logoutall", {}),
]


@pytest.mark.parametrize(("method", "name", "kwargs"), PROTECTED)
def test_every_protected_endpoint_is_401_without_a_token(api_client, method, name, kwargs):
    response = getattr(api_client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    # Tells the client which scheme to use.
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(("method", "name", "kwargs"), PROTECTED)
def test_every_protected_endpoint_is_401_with_a_bad_token(api_client, method, name, kwargs):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)
    response = getattr(api_client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


# Unexpected errors


@pytest.fixture
def failing_message_list(monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom SELECT secret FROM messageservice_message")

    monkeypatch.setattr("messageservice.api.message_list_for", explode)


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_error_in_an_api_view_is_a_bare_json_500(
    client_for, alice, failing_message_list, settings, debug
):
    settings.DEBUG = debug
    assert_generic_500(client_for(alice).get(MESSAGES))


def test_unexpected_error_is_logged_with_its_traceback_method_path_and_user(
    client_for, alice, failing_message_list, caplog
):
    caplog.set_level(logging.INFO, logger="oms")
    client_for(alice).get(MESSAGES, {"page": 1})
    errors = [r for r in caplog.records if r.name == "oms.exceptions"]
    assert len(errors) == 1
    (error,) = errors
    assert error.levelno == logging.ERROR
    assert error.exc_info[0] is RuntimeError
    assert "boom SELECT secret" in caplog.text  # the operator sees what the client does not
    assert "Traceback" in caplog.text
    line = error.getMessage()
    assert "method=GET" in line and f"path={MESSAGES}" in line and "user=alice" in line
    assert (error.method, error.path, error.user) == ("GET", MESSAGES, "alice")
    access = [r for r in caplog.records if r.name == "oms.access"]
    assert [r.status for r in access] == [500]


def test_unexpected_error_in_a_service_is_a_json_500_and_stores_nothing(client_for, alice, bob, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom SELECT secret")

    # Fails after the insert, inside the send's transaction: the message must not stay behind.
    monkeypatch.setattr("messageservice.services.conversation_add", explode)
    response = client_for(alice).post(MESSAGES, {"receiver": "bob", "content": "hi"}, format="json")
    assert_generic_500(response)
    assert not Message.objects.exists()


def test_unexpected_error_during_authentication_is_a_json_500(client_for, alice, monkeypatch):
    client = client_for(alice)

    def explode(*args, **kwargs):
        raise RuntimeError("boom SELECT secret FROM knox_authtoken")

    monkeypatch.setattr("accounts.authentication.TokenAuthentication.authenticate_credentials", explode)
    assert_generic_500(client.get(MESSAGES))


@pytest.mark.urls("oms.tests.urls_boom")
@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_error_in_a_plain_django_view_is_a_json_500(client, settings, caplog, debug):
    settings.DEBUG = debug
    response = client.get(reverse("boom"))
    assert_generic_500(response)
    errors = [r for r in caplog.records if r.name == "oms.exceptions"]
    assert len(errors) == 1
    assert errors[0].levelno == logging.ERROR
    assert errors[0].exc_info[0] is RuntimeError
    assert (errors[0].method, errors[0].path, errors[0].user) == ("GET", "/boom/", "-")


@pytest.mark.urls("oms.tests.urls_boom")
def test_the_test_urlconf_still_serves_the_api(client_for, alice):
    # Guards the test above: the extra URL must not hide the real ones.
    assert client_for(alice).get(reverse("message-list")).status_code == 200


def test_unexpected_error_in_the_admin_is_a_json_500(admin_client, monkeypatch, caplog):
    def explode(self, request):
        raise RuntimeError("boom SELECT secret FROM accounts_user")

    monkeypatch.setattr(UserAdmin, "get_changelist_instance", explode)
    url = reverse("admin:accounts_user_changelist")
    assert_generic_500(admin_client.get(url))
    (error,) = [r for r in caplog.records if r.name == "oms.exceptions"]
    assert (error.path, error.user) == (url, "admin")


@pytest.mark.urls("oms.tests.urls_boom")
def test_an_expected_404_in_a_plain_django_view_stays_a_404(client, caplog):
    # Only the unexpected becomes the generic 500.
    assert client.get(reverse("missing")).status_code == 404
    assert not [r for r in caplog.records if r.name == "oms.exceptions"]


# Schema and docs

DOCUMENTED = {
    "/api/auth/register": {"post"},
    "/api/auth/login": {"post"},
    "/api/auth/logout": {"post"},
    "/api/auth/logoutall": {"post"},
    "/api/events": {"get"},
    "/api/message": {"get", "post"},
    "/api/message/{id}": {"get", "delete"},
    "/api/message/sent": {"get"},
    "/api/message/received": {"get"},
    "/api/message/read": {"post"},
    "/api/message/unread": {"get"},
    "/api/conversation": {"get"},
    "/api/conversation/{username}": {"get"},
    "/api/sync": {"get"},
    "/api/block": {"get", "post"},
    "/api/block/{username}": {"delete"},
}


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict) -> dict[str, set[str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {path.rstrip("/"): set(ops) & methods for path, ops in schema["paths"].items()}


def test_schema_is_openapi_3_and_lists_every_endpoint_with_its_methods(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "OMS API"
    assert _operations(schema) == DOCUMENTED


def test_schema_is_served_as_json_for_the_openapi_accept_header(api_client):
    response = api_client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert _operations(json.loads(response.content)) == DOCUMENTED


def test_schema_says_which_operations_need_the_token(schema):
    scheme = schema["components"]["securitySchemes"]["knoxApiToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            public = path.rstrip("/") in ("/api/auth/register", "/api/auth/login")
            needs_token = {"knoxApiToken": []} in (op.get("security") or [])
            assert needs_token != public, (method, path)


def test_every_documented_path_works_exactly_as_written(schema, client_for, alice, bob):
    # A client generated from the schema calls these paths literally, trailing slash and all.
    message = MessageFactory(sender=bob, receiver=alice)
    BlockFactory(blocker=alice, blocked=bob)
    values = {"id": str(message.id), "username": "bob"}
    for path, ops in schema["paths"].items():
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        for method in ops:
            if method not in ("get", "post", "delete"):
                continue
            response = getattr(client_for(alice), method)(url, {}, format="json")
            assert response.status_code not in (301, 302, 308, 404, 405), (method, url, response.content)
            assert response.status_code < 500, (method, url)


def test_docs_page_is_html_pointing_at_the_schema(api_client):
    response = api_client.get(reverse("docs"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "swagger-ui" in html
    # The page's script is served by us too (a strict CSP allows no inline script), and names the schema.
    script = api_client.get(reverse("docs") + "?script=")
    assert script.status_code == 200
    assert reverse("schema") in script.content.decode()


# Admin


@pytest.fixture
def crowd(alice, bob, carol):
    """A few hundred users, messages and blocks, as an operator would meet them."""
    users = User.objects.bulk_create([User(username=f"member{i:03d}") for i in range(300)])
    Message.objects.bulk_create(
        Message(sender=users[i % 50], receiver=(alice, bob, carol)[i % 3], content=f"hello {i}")
        for i in range(300)
    )
    Block.objects.bulk_create(Block(blocker=users[i // 10], blocked=users[200 + i % 10]) for i in range(300))
    Block.objects.create(blocker=alice, blocked=bob)
    return users


@pytest.mark.parametrize(
    ("name", "search", "expected"),
    [
        ("admin:accounts_user_changelist", "", 304),  # the crowd, alice, bob, carol and admin
        ("admin:accounts_user_changelist", "member01", 10),
        ("admin:messageservice_message_changelist", "", 300),
        ("admin:messageservice_message_changelist", "bob", 100),
        ("admin:messageservice_message_changelist", "member007", 6),
        ("admin:blocking_block_changelist", "", 301),
        ("admin:blocking_block_changelist", "alice", 1),
        ("admin:blocking_block_changelist", "member205", 30),
    ],
)
def test_admin_changelists_render_and_search_with_hundreds_of_rows(
    admin_client, crowd, name, search, expected, django_assert_max_num_queries
):
    params = {"q": search} if search else {}
    # Session, user, counts, one page of rows with their users joined, dates: never one per row.
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse(name), params)
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count == expected
    assert len(changelist.result_list) == min(expected, 100)


def test_message_change_page_lists_no_users(admin_client, crowd, alice):
    message = Message.objects.filter(receiver=alice).first()
    response = admin_client.get(reverse("admin:messageservice_message_change", args=[message.id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<select" not in html
    assert "member299" not in html  # nobody unrelated to the message is listed
    assert message.content in html


@pytest.mark.parametrize("view", ["add", "change"])
def test_block_form_takes_user_ids_instead_of_listing_every_user(admin_client, crowd, view):
    block = Block.objects.first()
    args = [block.id] if view == "change" else []
    response = admin_client.get(reverse(f"admin:blocking_block_{view}", args=args))
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r'<select[^>]*name="(blocker|blocked)"', html)
    for field in ("blocker", "blocked"):
        assert re.search(rf'<input type="text" name="{field}"[^>]*class="vForeignKeyRawIdAdminField"', html)
    assert "member150" not in html


# Production settings, read at start


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "oms.example.com",
}


def test_deploy_checks_pass_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_checks_catch_a_server_left_in_debug_mode():
    # Shows the check above can fail: the same settings with DEBUG on are refused.
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "DJANGO_DEBUG": "true"}
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


@pytest.mark.parametrize("secret_key", [None, ""])
def test_production_settings_refuse_to_load_without_a_secret_key(secret_key):
    env = {"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "oms.example.com"}
    if secret_key is not None:
        env["DJANGO_SECRET_KEY"] = secret_key
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_bad_setting_value_is_refused_naming_the_variable():
    result = run_manage("check", DJANGO_SECURE_HSTS_SECONDS="a year")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECURE_HSTS_SECONDS" in result.stderr
