"""Input and output shapes of the message, conversation and sync endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from rest_framework import serializers

from accounts.models import USERNAME_MAX_LENGTH
from messageservice.models import CONTENT_MAX_LENGTH, Message
from messageservice.selectors import MessageRow
from oms.serializers import StrictCharField

# Ids are 64-bit: anything larger cannot name a message and must not reach the database.
MAX_ID = 2**63 - 1
MARK_READ_MAX_IDS = 1000
SYNC_DEFAULT_LIMIT = 100
SYNC_MAX_LIMIT = 500


class MessageSerializer(serializers.ModelSerializer):
    sender = serializers.CharField(source="sender.username", read_only=True)
    receiver = serializers.CharField(source="receiver.username", read_only=True)

    class Meta:
        model = Message
        fields = ("id", "sender", "receiver", "content", "created", "delivered_at", "read_at")
        read_only_fields = fields


TimeText = Callable[[dt.datetime | None], str | None]


def _times() -> TimeText:
    """How DRF's DateTimeField writes a time in the API's format (ISO 8601, UTC as "Z"), in this
    request's time zone, looked up once: DRF looks it up on every call, and a page writes sixty
    times. A test pins that the output equals MessageSerializer's."""
    zone = timezone.get_current_timezone()

    def text(value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        written = value.astimezone(zone).isoformat()
        return written[:-6] + "Z" if written.endswith("+00:00") else written

    return text


def message_data(message, times: TimeText | None = None) -> dict:
    """MessageSerializer's output for a MessageRow, built directly: lists are the hot path, and DRF's
    per-field machinery costs more than their query."""
    time = times or _times()
    return {
        "id": message.id,
        "sender": message.sender,
        "receiver": message.receiver,
        "content": message.content,
        "created": time(message.created),
        "delivered_at": time(message.delivered_at),
        "read_at": time(message.read_at),
    }


def message_model_data(message: Message) -> dict:
    """MessageSerializer's output for a Message with its sender and receiver, built the same way:
    a send answers with it and also writes it into its events."""
    return message_data(
        MessageRow(
            id=message.pk,
            sender=message.sender.username,
            receiver=message.receiver.username,
            receiver_id=message.receiver_id,
            sender_id=message.sender_id,
            content=message.content,
            created=message.created,
            delivered_at=message.delivered_at,
            read_at=message.read_at,
        )
    )


def messages_data(messages) -> list[dict]:
    times = _times()
    return [message_data(message, times) for message in messages]


def conversations_data(entries) -> list[dict]:
    """ConversationSerializer's output for ConversationEntries, built the same way."""
    times = _times()
    return [
        {"peer": entry.peer, "last_message": message_data(entry.last_message, times), "unread": entry.unread}
        for entry in entries
    ]


def sync_data(batch) -> dict:
    """SyncSerializer's output for a SyncBatch, built the same way."""
    messages = messages_data(batch.messages)
    return {"messages": messages, "next_since": batch.next_since, "has_more": batch.has_more}


class ConversationMessageSerializer(MessageSerializer):
    """The same shape; its own schema name, because conversations page by cursor, not by number."""


class MessageCreateSerializer(serializers.Serializer):
    receiver = StrictCharField(max_length=USERNAME_MAX_LENGTH, help_text="Username of the receiver.")
    content = StrictCharField(max_length=CONTENT_MAX_LENGTH, trim_whitespace=False)

    def validate_content(self, value: str) -> str:
        # Kept as typed, but a message of only white space says nothing.
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value


class _AbsentableBooleanField(serializers.BooleanField):
    # DRF reads a boolean missing from a form body as false (an unticked checkbox); here
    # missing means "not given", as it does in JSON.
    default_empty_html = serializers.empty


class MessageReadSerializer(serializers.Serializer):
    """Exactly one of: `ids`, `sender`, or `all: true`."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=MARK_READ_MAX_IDS,
        required=False,
        help_text=f"Ids of received messages to mark read (at most {MARK_READ_MAX_IDS}).",
    )
    sender = StrictCharField(
        max_length=USERNAME_MAX_LENGTH, required=False, help_text="Mark everything from this user read."
    )
    all = _AbsentableBooleanField(required=False, help_text="true: mark everything read.")

    def validate_all(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Must be true, or left out.")
        return value

    def validate(self, attrs: dict) -> dict:
        given = [name for name in ("ids", "sender", "all") if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                "Give exactly one of: ids (a list of message ids), sender (a username) or all (true)."
            )
        return attrs


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many unread messages were marked read.")


class UnreadCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    by_sender = serializers.DictField(child=serializers.IntegerField())


class ConversationSerializer(serializers.Serializer):
    peer = serializers.CharField()
    last_message = MessageSerializer()
    unread = serializers.IntegerField()


class SyncQuerySerializer(serializers.Serializer):
    since = serializers.IntegerField(min_value=0, max_value=MAX_ID, default=0)
    limit = serializers.IntegerField(min_value=0, max_value=SYNC_MAX_LIMIT, default=SYNC_DEFAULT_LIMIT)


class SyncSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True)
    next_since = serializers.IntegerField(help_text="Pass as `since` next time.")
    has_more = serializers.BooleanField()
