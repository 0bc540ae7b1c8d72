"""No input may produce a 500: schemathesis sends generated requests to every operation in the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken

from accounts.tests.factories import UserFactory
from messageservice.tests.factories import MessageFactory
from oms.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", application)


@pytest.fixture
def _keep_test_connection():
    # Like Django's test client: a request must not close the test transaction's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, _keep_test_connection):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    MessageFactory(sender=alice, receiver=bob)
    MessageFactory(sender=bob, receiver=alice)
    _, key = AuthToken.objects.create(user=alice)
    return key


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_server_error(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text)
