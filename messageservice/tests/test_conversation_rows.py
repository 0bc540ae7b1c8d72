"""The conversation rows that lists and counts read: exact after every write, whatever the mix."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from messageservice.models import Conversation, Message
from messageservice.services import conversation_rebuild
from messageservice.tests.factories import MessageFactory
from messageservice.tests.helpers import (
    MESSAGES,
    assert_conversations_exact,
    conversations_from_messages,
    detail,
    send,
    stored_conversations,
)

pytestmark = pytest.mark.django_db

SENT = reverse("message-sent")
RECEIVED = reverse("message-received")
READ = reverse("message-read")
UNREAD = reverse("message-unread")
CONVERSATIONS = reverse("conversation-list")

PEOPLE = ("alice", "bob", "carol")

send_op = st.tuples(st.just("send"), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE))
delete_op = st.tuples(st.just("delete"), st.sampled_from(PEOPLE), st.integers(min_value=0, max_value=50))
read_op = st.tuples(
    st.just("read"), st.sampled_from(PEOPLE), st.one_of(st.sampled_from(("all", *PEOPLE)), st.integers(0, 50))
)
look_op = st.tuples(st.just("look"), st.sampled_from(PEOPLE), st.sampled_from((RECEIVED, CONVERSATIONS)))
operations = st.lists(st.one_of(send_op, send_op, delete_op, read_op, look_op), max_size=30)


def counts_seen_by(client) -> dict:
    return {
        "all": client.get(MESSAGES).json()["count"],
        "sent": client.get(SENT).json()["count"],
        "received": client.get(RECEIVED).json()["count"],
        "unread": client.get(RECEIVED, {"unread": "true"}).json()["count"],
        "conversations": client.get(CONVERSATIONS).json()["count"],
        "unread_total": client.get(UNREAD).json()["count"],
    }


def counts_from_messages(user: User) -> dict:
    visible = Message.objects.visible_to(user)
    unread = Message.objects.received_by(user).filter(read_at__isnull=True).count()
    peers = {m.receiver_id if m.sender_id == user.pk else m.sender_id for m in visible}
    return {
        "all": visible.count(),
        "sent": Message.objects.sent_by(user).count(),
        "received": Message.objects.received_by(user).count(),
        "unread": unread,
        "conversations": len(peers),
        "unread_total": unread,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_every_write_keeps_the_rows_exact_and_the_counts_true(client_for, alice, bob, carol, ops):
    """Sends (notes to self too), deletes by either party, read marks by ids, sender or all, and
    pages that deliver, in any order: after each, the rows equal what the messages say."""
    users = {"alice": alice, "bob": bob, "carol": carol}
    with transaction.atomic():
        clients = {name: client_for(user) for name, user in users.items()}
        for op, who, arg in ops:
            client = clients[who]
            if op == "send":
                send(client, arg)
            elif op == "delete":
                mine = list(
                    Message.objects.visible_to(users[who]).order_by("id").values_list("id", flat=True)
                )
                if mine:
                    assert client.delete(detail(mine[arg % len(mine)])).status_code == 204
            elif op == "read":
                if arg == "all":
                    body = {"all": True}
                elif isinstance(arg, str):
                    body = {"sender": arg}
                else:
                    received = list(Message.objects.filter(receiver=users[who]).values_list("id", flat=True))
                    body = {"ids": [received[arg % len(received)]] if received else [1]}
                assert client.post(READ, body, format="json").status_code == 200
            else:
                assert client.get(arg).status_code == 200
            assert_conversations_exact()
        for name, user in users.items():
            assert counts_seen_by(clients[name]) == counts_from_messages(user)
        transaction.set_rollback(True)


def test_marking_read_by_ids_across_senders_lowers_each_conversation(client_for, alice, bob, carol):
    from_bob = send(client_for(bob), "alice")
    from_carol = send(client_for(carol), "alice")
    send(client_for(carol), "alice")
    alices = client_for(alice)
    response = alices.post(READ, {"ids": [from_bob["id"], from_carol["id"]]}, format="json")
    assert response.json() == {"marked": 2}
    assert alices.get(UNREAD).json() == {"count": 1, "by_sender": {"carol": 1}}
    assert_conversations_exact()


def test_deleting_the_newest_message_shows_the_one_before_in_the_list(client_for, alice, bob):
    alices = client_for(alice)
    older = send(alices, "bob", "older")
    newer = send(client_for(bob), "alice", "newer")
    assert alices.delete(detail(newer["id"])).status_code == 204
    [row] = alices.get(CONVERSATIONS).json()["results"]
    assert (row["peer"], row["last_message"]["id"], row["unread"]) == ("bob", older["id"], 0)
    assert alices.delete(detail(older["id"])).status_code == 204
    assert alices.get(CONVERSATIONS).json()["count"] == 0
    # Bob still has both.
    assert client_for(bob).get(CONVERSATIONS).json()["results"][0]["last_message"]["id"] == newer["id"]
    assert_conversations_exact()


def test_the_admin_deleting_messages_keeps_both_parties_rows_exact(admin_client, client_for, alice, bob):
    message = send(client_for(alice), "bob")
    send(client_for(bob), "alice")
    delete = reverse("admin:messageservice_message_delete", args=[message["id"]])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert_conversations_exact()
    assert client_for(bob).get(RECEIVED).json()["count"] == 0


def test_deleting_a_user_removes_the_rows_about_them(client_for, alice, bob, carol):
    send(client_for(alice), "bob")
    send(client_for(carol), "bob")
    alice.delete()
    assert_conversations_exact()
    assert client_for(bob).get(RECEIVED).json()["count"] == 1


def test_rebuild_restores_rows_written_around_the_services(alice, bob, carol):
    MessageFactory(sender=bob, receiver=alice)
    MessageFactory(sender=alice, receiver=alice)
    Message.objects.filter(sender=bob).update(read_at="2024-01-01T00:00:00Z", deleted_by_sender=True)
    Conversation.objects.filter(owner=bob).delete()
    assert stored_conversations() != conversations_from_messages()
    conversation_rebuild(owners=[alice.pk, bob.pk])
    assert_conversations_exact()
    Conversation.objects.all().delete()
    conversation_rebuild()
    assert_conversations_exact()
