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


@pytest.mark.parametrize("url_name", ["message-list", "message-read"])
def test_json_nested_too_deeply_is_400(client_for, alice, url_name):
    response = client_for(alice).post(reverse(url_name), "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/api/conversation/al%00ice", "/api/block/al%00ice", "/api/conversation/%C3%A9mile"]
)
def test_a_username_in_a_url_with_characters_no_username_has_is_404(client_for, alice, path):
    client = client_for(alice)
    response = client.delete(path) if "block" in path else client.get(path)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_an_idempotency_key_with_control_characters_is_400(client_for, alice, bob):
    response = client_for(alice).post(
        reverse("message-list"),
        {"receiver": "bob", "content": "hi"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="abc\x00def",
    )
    assert response.status_code == 400
    assert not Message.objects.exists()


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_host_is_a_json_400_without_a_debug_page(api_client, settings, debug):
    settings.DEBUG = debug
    response = api_client.get(reverse("message-list"), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json() == {"detail": "Unknown host."}
