"""Register, login, logout and logout-all over HTTP."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

REGISTER = reverse("auth-register")
LOGIN = reverse("auth-login")
LOGOUT = reverse("auth-logout")
LOGOUT_ALL = reverse("auth-logoutall")
MESSAGES = reverse("message-list")


def test_public_paths_are_the_documented_ones():
    assert REGISTER == "/api/auth/register"
    assert LOGIN == "/api/auth/login"
    assert LOGOUT == "/api/auth/logout"
    assert LOGOUT_ALL == "/api/auth/logoutall"


def test_register_returns_user_token_and_expiry(api_client):
    response = api_client.post(
        REGISTER, {"username": "dave", "password": PASSWORD, "email": "dave@example.com"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(username="dave")
    assert body["user"] == {"id": user.id, "username": "dave", "email": "dave@example.com"}
    assert body["token"] and body["expiry"]
    assert user.check_password(PASSWORD)
    # The token works straight away.
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api_client.get(MESSAGES).status_code == 200


def test_register_without_email_is_fine(api_client):
    response = api_client.post(REGISTER, {"username": "dave", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    assert response.json()["user"]["email"] == ""


def test_register_accepts_form_encoded_bodies(api_client):
    response = api_client.post(
        REGISTER,
        urlencode({"username": "dave", "password": PASSWORD}),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201


def test_tokens_are_stored_only_as_digests(api_client):
    token = api_client.post(REGISTER, {"username": "dave", "password": PASSWORD}, format="json").json()[
        "token"
    ]
    stored = AuthToken.objects.get(user__username="dave")
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128


@pytest.mark.parametrize("taken", ["alice", "Alice", "ALICE"])
def test_register_refuses_a_username_taken_in_any_case(api_client, alice, taken):
    response = api_client.post(REGISTER, {"username": taken, "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "dave"}, "password"),
        ({"username": "", "password": PASSWORD}, "username"),
        ({"username": "dave", "password": ""}, "password"),
        ({"username": "dave", "password": PASSWORD, "email": "not-an-email"}, "email"),
        ({"username": "has space", "password": PASSWORD}, "username"),
        ({"username": "x" * 151, "password": PASSWORD}, "username"),
        ({"username": 12345, "password": PASSWORD}, "username"),
        ({"username": "dave", "password": ["a", "list"]}, "password"),
        ({"username": None, "password": PASSWORD}, "username"),
    ],
)
def test_register_rejects_bad_fields_naming_them(api_client, body, field):
    response = api_client.post(REGISTER, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password",
    ["short", "12345678901", "password123", "davidsonite1"],  # too short, numeric, common, like the name
)
def test_register_rejects_passwords_that_fail_djangos_validators(api_client, password):
    response = api_client.post(REGISTER, {"username": "davidsonite", "password": password}, format="json")
    assert response.status_code == 400
    assert response.json()["password"]
    assert not User.objects.exists()


def test_login_returns_a_new_token_in_the_register_shape(api_client, alice):
    response = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"id": alice.id, "username": "alice", "email": alice.email}
    assert body["token"] and body["expiry"]
    second = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json").json()
    assert second["token"] != body["token"]


def test_login_username_is_case_insensitive(api_client, alice):
    response = api_client.post(LOGIN, {"username": "ALICE", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"


def test_token_expires_after_the_ttl(api_client, alice, settings):
    token = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json").json()["token"]
    stored = AuthToken.objects.get(user=alice)
    assert 9.9 * 3600 < (stored.expiry - stored.created).total_seconds() <= 10 * 3600 + 1
    AuthToken.objects.filter(user=alice).update(expiry=stored.created)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get(MESSAGES).status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_answer(api_client, alice):
    wrong = api_client.post(LOGIN, {"username": "alice", "password": "nope" * 3}, format="json")
    unknown = api_client.post(LOGIN, {"username": "nobody", "password": "nope" * 3}, format="json")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json() == {"detail": "Invalid username or password."}
    assert not AuthToken.objects.exists()


def test_inactive_user_cannot_log_in(api_client, alice):
    alice.is_active = False
    alice.save()
    response = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"), [({"password": PASSWORD}, "username"), ({"username": "alice"}, "password")]
)
def test_login_missing_field_is_named(api_client, alice, body, field):
    response = api_client.post(LOGIN, body, format="json")
    assert response.status_code == 400
    assert response.json() == {field: ["This field is required."]}


def test_logout_stops_that_token_at_once(client_for, alice):
    client = client_for(alice)
    other = client_for(alice)
    assert client.post(LOGOUT).status_code == 204
    assert client.get(MESSAGES).status_code == 401
    # Other devices stay logged in.
    assert other.get(MESSAGES).status_code == 200


def test_logoutall_stops_every_token_of_mine_only(client_for, alice, bob):
    first, second, bobs = client_for(alice), client_for(alice), client_for(bob)
    assert first.post(LOGOUT_ALL).status_code == 204
    assert first.get(MESSAGES).status_code == 401
    assert second.get(MESSAGES).status_code == 401
    assert bobs.get(MESSAGES).status_code == 200


@pytest.mark.parametrize("url", [LOGOUT, LOGOUT_ALL])
def test_logout_needs_a_token(api_client, url):
    response = api_client.post(url)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_garbage_token_is_401_not_500(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token !!not-hex-at-all!!")
    response = api_client.get(MESSAGES)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_login_is_throttled_per_client(api_client, alice, monkeypatch):
    # DRF reads the rates once, at import; this is THROTTLE_AUTH_RATE=3/minute.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/minute"})
    bad = {"username": "alice", "password": "wrong-wrong"}
    statuses = [api_client.post(LOGIN, bad, format="json").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert "detail" in api_client.post(LOGIN, bad, format="json").json()


@pytest.mark.parametrize(
    "username", ["Émile", "\ufdfa" * 9, "\uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48\u3000name"]
)
def test_usernames_outside_ascii_or_that_normalise_to_them_are_refused(api_client, username):
    response = api_client.post(REGISTER, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert "username" in response.json()
    assert not User.objects.exists()


def test_a_username_is_stored_as_normalised(api_client):
    # Fullwidth letters are the same name as their ASCII forms once normalised (NFKC).
    response = api_client.post(
        REGISTER, {"username": "\uff44\uff41\uff56\uff45", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "dave"
    again = api_client.post(REGISTER, {"username": "DAVE", "password": PASSWORD}, format="json")
    assert again.status_code == 400
