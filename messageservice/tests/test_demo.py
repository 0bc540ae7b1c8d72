"""seed_demo writes in bulk exactly what the services write for the same history."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from messageservice.demo import demo_content, demo_history, demo_usernames, demo_write
from messageservice.models import Conversation, Message
from messageservice.services import message_delete, message_mark_delivered, message_mark_read, message_send
from messageservice.tests.helpers import assert_conversations_exact

pytestmark = pytest.mark.django_db

USERS, MESSAGES, HEAVY = 6, 150, [("heavy", 90)]


def snapshot() -> dict:
    """Everything a user could tell apart, with ids and timestamps replaced by their order."""
    messages = list(Message.objects.order_by("id").select_related("sender", "receiver"))
    position = {m.pk: i for i, m in enumerate(messages)}
    return {
        "users": sorted(User.objects.values_list("username", "email", "is_active")),
        "messages": [
            (
                m.sender.username,
                m.receiver.username,
                m.content,
                m.delivered_at is not None,
                m.read_at is not None,
                m.deleted_by_sender,
                m.deleted_by_receiver,
            )
            for m in messages
        ],
        "conversations": sorted(
            (c.owner.username, c.peer.username, c.sent, c.received, c.unread, position.get(c.last_message_id))
            for c in Conversation.objects.select_related("owner", "peer")
        ),
    }


def replay_through_the_services() -> None:
    names = demo_usernames(users=USERS, heavy=HEAVY)
    users = [User.objects.create_user(username=n, email=f"{n}@example.com", password="x") for n in names]
    history = list(demo_history(users=USERS, messages=MESSAGES, heavy=HEAVY, seed=7))
    sent = [
        message_send(sender=users[h.sender], receiver_username=names[h.receiver], content=demo_content(i))[0]
        for i, h in enumerate(history)
    ]
    for h, message in zip(history, sent, strict=True):
        receiver = users[h.receiver]
        if h.delivered_at is not None:
            message_mark_delivered(user=receiver, messages=[message])
        if h.read_at is not None:
            message_mark_read(user=receiver, ids=[message.pk])
        if h.deleted_by_sender:
            message_delete(user=users[h.sender], message_id=message.pk)
        if h.deleted_by_receiver and h.sender != h.receiver:
            message_delete(user=receiver, message_id=message.pk)


def test_seeded_data_is_what_the_services_store_for_the_same_history(db):
    demo_write(users=USERS, messages=MESSAGES, heavy=HEAVY, seed=7)
    seeded = snapshot()
    assert_conversations_exact()
    Message.objects.all().delete()
    User.objects.all().delete()

    replay_through_the_services()
    through_services = snapshot()
    assert seeded == through_services
    # The history has every kind of message in it.
    states = {row[3:] for row in seeded["messages"]}
    assert {(True, True, False, False), (False, False, False, False)} <= states
    assert any(row[5] for row in seeded["messages"]) and any(row[6] for row in seeded["messages"])


def test_seeded_times_run_in_send_order_and_reads_follow_delivery(db):
    demo_write(users=USERS, messages=MESSAGES, heavy=HEAVY, seed=3)
    rows = list(Message.objects.order_by("id").values_list("created", "delivered_at", "read_at"))
    created = [c for c, _, _ in rows]
    assert created == sorted(created)
    assert all(d is None or c <= d for c, d, _ in rows)
    assert all(r is None or (d is not None and d <= r) for _, d, r in rows)


def test_seed_demo_command_creates_the_users_and_the_heavy_users_history(db):
    call_command(
        "seed_demo", "--users", "4", "--messages", "30", "--heavy", "big:25", "--password", "pw-12345678"
    )
    assert set(User.objects.values_list("username", flat=True)) == {"demo1", "demo2", "demo3", "demo4", "big"}
    big = User.objects.get(username="big")
    assert big.check_password("pw-12345678")
    assert Message.objects.filter(sender=big).count() + Message.objects.filter(receiver=big).count() == 25
    assert Message.objects.count() == 55
    assert len({m.receiver_id if m.sender_id == big.pk else m.sender_id for m in Message.objects.all()}) > 1


@pytest.mark.parametrize(
    "args",
    [["--users", "0"], ["--heavy", "nocount"], ["--heavy", "demo3:5"], ["--heavy", "a:1", "--heavy", "A:2"]],
)
def test_seed_demo_refuses_bad_arguments(db, args):
    with pytest.raises((CommandError, SystemExit)):
        call_command("seed_demo", *args)
    assert not User.objects.exists()


def test_seed_demo_refuses_to_write_over_existing_demo_users(db):
    call_command("seed_demo", "--users", "2", "--messages", "5")
    with pytest.raises(CommandError, match="already exist"):
        call_command("seed_demo", "--users", "2", "--messages", "5")
    assert Message.objects.count() == 5
