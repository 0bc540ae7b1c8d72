"""Input and output shapes of the accounts endpoints."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import USERNAME_MAX_LENGTH, User
from oms.serializers import StrictCharField


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "username", "email")
        read_only_fields = fields


class UsernameField(StrictCharField):
    """A new username: Unicode-normalised as Django stores it, then checked, so what is checked is
    what is stored."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", USERNAME_MAX_LENGTH)
        kwargs.setdefault("validators", [User.username_validator])
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return User.normalize_username(super().to_internal_value(data))


class RegisterSerializer(serializers.Serializer):
    username = UsernameField()
    password = StrictCharField(max_length=128, trim_whitespace=False, write_only=True)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class LoginSerializer(serializers.Serializer):
    username = StrictCharField(max_length=USERNAME_MAX_LENGTH)
    password = StrictCharField(max_length=128, trim_whitespace=False, write_only=True)


class AuthResponseSerializer(serializers.Serializer):
    """What register and login answer: the user, a new token and when it expires."""

    user = UserSerializer()
    token = serializers.CharField()
    expiry = serializers.DateTimeField()
