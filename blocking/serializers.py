"""Input and output shapes of the block endpoints."""

from __future__ import annotations

from rest_framework import serializers

from blocking.models import Block
from oms.serializers import StrictCharField


class BlockSerializer(serializers.ModelSerializer):
    blocked = serializers.CharField(source="blocked.username", read_only=True)

    class Meta:
        model = Block
        fields = ("id", "blocked", "created")
        read_only_fields = fields


class BlockCreateSerializer(serializers.Serializer):
    blocked = StrictCharField(max_length=150, help_text="Username of the user to block.")
