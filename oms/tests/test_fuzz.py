"""Schemathesis sends generated requests to every operation in the schema: no input may produce a 500,
and every answer must be what the schema documents (status, content type, headers and body), so the
schema cannot drift from the service."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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
def test_generated_requests_get_documented_answers_and_never_a_server_error(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )
