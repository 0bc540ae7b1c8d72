"""The migration that adds conversation rows fills them from the messages already stored."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from messageservice.tests.helpers import assert_conversations_exact

BEFORE = [("messageservice", "0001_initial")]
AFTER = [("messageservice", "0002_conversation")]


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    yield executor
    # Leave the schema as every other test expects it: fully migrated.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_messages_get_exact_conversation_rows(executor):
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User, Message = old.get_model("accounts", "User"), old.get_model("messageservice", "Message")
    alice, bob, carol = (User.objects.create(username=name) for name in ("alice", "bob", "carol"))
    Message.objects.create(sender=bob, receiver=alice, content="1")
    Message.objects.create(sender=alice, receiver=bob, content="2", deleted_by_sender=True)
    Message.objects.create(sender=carol, receiver=alice, content="3", read_at="2024-01-01T00:00:00Z")
    Message.objects.create(sender=alice, receiver=alice, content="4")
    Message.objects.create(sender=bob, receiver=alice, content="5", deleted_by_receiver=True)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    assert_conversations_exact()
