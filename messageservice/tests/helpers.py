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


def conversations_from_messages() -> dict[tuple[int, int], dict]:
    """What every conversation row must hold, worked out from the messages one by one."""
    from messageservice.models import Message

    expected: dict[tuple[int, int], dict] = {}

    def row(owner: int, peer: int) -> dict:
        return expected.setdefault((owner, peer), {"sent": 0, "received": 0, "unread": 0, "last": None})

    def saw(entry: dict, pk: int) -> None:
        entry["last"] = pk if entry["last"] is None else max(entry["last"], pk)

    for m in Message.objects.order_by("id"):
        as_sender = row(m.sender_id, m.receiver_id)
        if not m.deleted_by_sender:
            as_sender["sent"] += 1
            saw(as_sender, m.pk)
        as_receiver = row(m.receiver_id, m.sender_id)
        if not m.deleted_by_receiver:
            as_receiver["received"] += 1
            as_receiver["unread"] += m.read_at is None
            saw(as_receiver, m.pk)
    return expected


def stored_conversations() -> dict[tuple[int, int], dict]:
    from messageservice.models import Conversation

    return {
        (c.owner_id, c.peer_id): {
            "sent": c.sent,
            "received": c.received,
            "unread": c.unread,
            "last": c.last_message_id,
        }
        for c in Conversation.objects.all()
    }


def assert_conversations_exact() -> None:
    """Every user's conversation rows say exactly what their messages say."""
    assert stored_conversations() == conversations_from_messages()
