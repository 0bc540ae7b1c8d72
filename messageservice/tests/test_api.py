"""Sending and listing messages over HTTP: the original endpoints."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from blocking.tests.factories import BlockFactory
from messageservice.models import Message
from messageservice.tests.factories import MessageFactory
from messageservice.tests.helpers import detail

pytestmark = pytest.mark.django_db

LIST = reverse("message-list")
SENT = reverse("message-sent")
RECEIVED = reverse("message-received")


def test_public_paths_are_the_documented_ones():
    assert LIST == "/api/message"
    assert SENT == "/api/message/sent"
    assert RECEIVED == "/api/message/received"
    assert detail(7) == "/api/message/7"


def test_send_stores_the_message_from_the_token_user(client_for, alice, bob):
    response = client_for(alice).post(LIST, {"receiver": "bob", "content": "hi bob"}, format="json")
    assert response.status_code == 201
    body = response.json()
    message = Message.objects.get()
    assert body == {
        "id": message.id,
        "sender": "alice",
        "receiver": "bob",
        "content": "hi bob",
        "created": body["created"],
        "delivered_at": None,
        "read_at": None,
    }
    assert dt.datetime.fromisoformat(body["created"]) == message.created
    assert (message.sender, message.receiver) == (alice, bob)


def test_sender_in_the_body_is_ignored(client_for, alice, bob, carol):
    client_for(alice).post(LIST, {"receiver": "bob", "content": "hi", "sender": "carol"}, format="json")
    assert Message.objects.get().sender == alice


def test_send_accepts_form_encoded_bodies(client_for, alice, bob):
    response = client_for(alice).post(
        LIST, "receiver=bob&content=hello+there", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201
    assert Message.objects.get().content == "hello there"


def test_receiver_is_matched_without_regard_to_case(client_for, alice, bob):
    response = client_for(alice).post(LIST, {"receiver": "BoB", "content": "hi"}, format="json")
    assert response.status_code == 201
    assert response.json()["receiver"] == "bob"


def test_content_is_kept_exactly_as_typed(client_for, alice, bob):
    text = "  two spaces, a tab\t, unicode ✓ and a newline\n"
    response = client_for(alice).post(LIST, {"receiver": "bob", "content": text}, format="json")
    assert response.json()["content"] == text


def test_sending_to_yourself_is_allowed(client_for, alice):
    response = client_for(alice).post(LIST, {"receiver": "alice", "content": "note to self"}, format="json")
    assert response.status_code == 201
    assert response.json()["receiver"] == "alice"


def test_content_of_exactly_10000_characters_is_accepted(client_for, alice, bob):
    response = client_for(alice).post(LIST, {"receiver": "bob", "content": "x" * 10_000}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": "hi"}, "receiver"),
        ({"receiver": "bob"}, "content"),
        ({"receiver": "", "content": "hi"}, "receiver"),
        ({"receiver": "bob", "content": ""}, "content"),
        ({"receiver": "bob", "content": "   \n\t "}, "content"),
        ({"receiver": "bob", "content": "x" * 10_001}, "content"),
        ({"receiver": 42, "content": "hi"}, "receiver"),
        ({"receiver": "bob", "content": 42}, "content"),
        ({"receiver": "bob", "content": True}, "content"),
        ({"receiver": "bob", "content": ["hi"]}, "content"),
        ({"receiver": "bob", "content": {"text": "hi"}}, "content"),
        ({"receiver": None, "content": "hi"}, "receiver"),
        ({"receiver": "bob", "content": "nul \x00 byte"}, "content"),
    ],
)
def test_bad_send_is_400_naming_the_field_and_stores_nothing(client_for, alice, bob, body, field):
    response = client_for(alice).post(LIST, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Message.objects.exists()


def test_unknown_receiver_is_400(client_for, alice):
    response = client_for(alice).post(LIST, {"receiver": "nobody", "content": "hi"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"receiver": ["Receiver does not exist."]}
    assert not Message.objects.exists()


def test_body_that_is_not_an_object_is_400(client_for, alice):
    response = client_for(alice).post(LIST, ["receiver", "bob"], format="json")
    assert response.status_code == 400


def test_blocked_sender_gets_403_and_nothing_is_stored(client_for, alice, bob):
    BlockFactory(blocker=bob, blocked=alice)
    response = client_for(alice).post(LIST, {"receiver": "bob", "content": "hi"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You are blocked by bob"}
    assert not Message.objects.exists()


def test_list_shows_my_sent_and_received_newest_first(client_for, alice, bob, carol):
    now = timezone.now()
    older = MessageFactory(sender=bob, receiver=alice, created=now - dt.timedelta(hours=2))
    newer = MessageFactory(sender=alice, receiver=carol, created=now - dt.timedelta(hours=1))
    MessageFactory(sender=bob, receiver=carol)  # not mine
    body = client_for(alice).get(LIST).json()
    assert body["count"] == 2
    assert [m["id"] for m in body["results"]] == [newer.id, older.id]


def test_messages_created_at_the_same_instant_are_ordered_by_id(client_for, alice, bob):
    moment = timezone.now()
    first = MessageFactory(sender=bob, receiver=alice, created=moment)
    second = MessageFactory(sender=bob, receiver=alice, created=moment)
    results = client_for(alice).get(LIST).json()["results"]
    assert [m["id"] for m in results] == [second.id, first.id]


def test_list_pages_hold_20_and_a_page_past_the_end_is_404(client_for, alice, bob):
    MessageFactory.create_batch(45, sender=bob, receiver=alice)
    client = client_for(alice)
    first = client.get(LIST).json()
    third = client.get(LIST, {"page": 3}).json()
    assert first["count"] == 45
    assert len(first["results"]) == 20
    assert first["previous"] is None and "page=2" in first["next"]
    assert len(third["results"]) == 5 and third["next"] is None
    seen = [m["id"] for page in (1, 2, 3) for m in client.get(LIST, {"page": page}).json()["results"]]
    assert sorted(seen) == sorted(Message.objects.values_list("id", flat=True))
    past = client.get(LIST, {"page": 4})
    assert past.status_code == 404
    assert "detail" in past.json()


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999999"])
def test_nonsense_page_numbers_are_404_not_500(client_for, alice, page):
    assert client_for(alice).get(LIST, {"page": page}).status_code == 404


def test_a_user_never_sees_another_users_message(client_for, alice, bob, carol):
    theirs = MessageFactory(sender=bob, receiver=carol)
    client = client_for(alice)
    assert client.get(detail(theirs.id)).status_code == 404
    for url in (LIST, SENT, RECEIVED):
        assert client.get(url).json()["count"] == 0
    assert client.get(LIST, {"peer": "bob"}).json()["count"] == 0


def test_detail_for_sender_and_receiver(client_for, alice, bob):
    message = MessageFactory(sender=alice, receiver=bob, content="hello")
    for user in (alice, bob):
        response = client_for(user).get(detail(message.id))
        assert response.status_code == 200
        assert response.json()["content"] == "hello"


def test_detail_of_a_missing_message_is_404_like_someone_elses(client_for, alice, bob, carol):
    theirs = MessageFactory(sender=bob, receiver=carol)
    client = client_for(alice)
    missing = client.get(detail(theirs.id + 1000))
    hidden = client.get(detail(theirs.id))
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


def test_huge_ids_are_404_not_500(client_for, alice):
    client = client_for(alice)
    assert client.get("/api/message/9223372036854775807").status_code == 404
    assert client.get("/api/message/99999999999999999999999999").status_code == 404


@pytest.mark.parametrize("method", ["put", "patch"])
def test_messages_are_immutable(client_for, alice, bob, method):
    message = MessageFactory(sender=alice, receiver=bob, content="original")
    response = getattr(client_for(alice), method)(detail(message.id), {"content": "edited"}, format="json")
    assert response.status_code == 405
    message.refresh_from_db()
    assert message.content == "original"


def test_sent_lists_only_what_i_sent_filtered_by_receiver(client_for, alice, bob, carol):
    to_bob = MessageFactory(sender=alice, receiver=bob)
    MessageFactory(sender=alice, receiver=carol)
    MessageFactory(sender=bob, receiver=alice)
    client = client_for(alice)
    assert client.get(SENT).json()["count"] == 2
    results = client.get(SENT, {"receiver": "Bob"}).json()["results"]
    assert [m["id"] for m in results] == [to_bob.id]


def test_received_lists_only_what_i_received_filtered_by_sender(client_for, alice, bob, carol):
    from_bob = MessageFactory(sender=bob, receiver=alice)
    MessageFactory(sender=carol, receiver=alice)
    MessageFactory(sender=alice, receiver=bob)
    client = client_for(alice)
    assert client.get(RECEIVED).json()["count"] == 2
    results = client.get(RECEIVED, {"sender": "bob"}).json()["results"]
    assert [m["id"] for m in results] == [from_bob.id]


def test_date_filter_selects_a_calendar_day_and_combines_with_user_and_page(client_for, alice, bob, carol):
    day = dt.datetime(2024, 3, 10, tzinfo=dt.UTC)
    on_day = [
        MessageFactory(sender=bob, receiver=alice, created=day + dt.timedelta(minutes=i)) for i in range(25)
    ]
    MessageFactory(sender=bob, receiver=alice, created=day - dt.timedelta(seconds=1))
    MessageFactory(sender=bob, receiver=alice, created=day + dt.timedelta(days=1))
    MessageFactory(sender=carol, receiver=alice, created=day + dt.timedelta(hours=1))
    client = client_for(alice)
    first = client.get(RECEIVED, {"date": "2024-03-10", "sender": "bob"}).json()
    second = client.get(RECEIVED, {"date": "2024-03-10", "sender": "bob", "page": 2}).json()
    assert first["count"] == 25
    ids = [m["id"] for m in first["results"] + second["results"]]
    assert ids == [m.id for m in reversed(on_day)]
    assert client.get(RECEIVED, {"date": "2024-03-10"}).json()["count"] == 26


def test_date_filter_uses_the_server_time_zone(client_for, alice, bob, settings):
    settings.TIME_ZONE = "America/New_York"
    # 02:00 UTC on the 11th is still the 10th in New York.
    MessageFactory(sender=alice, receiver=bob, created=dt.datetime(2024, 3, 11, 2, 0, tzinfo=dt.UTC))
    client = client_for(alice)
    assert client.get(SENT, {"date": "2024-03-10"}).json()["count"] == 1
    assert client.get(SENT, {"date": "2024-03-11"}).json()["count"] == 0


@pytest.mark.parametrize(
    "date", ["2020-1-0", "2020-02-30", "2020-13-01", "yesterday", "2020-1-5", "10/03/2024"]
)
def test_a_date_that_is_not_a_real_day_is_400(client_for, alice, date):
    response = client_for(alice).get(SENT, {"date": date})
    assert response.status_code == 400
    assert response.json() == {"date": ["Enter a real calendar day as YYYY-MM-DD."]}


@pytest.mark.parametrize(("url", "param"), [(SENT, "receiver"), (RECEIVED, "sender"), (LIST, "peer")])
def test_unknown_user_filter_is_400(client_for, alice, url, param):
    response = client_for(alice).get(url, {param: "nobody"})
    assert response.status_code == 400
    assert response.json() == {param: ['User "nobody" does not exist.']}


def test_peer_filter_on_the_full_list_covers_both_directions(client_for, alice, bob, carol):
    mine = [MessageFactory(sender=alice, receiver=bob), MessageFactory(sender=bob, receiver=alice)]
    MessageFactory(sender=alice, receiver=carol)
    results = client_for(alice).get(LIST, {"peer": "bob"}).json()["results"]
    assert sorted(m["id"] for m in results) == sorted(m.id for m in mine)


@pytest.mark.parametrize("url", [LIST, SENT, RECEIVED, detail(1)])
def test_lists_need_a_token(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize("url", [LIST, SENT, RECEIVED])
def test_trailing_slash_is_accepted_without_redirect(client_for, alice, url):
    assert client_for(alice).get(url + "/").status_code == 200


def test_send_with_trailing_slash_is_accepted(client_for, alice, bob):
    response = client_for(alice).post(LIST + "/", {"receiver": "bob", "content": "hi"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("url", "budget"),
    # Token lookup + token cleanup, count, page, one delivery update and the one insert of its
    # receipt events; the full list also prefetches sender and receiver names.
    [(LIST, 8), (SENT, 5), (RECEIVED, 6)],
)
def test_list_query_count_does_not_grow_with_the_page(
    client_for, alice, bob, url, budget, django_assert_max_num_queries
):
    MessageFactory.create_batch(20, sender=alice, receiver=bob)
    MessageFactory.create_batch(20, sender=bob, receiver=alice)
    client = client_for(alice)
    with django_assert_max_num_queries(budget):
        response = client.get(url)
    assert len(response.json()["results"]) == 20


def test_send_query_budget(client_for, alice, bob, django_assert_max_num_queries):
    client = client_for(alice)
    # token (2), receiver, user locks (PostgreSQL), block check, insert, the one insert of its
    # events, plus the transaction.
    with django_assert_max_num_queries(9):
        assert client.post(LIST, {"receiver": "bob", "content": "hi"}, format="json").status_code == 201


def test_peer_filter_with_myself_shows_only_notes_to_self(client_for, alice, bob):
    note = MessageFactory(sender=alice, receiver=alice)
    MessageFactory(sender=alice, receiver=bob)
    MessageFactory(sender=bob, receiver=alice)
    results = client_for(alice).get(LIST, {"peer": "alice"}).json()["results"]
    assert [m["id"] for m in results] == [note.id]


@pytest.mark.parametrize("name", ["50%off", "%s", "%(x)s"])
def test_unknown_user_filter_with_percent_signs_is_400_not_500(client_for, alice, name):
    response = client_for(alice).get(SENT, {"receiver": name})
    assert response.status_code == 400
    assert response.json() == {"receiver": [f'User "{name}" does not exist.']}
