"""Requests racing each other on real threads, each with its own client and database connection.

Each test forces the interleaving its name promises: a hold on a chosen SQL statement (an execute
wrapper on the request's own connection) keeps one request at that point while the others run, and
the test checks that every request really reached it, so a refactor that moves the point fails the
test instead of quietly making the race unreachable."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.urls import reverse

from messageservice.models import Message
from messageservice.tests.helpers import MESSAGES, assert_conversations_exact, detail

pytestmark = pytest.mark.django_db(transaction=True)

READ = reverse("message-read")
UNREAD = reverse("message-unread")
SYNC = reverse("sync")
JOIN_TIMEOUT = 120
# How long a request held inside a serialised section waits for the others to join it there. They
# never can if the section is serialised, so this is what each such test costs.
PATIENCE = 1.0


def run_together(*calls: Callable[[], object]) -> list:
    """Start every call at the same moment, each on its own thread; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    if errors:
        raise errors[0]
    return results


def is_insert_into_messages(sql: str) -> bool:
    return sql.lstrip().upper().startswith("INSERT") and "messageservice_message" in sql


def is_update_of_messages(sql: str) -> bool:
    return sql.lstrip().upper().startswith("UPDATE") and "messageservice_message" in sql


def is_idempotency_key_lookup(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT") and "messageservice_idempotencykey" in sql


class Rendezvous:
    """Holds each request just before its first statement that `at` matches until `parties` requests
    are there together (then `met`), or until `patience` runs out: a serialised section never lets a
    second one in, and then the first goes on alone. `arrived` counts the requests that got there."""

    def __init__(self, parties: int, at: Callable[[str], bool], patience: float = PATIENCE):
        self._barrier = threading.Barrier(parties)
        self._at = at
        self._patience = patience
        self._held = threading.local()
        self._lock = threading.Lock()
        self.arrived = 0
        self.met = False

    def _wrapper(self, execute, sql, params, many, context):
        if not getattr(self._held, "done", False) and self._at(sql):
            self._held.done = True
            with self._lock:
                self.arrived += 1
            try:
                self._barrier.wait(timeout=self._patience)
                self.met = True
            except threading.BrokenBarrierError:
                pass
        return execute(sql, params, many, context)

    def around(self, call: Callable[[], object]) -> Callable[[], object]:
        def held():
            self._held.done = False
            with connection.execute_wrapper(self._wrapper):
                return call()

        return held


def post(client, receiver: str, content: str = "hello", key: str | None = None):
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(MESSAGES, {"receiver": receiver, "content": content}, format="json", headers=headers)


def test_two_racing_sends_with_one_key_store_one_message(client_for, alice, bob):
    phone, laptop = client_for(alice), client_for(alice)
    # The first to look the key up waits there for the other: only the per-user lock keeps it out.
    inside = Rendezvous(2, at=is_idempotency_key_lookup)
    first, second = run_together(
        inside.around(lambda: post(phone, "bob", key="race")),
        inside.around(lambda: post(laptop, "bob", key="race")),
    )
    assert inside.arrived == 2
    assert not inside.met, "both sends were inside the key check at once: sends are not serialised"
    assert first.status_code == second.status_code == 201, (first.content, second.content)
    assert first.json()["id"] == second.json()["id"]
    replayed = sorted(str(r.headers.get("Idempotent-Replayed")) for r in (first, second))
    assert replayed == ["None", "true"]
    assert Message.objects.count() == 1


def test_eight_racing_sends_with_one_key_store_one_message(client_for, alice, bob):
    clients = [client_for(alice) for _ in range(8)]
    inside = Rendezvous(8, at=is_idempotency_key_lookup)
    responses = run_together(*[inside.around(lambda c=c: post(c, "bob", key="burst")) for c in clients])
    assert inside.arrived == 8
    assert not inside.met
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    assert Message.objects.count() == 1


def test_racing_sends_with_one_key_and_different_content_store_only_one(client_for, alice, bob):
    phone, laptop = client_for(alice), client_for(alice)
    inside = Rendezvous(2, at=is_idempotency_key_lookup)
    first, second = run_together(
        inside.around(lambda: post(phone, "bob", content="from the phone", key="k")),
        inside.around(lambda: post(laptop, "bob", content="from the laptop", key="k")),
    )
    assert inside.arrived == 2
    assert not inside.met
    assert sorted([first.status_code, second.status_code]) == [201, 422]
    winner = first if first.status_code == 201 else second
    assert list(Message.objects.values_list("id", "content")) == [
        (winner.json()["id"], winner.json()["content"])
    ]


def test_mark_all_read_racing_a_new_message_counts_each_message_once(client_for, alice, bob, carol):
    alices, bobs, carols = client_for(alice), client_for(bob), client_for(carol)
    for i in range(10):
        post(bobs, "alice", content=f"n{i}")
    landed: list = []
    senders: list[threading.Thread] = []
    waited: list[bool] = []

    def send_meanwhile(execute, sql, params, many, context):
        # Mark-all has counted what it marks; a new message for alice arrives before it writes.
        if is_update_of_messages(sql) and not senders:
            sender = threading.Thread(
                target=lambda: landed.extend(run_together(lambda: post(carols, "alice", content="meanwhile")))
            )
            senders.append(sender)
            sender.start()
            sender.join(PATIENCE)
            # Alice's lock keeps the send out until mark-all commits.
            waited.append(sender.is_alive())
        return execute(sql, params, many, context)

    def mark_all():
        with connection.execute_wrapper(send_meanwhile):
            return alices.post(READ, {"all": True}, format="json")

    (response,) = run_together(mark_all)
    senders[0].join(JOIN_TIMEOUT)
    assert waited == [True], "the send landed while mark-all was between its count and its update"
    assert [r.status_code for r in landed] == [201]
    marked = response.json()["marked"]
    # What mark-all reports is exactly what it marked, and what it did not mark is still unread.
    assert marked == 10
    assert Message.objects.filter(receiver=alice, read_at__isnull=False).count() == marked
    unread = alices.get(UNREAD).json()
    assert unread == {"count": 1, "by_sender": {"carol": 1}}
    assert not Message.objects.filter(read_at__isnull=False, delivered_at__isnull=True).exists()
    assert alices.post(READ, {"all": True}, format="json").json() == {"marked": 1}
    assert alices.get(UNREAD).json() == {"count": 0, "by_sender": {}}
    assert_conversations_exact()


def test_two_devices_marking_all_read_at_once_count_each_message_once(client_for, alice, bob):
    phone, laptop = client_for(alice), client_for(alice)
    bobs = client_for(bob)
    for i in range(30):
        post(bobs, "alice", content=f"n{i}")
    # The first to reach its update waits there for the other: only alice's lock keeps it out, so
    # the second counts what is left after the first has written (nothing), and never writes.
    writing = Rendezvous(2, at=is_update_of_messages)
    first, second = run_together(
        writing.around(lambda: phone.post(READ, {"all": True}, format="json")),
        writing.around(lambda: laptop.post(READ, {"all": True}, format="json")),
    )
    assert writing.arrived == 1
    assert not writing.met, "both devices were between count and update at once: marks are not serialised"
    assert sorted([first.json()["marked"], second.json()["marked"]]) == [0, 30]
    assert first.status_code == second.status_code == 200
    assert first.json()["marked"] + second.json()["marked"] == 30
    assert phone.get(UNREAD).json() == {"count": 0, "by_sender": {}}
    assert_conversations_exact()


def test_sync_while_others_send_sees_every_message_once(client_for, alice, bob, carol):
    # Alice sends from two devices and catches up on a third. (Her own sent messages: the sync
    # only reads, so it can run while a send holds the write lock of SQLite.)
    phone, tablet, laptop = client_for(alice), client_for(alice), client_for(alice)
    post(phone, "bob", content="before")
    seen: list[int] = []
    since = 0

    def sync_all() -> None:
        nonlocal since
        while True:
            body = laptop.get(SYNC, {"since": since, "limit": 3}).json()
            seen.extend(m["id"] for m in body["messages"])
            since = body["next_since"]
            if not body["has_more"]:
                return

    tablets_answer: list = []
    tablet_threads: list[threading.Thread] = []

    def hold_after_insert(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if is_insert_into_messages(sql) and not tablet_threads:
            # The phone's message has its id but is not committed. The tablet sends now, and the
            # laptop syncs before the phone's commits: were the tablet's (higher id) visible first,
            # the sync would move past the phone's for good.
            tablet_thread = threading.Thread(
                target=lambda: tablets_answer.extend(
                    run_together(lambda: post(tablet, "carol", content="tablet"))
                )
            )
            tablet_threads.append(tablet_thread)
            tablet_thread.start()
            tablet_thread.join(PATIENCE)  # it cannot finish while the phone's send holds alice
            run_together(sync_all)
        return result

    def phones_send():
        with connection.execute_wrapper(hold_after_insert):
            return post(phone, "bob", content="phone")

    (phones_answer,) = run_together(phones_send)
    tablet_threads[0].join(JOIN_TIMEOUT)
    assert phones_answer.status_code == 201
    assert [r.status_code for r in tablets_answer] == [201]
    sync_all()
    expected = list(Message.objects.filter(sender=alice).order_by("id").values_list("id", flat=True))
    assert len(expected) == 3
    assert seen == expected
    assert_conversations_exact()


def test_both_parties_deleting_at_once_hides_the_message_from_both(client_for, alice, bob):
    alices, bobs = client_for(alice), client_for(bob)
    message = post(alices, "bob").json()
    # Both deletes have read the message before either writes, as two slow requests would. (Each
    # holds only its own user's lock; SQLite lets one writer in at a time, so there they take turns.)
    writing = Rendezvous(2, at=is_update_of_messages)
    by_alice, by_bob = run_together(
        writing.around(lambda: alices.delete(detail(message["id"]))),
        writing.around(lambda: bobs.delete(detail(message["id"]))),
    )
    assert writing.arrived == 2
    assert writing.met or connection.vendor == "sqlite"
    assert by_alice.status_code == by_bob.status_code == 204
    assert alices.get(detail(message["id"])).status_code == 404
    assert bobs.get(detail(message["id"])).status_code == 404
    assert alices.get(SYNC).json()["messages"] == []
    assert bobs.get(SYNC).json()["messages"] == []
    assert_conversations_exact()
