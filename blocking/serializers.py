"""Input and output shapes of the block endpoints."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import USERNAME_MAX_LENGTH
from blocking.models import Block
from oms.serializers import StrictCharField


class BlockSerializer(serializers.ModelSerializer):
    blocked = serializers.CharField(source="blocked.username", read_only=True)

    class Meta:
        model = Block
        fields = ("id", "blocked", "created")
        read_only_fields = fields


class BlockCreateSerializer(serializers.Serializer):
    blocked = StrictCharField(max_length=USERNAME_MAX_LENGTH, help_text="Username of the user to block.")
