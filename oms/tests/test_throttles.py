"""Abuse limits: sends per user, Retry-After on every 429, and no database work for any of it."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from accounts.api import LoginApi
from messageservice.api import MessageListCreateApi
from messageservice.models import Message
from oms.tests.helpers import run_manage

pytestmark = pytest.mark.django_db

MESSAGES = reverse("message-list")
LOGIN = reverse("auth-login")


@pytest.fixture
def rates(monkeypatch):
    """Sets throttle rates as THROTTLE_*_RATE would: DRF reads them once, at import."""

    def set_rate(scope: str, rate: str) -> None:
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rate


def send(client, content: str = "hi"):
    return client.post(MESSAGES, {"receiver": "bob", "content": content}, format="json")


def test_sends_over_the_rate_are_429_with_retry_after_and_store_nothing(client_for, alice, bob, rates):
    rates("send", "3/minute")
    alices = client_for(alice)
    statuses = [send(alices, f"n{i}").status_code for i in range(3)]
    refused = send(alices, "one too many")
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "detail" in refused.json()
    assert Message.objects.count() == 3


def test_the_send_limit_is_per_user_and_reading_is_not_counted(client_for, alice, bob, carol, rates):
    rates("send", "2/minute")
    alices, carols = client_for(alice), client_for(carol)
    for _ in range(5):
        assert alices.get(MESSAGES).status_code == 200
    assert [send(alices).status_code for _ in range(3)] == [201, 201, 429]
    assert send(carols).status_code == 201


def test_the_default_send_rate_lets_a_person_type_freely(client_for, alice, bob):
    alices = client_for(alice)
    assert all(send(alices, f"n{i}").status_code == 201 for i in range(30))


def test_every_429_says_when_to_retry_even_past_the_rate(api_client, rates):
    # More attempts recorded than the rate allows (racing workers, or a lowered rate): DRF then
    # computes no wait, but the answer must still carry Retry-After.
    rates("auth", "2/minute")
    cache.set("throttle_auth_127.0.0.1", [9e18] * 5)
    response = api_client.post(LOGIN, {"username": "a", "password": "b"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_throttles_add_no_database_query(client_for, alice, bob, monkeypatch):
    alices = client_for(alice)

    def queries_of_one_send() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert send(alices).status_code == 201
        return [q["sql"] for q in captured.captured_queries]

    throttled = queries_of_one_send()
    monkeypatch.setattr(MessageListCreateApi, "throttle_classes", ())
    unthrottled = queries_of_one_send()
    assert len(throttled) == len(unthrottled)
    assert not any("cache" in sql.lower() for sql in throttled)

    with CaptureQueriesContext(connection) as captured:
        assert client_for(alice).post(LOGIN, {}, format="json").status_code == 400
    monkeypatch.setattr(LoginApi, "throttle_classes", ())
    with CaptureQueriesContext(connection) as unthrottled_login:
        assert client_for(alice).post(LOGIN, {}, format="json").status_code == 400
    assert len(captured.captured_queries) == len(unthrottled_login.captured_queries)


def test_the_send_rate_comes_from_the_environment():
    script = (
        "from django.conf import settings; print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['send'])"
    )
    result = run_manage("shell", "-c", script, THROTTLE_SEND_RATE="5000/hour")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "5000/hour"
