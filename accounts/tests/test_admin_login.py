"""The admin's login page is throttled like API login (per client address and per username) and its
failed logins are logged like API ones."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = reverse("admin:login")
API_LOGIN = reverse("auth-login")


@pytest.fixture
def admin_user(settings):
    settings.AXES_FAILURE_LIMIT = 3  # ADMIN_LOGIN_FAILURE_LIMIT
    return UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)


def admin_login(client, username: str, password: str, address: str = "192.0.2.1"):
    return client.post(
        ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def test_the_right_password_still_works_before_the_limit(client, admin_user):
    assert admin_login(client, "root", "wrong").status_code == 200  # the form again, with an error
    response = admin_login(client, "root", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_after_too_many_failures_even_the_right_password_is_refused_with_429(client, admin_user, caplog):
    statuses = [admin_login(client, "root", "wrong-guess").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the failure that reaches the limit is already refused
    response = admin_login(client, "root", PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in client.session
    lockouts = [r.getMessage() for r in caplog.records if "locked out" in r.getMessage()]
    # One line for each refused attempt: the one that reached the limit, and the right password.
    assert lockouts == ["admin login locked out user=root address=192.0.2.1"] * 2


def test_failures_for_one_username_from_many_addresses_lock_that_username(client, admin_user):
    for i in range(3):
        admin_login(client, "ROOT", "wrong-guess", address=f"198.51.100.{i}")
    assert admin_login(client, "root", PASSWORD, address="203.0.113.9").status_code == 429


def test_failures_for_many_usernames_from_one_address_lock_that_address(client, admin_user):
    for name in ("admin", "administrator", "staff"):
        admin_login(client, name, "wrong-guess", address="192.0.2.50")
    assert admin_login(client, "root", PASSWORD, address="192.0.2.50").status_code == 429
    assert admin_login(client, "root", PASSWORD, address="192.0.2.51").status_code == 302


def test_an_admin_lockout_does_not_lock_the_api(client, api_client, admin_user):
    for _ in range(3):
        admin_login(client, "root", "wrong-guess", address="127.0.0.1")
    response = api_client.post(API_LOGIN, {"username": "root", "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_failed_api_logins_never_trigger_the_admin_lockout(api_client, admin_user, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "auth", "1000/minute")
    bad = {"username": "root", "password": "wrong-guess"}
    statuses = {api_client.post(API_LOGIN, bad, format="json").status_code for _ in range(5)}
    assert statuses == {400}
    good = api_client.post(API_LOGIN, {"username": "root", "password": PASSWORD}, format="json")
    assert good.status_code == 200
    client = Client()
    assert admin_login(client, "root", PASSWORD, address="127.0.0.1").status_code == 302


def test_failed_admin_and_api_logins_are_logged_alike_without_the_password(
    client, api_client, admin_user, caplog
):
    with caplog.at_level(logging.INFO):
        admin_login(client, "root", "wrong-admin-guess")
        api_client.post(API_LOGIN, {"username": "root", "password": "wrong-api-guess"}, format="json")
    lines = [r for r in caplog.records if r.getMessage().startswith("invalid login")]
    assert [r.getMessage() for r in lines] == [
        f"invalid login user=root path={ADMIN_LOGIN}",
        f"invalid login user=root path={API_LOGIN}",
    ]
    assert all(r.levelno == logging.WARNING for r in lines)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "wrong-admin-guess" not in logged and "wrong-api-guess" not in logged


def test_api_logins_cost_no_lockout_bookkeeping(api_client, alice):
    with CaptureQueriesContext(connection) as captured:
        assert (
            api_client.post(API_LOGIN, {"username": "alice", "password": PASSWORD}, format="json").status_code
            == 200
        )
        assert (
            api_client.post(API_LOGIN, {"username": "alice", "password": "nope"}, format="json").status_code
            == 400
        )
    assert not [q["sql"] for q in captured.captured_queries if "axes" in q["sql"]]
