"""URL and request helpers shared by the message API tests."""

from __future__ import annotations

from django.urls import reverse

MESSAGES = reverse("message-list")


def detail(pk: int) -> str:
    return reverse("message-detail", kwargs={"pk": pk})


def conversation(username: str) -> str:
    return reverse("conversation-detail", kwargs={"username": username})


def send(client, receiver: str, content: str = "hello") -> dict:
    response = client.post(MESSAGES, {"receiver": receiver, "content": content}, format="json")
    assert response.status_code == 201, response.content
    return response.json()
