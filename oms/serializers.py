"""Serializer pieces shared by every app: strict input fields and the error shapes in the schema."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that refuses JSON numbers and booleans instead of turning them into text."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    """`{"detail": "..."}`: the body of every error that is not about one field."""

    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """`{"<field>": ["...", ...]}`: one list of messages per field that failed."""

    field_name = serializers.ListField(child=serializers.CharField(), required=False)


UNAUTHORIZED = OpenApiResponse(ErrorSerializer, description="Missing, invalid or expired token.")
