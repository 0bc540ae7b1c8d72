"""The OpenAPI schema describes each list with the pagination it really has."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    return api_client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def page_schema(schema, path: str) -> dict:
    ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize("path", ["/api/message", "/api/message/sent", "/api/message/received", "/api/block"])
def test_page_numbered_lists_are_documented_with_a_count(schema, path):
    assert set(page_schema(schema, path)["properties"]) == {"count", "next", "previous", "results"}


def test_the_conversation_history_is_documented_as_cursor_pages(schema):
    assert set(page_schema(schema, "/api/conversation/{username}")["properties"]) == {
        "next",
        "previous",
        "results",
    }
