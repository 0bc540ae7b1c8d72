"""Changing or resetting a password ends every session: the user's tokens stop working at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.urls import reverse
from knox.models import AuthToken

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

MESSAGES = reverse("message-list")
NEW_PASSWORD = "a completely different passphrase"


def test_set_password_revokes_every_token_of_that_user_only(client_for, alice, bob):
    phone, laptop, bobs = client_for(alice), client_for(alice), client_for(bob)
    alice.set_password(NEW_PASSWORD)
    alice.save()
    assert phone.get(MESSAGES).status_code == 401
    assert laptop.get(MESSAGES).status_code == 401
    assert bobs.get(MESSAGES).status_code == 200


def test_an_admin_password_reset_revokes_the_tokens(client_for, admin_client, alice):
    phone = client_for(alice)
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    assert phone.get(MESSAGES).status_code == 401


def test_the_password_form_revokes_the_tokens(client_for, alice):
    phone = client_for(alice)
    form = AdminPasswordChangeForm(alice, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert form.is_valid(), form.errors
    form.save()
    assert phone.get(MESSAGES).status_code == 401


def test_logging_in_with_the_new_password_gives_a_working_token(client_for, api_client, alice):
    client_for(alice)
    alice.set_password(NEW_PASSWORD)
    alice.save()
    response = api_client.post(
        reverse("auth-login"), {"username": "alice", "password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api_client.get(MESSAGES).status_code == 200


def test_saving_a_user_without_a_password_change_keeps_the_tokens(client_for, api_client, alice):
    phone = client_for(alice)
    alice.email = "alice@example.com"
    alice.save()
    # Logging in again saves last_login: that must not end the other sessions either.
    response = api_client.post(
        reverse("auth-login"), {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert phone.get(MESSAGES).status_code == 200
    assert AuthToken.objects.filter(user=alice).count() == 2
