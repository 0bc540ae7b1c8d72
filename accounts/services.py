"""Writes to accounts: registration, the login check, failed logins and token revocation."""

from __future__ import annotations

import logging

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from knox.models import AuthToken, get_token_model
from rest_framework.exceptions import ValidationError

from accounts.models import User
from accounts.selectors import user_get_by_username
from oms.exceptions import BadRequest

logger = logging.getLogger(__name__)

USERNAME_TAKEN = "A user with that username already exists."
INVALID_CREDENTIALS = "Invalid username or password."


def user_register(*, username: str, password: str, email: str = "") -> User:
    """Create a user; usernames are unique whatever their case, passwords pass Django's validators."""
    if user_get_by_username(username=username, include_inactive=True) is not None:
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
        # Logged by `login_failure_record`, which Django's user_login_failed signal calls.
        raise BadRequest(INVALID_CREDENTIALS, code="invalid_credentials")
    logger.info("login user=%s", user.username, extra={"user": user.username})
    return user


def login_failure_record(*, request: HttpRequest | None, username: str) -> None:
    """Log a failed login (API or admin) without echoing what was typed: a name that belongs to a
    user is logged as that user's username; anything else (a password typed into the wrong field,
    say) only as a short keyed hash, so repeated attempts with it can still be told apart."""
    user = user_get_by_username(username=username, include_inactive=True)
    if user is not None:
        who = f"user={user.username}"
        extra = {"user": user.username}
    else:
        digest = salted_hmac("oms.invalid-login", username, algorithm="sha256").hexdigest()[:12]
        who = f"unknown_user={digest}"
        extra = {"unknown_user": digest}
    path = request.path if request is not None else "-"
    logger.warning("invalid login %s path=%s", who, path, extra={**extra, "path": path})


def user_tokens_revoke(*, user: User, reason: str) -> int:
    """End every session of `user`: all of its tokens stop working at once."""
    revoked, _ = AuthToken.objects.filter(user=user).delete()
    if revoked:
        logger.info(
            "tokens revoked user=%s count=%d reason=%s",
            user.username,
            revoked,
            reason,
            extra={"user": user.username, "count": revoked, "reason": reason},
        )
    return revoked


def token_delete_expired(*, user: User) -> int:
    """Drop the user's expired tokens; returns how many. Run at login, so that requests need not."""
    deleted, _ = get_token_model().objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return deleted
