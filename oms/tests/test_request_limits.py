"""Requests that are too big or too wide are refused with a 4xx, never a 500."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from messageservice.models import Message

pytestmark = pytest.mark.django_db


def test_a_form_body_with_too_many_fields_is_400(client_for, alice):
    body = urlencode([("ids", str(i)) for i in range(1, 1500)])
    response = client_for(alice).post(
        reverse("message-read"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The request has too many fields."}


def test_a_form_body_with_1000_ids_is_accepted(client_for, alice):
    body = urlencode([("ids", str(i)) for i in range(1, 1001)])
    response = client_for(alice).post(
        reverse("message-read"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 0}


def test_an_oversized_body_is_413_and_stores_nothing(client_for, alice, bob, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    response = client_for(alice).post(
        reverse("message-list"), {"receiver": "bob", "content": "x" * 60_000}, format="json"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert not Message.objects.exists()
