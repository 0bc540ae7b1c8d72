"""Input and contract: every body format a client may use, every /api/ answer JSON and never cached,
and docs that need no outside server."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from blocking.models import Block
from conftest import PASSWORD
from messageservice.models import Message
from messageservice.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

MESSAGES = reverse("message-list")


# multipart/form-data is read like a form everywhere a body is taken


def test_register_and_login_take_multipart(api_client):
    registered = api_client.post(
        reverse("auth-register"), {"username": "dave", "password": PASSWORD}, format="multipart"
    )
    assert registered.status_code == 201
    logged_in = api_client.post(
        reverse("auth-login"), {"username": "dave", "password": PASSWORD}, format="multipart"
    )
    assert logged_in.status_code == 200


def test_send_block_and_mark_read_take_multipart(client_for, alice, bob):
    alices = client_for(alice)
    mine = [MessageFactory(sender=bob, receiver=alice) for _ in range(2)]
    assert alices.post(MESSAGES, {"receiver": "bob", "content": "hi"}, format="multipart").status_code == 201
    marked = alices.post(reverse("message-read"), {"ids": [m.id for m in mine]}, format="multipart")
    assert marked.json() == {"marked": 2}
    assert alices.post(reverse("block-list"), {"blocked": "bob"}, format="multipart").status_code == 201
    assert Block.objects.filter(blocker=alice, blocked=bob).exists()


def test_multipart_gets_the_same_validation(client_for, alice, bob):
    alices = client_for(alice)
    assert alices.post(MESSAGES, {"receiver": "bob"}, format="multipart").json() == {
        "content": ["This field is required."]
    }
    both = alices.post(reverse("message-read"), {"sender": "bob", "all": "true"}, format="multipart")
    assert both.status_code == 400
    assert not Message.objects.exists()


def test_a_file_in_place_of_a_field_is_400(client_for, alice, bob):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("note.txt", b"hi", content_type="text/plain")
    response = client_for(alice).post(MESSAGES, {"receiver": "bob", "content": upload}, format="multipart")
    assert response.status_code == 400
    assert not Message.objects.exists()


# Invalid UTF-8 is refused, never stored with replacement characters


@pytest.mark.parametrize(
    "body",
    [b"receiver=bob&content=caf\xe9", b"receiver=bob&content=caf%E9", b"receiver=bob&content=%FF%FE"],
    ids=["raw", "percent-encoded", "percent-encoded-bytes"],
)
def test_a_form_body_that_is_not_utf8_is_400_and_stores_nothing(client_for, alice, bob, body):
    response = client_for(alice).post(MESSAGES, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is not valid UTF-8."}
    assert not Message.objects.exists()


def test_a_multipart_body_that_is_not_utf8_is_400_and_stores_nothing(client_for, alice, bob):
    body = encode_multipart(BOUNDARY, {"receiver": "bob", "content": "PLACEHOLDER"})
    body = body.replace(b"PLACEHOLDER", b"caf\xe9")
    response = client_for(alice).post(MESSAGES, body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is not valid UTF-8."}
    assert not Message.objects.exists()


def test_a_form_body_in_utf8_keeps_its_accents(client_for, alice, bob):
    response = client_for(alice).post(
        MESSAGES, "receiver=bob&content=caf%C3%A9", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201
    assert Message.objects.get().content == "café"


# Every /api/ answer is JSON


@pytest.mark.parametrize(
    "path", ["/api/x%0A", "/api/%0A", "/api/auth/login%0A", "/api/message/1%0A", "/api/x%0Ay"]
)
@pytest.mark.parametrize("debug", [False, True])
def test_an_encoded_newline_in_an_api_path_is_a_json_404(client, settings, path, debug):
    settings.DEBUG = debug
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No such endpoint. See /api/docs for the list of endpoints."}
    assert b"urlpatterns" not in response.content.lower() and b"<html" not in response.content.lower()


# Answers that carry tokens or messages are never stored by a browser or proxy


def test_token_and_message_answers_are_not_cacheable(api_client, client_for, alice, bob):
    registered = api_client.post(
        reverse("auth-register"), {"username": "dave", "password": PASSWORD}, format="json"
    )
    logged_in = api_client.post(
        reverse("auth-login"), {"username": "dave", "password": PASSWORD}, format="json"
    )
    alices = client_for(alice)
    sent = alices.post(MESSAGES, {"receiver": "bob", "content": "hi"}, format="json")
    answers = [
        registered,
        logged_in,
        sent,
        alices.get(MESSAGES),
        alices.get(reverse("message-detail", kwargs={"pk": sent.json()["id"]})),
        alices.get(reverse("sync")),
        alices.get(reverse("conversation-detail", kwargs={"username": "bob"})),
        api_client.get(MESSAGES),  # errors too
    ]
    for response in answers:
        assert response["Cache-Control"] == "no-store", response.wsgi_request.path


# The API docs work offline and under a strict Content-Security-Policy


def test_swagger_ui_is_served_by_the_service_itself(client):
    page = client.get(reverse("docs"))
    script = client.get(reverse("docs") + "?script=")
    assert page.status_code == script.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html.replace(" ", "")  # no inline script: the page runs under script-src 'self'
    for text in (html, script.content.decode()):
        assert not re.search(r"https?://(?!localhost|testserver)", text), re.findall(
            r"https?://[^\"' ]+", text
        )
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    for asset in assets:
        assert finders.find(asset), asset
