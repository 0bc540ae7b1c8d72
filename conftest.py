"""Shared fixtures: an API client, named personas and a helper to act as one of them."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"

# CI explores the same generated cases on every run, so a red build always reproduces; local runs
# keep drawing new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    # Hashing strength is not under test; throttle counters must not leak between tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", password=PASSWORD)


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", password=PASSWORD)


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", password=PASSWORD)


@pytest.fixture
def client_for(db):
    """`client_for(user)`: an APIClient that sends a real knox token of `user`."""
    from knox.models import AuthToken

    def make(user) -> APIClient:
        _, token = AuthToken.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        client.token = token
        return client

    return make
