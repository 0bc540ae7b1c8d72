"""One resolver turns every username a client sends into a user, the same way on every endpoint and
on both databases: case and Unicode compatibility forms (fullwidth letters) fold to the stored name;
anything else that only looks like it (a dotted capital I) names nobody."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD
from messageservice.models import Message
from messageservice.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

FULLWIDTH_BOB = "\uff42\uff4f\uff42"  # "bob" in fullwidth letters
FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
DOTTED_I_ALICE = (
    "al\u0130ce"  # with a dotted capital I: PostgreSQL's LOWER() makes it "alice", SQLite's does not
)
SAME_AS_BOB = ["bob", "BOB", "Bob", FULLWIDTH_BOB]


def login(api_client, username: str):
    return api_client.post(reverse("auth-login"), {"username": username, "password": PASSWORD}, format="json")


@pytest.mark.parametrize("name", ["alice", "ALICE", FULLWIDTH_ALICE])
def test_login_accepts_the_name_as_registration_stored_it(api_client, alice, name):
    response = login(api_client, name)
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"


@pytest.mark.parametrize("name", [DOTTED_I_ALICE, "al\u0131ce"])
def test_lookalike_names_log_in_as_nobody_on_either_database(api_client, alice, name):
    response = login(api_client, name)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid username or password."}


def test_register_refuses_a_fullwidth_form_of_an_existing_name(api_client, alice):
    response = api_client.post(
        reverse("auth-register"), {"username": FULLWIDTH_ALICE, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}


@pytest.mark.parametrize("name", SAME_AS_BOB)
def test_send_block_and_unblock_resolve_the_same_user(client_for, alice, bob, name):
    alices = client_for(alice)
    sent = alices.post(reverse("message-list"), {"receiver": name, "content": "hi"}, format="json")
    assert sent.status_code == 201
    assert sent.json()["receiver"] == "bob"
    blocked = alices.post(reverse("block-list"), {"blocked": name}, format="json")
    assert blocked.status_code == 201
    assert blocked.json()["blocked"] == "bob"
    assert alices.delete(reverse("block-delete", kwargs={"username": "BOB"})).status_code == 204


@pytest.mark.parametrize("name", SAME_AS_BOB)
def test_filters_conversation_and_mark_read_resolve_the_same_user(client_for, alice, bob, name):
    MessageFactory(sender=bob, receiver=alice)
    alices = client_for(alice)
    for url, param in [
        (reverse("message-list"), "peer"),
        (reverse("message-received"), "sender"),
        (reverse("message-sent"), "receiver"),
    ]:
        response = alices.get(url, {param: name})
        assert response.status_code == 200, (url, response.content)
    if name.isascii():  # URL paths carry ASCII names only
        conversation = alices.get(reverse("conversation-detail", kwargs={"username": name}))
        assert len(conversation.json()["results"]) == 1
    marked = alices.post(reverse("message-read"), {"sender": name}, format="json")
    assert marked.json() == {"marked": 1}


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("message-list", {"receiver": DOTTED_I_ALICE, "content": "hi"}, "receiver"),
        ("block-list", {"blocked": DOTTED_I_ALICE}, "blocked"),
        ("message-read", {"sender": DOTTED_I_ALICE}, "sender"),
    ],
)
def test_an_unknown_name_is_the_same_field_error_everywhere(client_for, bob, alice, url, body, field):
    response = client_for(bob).post(reverse(url), body, format="json")
    assert response.status_code == 400
    assert response.json() == {field: ["User does not exist."]}
    assert not Message.objects.exists()


@pytest.mark.parametrize(("url", "param"), [("message-list", "peer"), ("message-received", "sender")])
def test_an_unknown_name_in_a_filter_is_the_same_field_error(client_for, alice, url, param):
    response = client_for(alice).get(reverse(url), {param: DOTTED_I_ALICE})
    assert response.status_code == 400
    assert response.json() == {param: ["User does not exist."]}
