"""Writes to accounts: registration and the login check."""

from __future__ import annotations

import logging

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from knox.models import get_token_model
from rest_framework.exceptions import ValidationError

from accounts.models import User
from oms.exceptions import BadRequest

logger = logging.getLogger(__name__)

USERNAME_TAKEN = "A user with that username already exists."
INVALID_CREDENTIALS = "Invalid username or password."


def user_register(*, username: str, password: str, email: str = "") -> User:
    """Create a user; usernames are unique whatever their case, passwords pass Django's validators."""
    if User.objects.filter(username__ci=username).exists():
        raise ValidationError({"username": [USERNAME_TAKEN]})
    try:
        validate_password(password, user=User(username=username, email=email))
    except DjangoValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:
        # Another request registered the same name between the check and the insert.
        raise ValidationError({"username": [USERNAME_TAKEN]}) from exc
    logger.info("user registered user=%s", user.username, extra={"user": user.username})
    return user


def user_authenticate(*, request: HttpRequest, username: str, password: str) -> User:
    """The user these credentials belong to. Unknown users and wrong passwords fail alike."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        logger.warning("invalid login username=%r", username, extra={"username": username})
        raise BadRequest(INVALID_CREDENTIALS, code="invalid_credentials")
    logger.info("login user=%s", user.username, extra={"user": user.username})
    return user


def token_delete_expired(*, user: User) -> int:
    """Drop the user's expired tokens; returns how many. Run at login, so that requests need not."""
    deleted, _ = get_token_model().objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return deleted
