"""Fixtures for the socket and long-poll tests: real transactions, tokens, and an async runner."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import connections
from knox.models import AuthToken


@pytest.fixture(autouse=True, scope="session")
def _pool_connections_do_not_outlive_a_call():
    # The consumers read the log from a thread pool; with persistent connections those threads
    # would keep the test database open after the run.
    django_settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture
def token_for(transactional_db):
    def make(user) -> str:
        # Also usable inside a test's coroutine: the ORM then runs on a thread of its own.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(_closing(lambda: AuthToken.objects.create(user=user)[1])).result()

    return make


@pytest.fixture
def run():
    """run(coroutine): runs it to the end on a fresh event loop, within a bound."""

    def go(coroutine, timeout: float = 30):
        return asyncio.run(asyncio.wait_for(coroutine, timeout))

    return go


def _closing(function):
    """`function`, closing the calling thread's database connection afterwards, as a request does."""

    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return call


def in_thread(function):
    """A service call from async test code, as a request thread would make it."""
    return sync_to_async(_closing(function), thread_sensitive=False)
