"""Shapes of events on the wire, shared by the WebSocket and the long-poll."""

from __future__ import annotations

from rest_framework import serializers

from events.models import EVENT_TYPES, Event

MAX_ID = 2**63 - 1
LONG_POLL_DEFAULT_TIMEOUT = 25
LONG_POLL_MAX_TIMEOUT = 60


class EventSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    data = serializers.JSONField(
        help_text=(
            "message.created: the message, as GET /api/message/<id> shows it. "
            "message.delivered: {ids, receiver, delivered_at} for messages you sent. "
            "message.read: {ids, reader, read_at}: read by their receiver (your own marks too). "
            "message.deleted: {id}, deleted by you. block.created: {id, blocked, created}. "
            "block.deleted: {blocked}."
        )
    )

    class Meta:
        model = Event
        fields = ("id", "type", "created", "data")
        read_only_fields = fields


class EventQuerySerializer(serializers.Serializer):
    since = serializers.IntegerField(
        min_value=0,
        max_value=MAX_ID,
        required=False,
        help_text="The last event id you have seen; left out: wait only for what comes next.",
    )
    timeout = serializers.IntegerField(
        min_value=0,
        max_value=LONG_POLL_MAX_TIMEOUT,
        default=LONG_POLL_DEFAULT_TIMEOUT,
        help_text=f"Seconds to wait for an event (default {LONG_POLL_DEFAULT_TIMEOUT}, at most "
        f"{LONG_POLL_MAX_TIMEOUT}).",
    )


class EventPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next_since = serializers.IntegerField(help_text="Pass as `since` next time.")


def event_frame(event: Event) -> dict:
    return EventSerializer(event).data
