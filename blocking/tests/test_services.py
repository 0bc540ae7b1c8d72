"""The blocking services and selectors: who may block whom, and what counts as blocked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from blocking.models import Block
from blocking.selectors import block_list_for, is_blocked
from blocking.services import block_create, block_delete
from blocking.tests.factories import BlockFactory

pytestmark = pytest.mark.django_db


def test_block_create_makes_the_receiver_refuse_the_sender(alice, bob):
    block = block_create(blocker=alice, blocked_username="bob")
    assert (block.blocker, block.blocked) == (alice, bob)
    assert is_blocked(sender=bob, receiver=alice)


def test_a_block_works_in_one_direction_only(alice, bob, carol):
    block_create(blocker=alice, blocked_username="bob")
    assert not is_blocked(sender=alice, receiver=bob)
    assert not is_blocked(sender=carol, receiver=alice)
    assert not is_blocked(sender=bob, receiver=carol)


def test_block_create_finds_the_user_whatever_the_case(alice, bob):
    assert block_create(blocker=alice, blocked_username="BOB").blocked == bob


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("nobody", "User does not exist."),
        ("alice", "You cannot block yourself."),
        ("Alice", "You cannot block yourself."),
    ],
)
def test_block_create_refuses_naming_the_blocked_field(alice, username, message):
    with pytest.raises(ValidationError) as caught:
        block_create(blocker=alice, blocked_username=username)
    assert caught.value.detail == {"blocked": [message]}
    assert not Block.objects.exists()


def test_block_create_refuses_a_second_block_and_leaves_the_transaction_usable(alice, bob):
    block_create(blocker=alice, blocked_username="bob")
    with pytest.raises(ValidationError) as caught:
        block_create(blocker=alice, blocked_username="Bob")
    assert caught.value.detail == {"blocked": ["You already block bob."]}
    # On PostgreSQL a failed INSERT outside a savepoint would break every later query.
    assert Block.objects.count() == 1


def test_the_database_refuses_duplicate_and_self_blocks(alice, bob):
    # The last line of defence behind the service checks, for concurrent requests.
    BlockFactory(blocker=alice, blocked=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        Block.objects.create(blocker=alice, blocked=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        Block.objects.create(blocker=alice, blocked=alice)
    assert Block.objects.count() == 1


def test_block_delete_lifts_the_block(alice, bob):
    BlockFactory(blocker=alice, blocked=bob)
    block_delete(blocker=alice, blocked_username="BOB")
    assert not is_blocked(sender=bob, receiver=alice)
    assert not Block.objects.exists()


def test_block_delete_leaves_other_blocks_alone(alice, bob, carol):
    BlockFactory(blocker=alice, blocked=bob)
    BlockFactory(blocker=alice, blocked=carol)
    BlockFactory(blocker=bob, blocked=alice)
    block_delete(blocker=alice, blocked_username="bob")
    assert is_blocked(sender=carol, receiver=alice)
    assert is_blocked(sender=alice, receiver=bob)
    assert Block.objects.count() == 2


@pytest.mark.parametrize("username", ["bob", "nobody"])
def test_block_delete_of_a_block_that_does_not_exist_is_not_found(alice, bob, carol, username):
    BlockFactory(blocker=carol, blocked=bob)
    with pytest.raises(NotFound) as caught:
        block_delete(blocker=alice, blocked_username=username)
    assert str(caught.value.detail) == f"You do not block {username}."
    assert Block.objects.count() == 1


def test_block_list_for_is_mine_only_newest_first_with_ties_by_id(alice, bob, carol):
    now = timezone.now()
    oldest = BlockFactory(blocker=alice, created=now - dt.timedelta(days=1))
    tie_first = BlockFactory(blocker=alice, created=now)
    tie_second = BlockFactory(blocker=alice, created=now)
    BlockFactory(blocker=bob, blocked=alice)
    BlockFactory(blocker=carol)
    assert list(block_list_for(user=alice)) == [tie_second, tie_first, oldest]


def test_block_list_for_loads_the_blocked_users_in_the_same_query(alice, django_assert_num_queries):
    BlockFactory.create_batch(5, blocker=alice)
    with django_assert_num_queries(1):
        names = [block.blocked.username for block in block_list_for(user=alice)]
    assert len(names) == 5
