"""Token checks on every request: one query, expired tokens refused, other expired tokens cleared at login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("auth-login")
LOGOUT = reverse("auth-logout")
UNREAD = reverse("message-unread")


def expire(token: AuthToken) -> None:
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))


def test_a_request_checks_its_token_in_one_query(client_for, alice, django_assert_num_queries):
    client = client_for(alice)
    # The token with its user, then the unread counts.
    with django_assert_num_queries(2):
        assert client.get(UNREAD).status_code == 200


def test_an_expired_token_is_refused_and_deleted(client_for, alice):
    client = client_for(alice)
    expire(AuthToken.objects.get(user=alice))
    response = client.get(UNREAD)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert not AuthToken.objects.filter(user=alice).exists()


def test_other_expired_tokens_stay_until_login_and_go_then(api_client, client_for, alice):
    old = AuthToken.objects.create(user=alice)[0]
    expire(old)
    assert client_for(alice).get(UNREAD).status_code == 200
    assert AuthToken.objects.filter(pk=old.pk).exists()
    response = api_client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert not AuthToken.objects.filter(pk=old.pk).exists()
    assert AuthToken.objects.filter(user=alice).count() == 2  # the one in use and the new one


def test_a_deactivated_users_token_is_refused(client_for, alice):
    client = client_for(alice)
    alice.is_active = False
    alice.save()
    assert client.get(UNREAD).status_code == 401


def test_logout_checks_the_token_the_same_way(client_for, alice):
    client = client_for(alice)
    assert client.post(LOGOUT).status_code == 204
    assert client.get(UNREAD).status_code == 401
