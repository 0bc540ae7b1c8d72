"""The admin reads and deletes messages; only the send service creates them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from messageservice.models import Message
from messageservice.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["message", "idempotencykey"])
def test_the_admin_cannot_add_rows(admin_client, model):
    response = admin_client.post(reverse(f"admin:messageservice_{model}_add"), {})
    assert response.status_code == 403


def test_the_admin_can_view_and_delete_a_message_but_not_edit_it(admin_client, alice, bob):
    message = MessageFactory(sender=alice, receiver=bob, content="original")
    change = reverse("admin:messageservice_message_change", args=[message.pk])
    assert admin_client.get(change).status_code == 200
    admin_client.post(change, {"content": "edited"})
    message.refresh_from_db()
    assert message.content == "original"
    delete = reverse("admin:messageservice_message_delete", args=[message.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Message.objects.exists()
