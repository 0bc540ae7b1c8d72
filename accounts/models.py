"""Users of OMS: Django's user with usernames unique regardless of case."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.db import models
from django.db.models.functions import Lower


@models.CharField.register_lookup
class CaseInsensitiveExact(models.Lookup):
    """`username__ci` lookups compare LOWER(column) = LOWER(value), so they use the unique index."""

    lookup_name = "ci"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(Lower(self.lhs))
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = LOWER({rhs})", (*lhs_params, *rhs_params)


USERNAME_MAX_LENGTH = 150
# The characters of a username, for URL patterns.
USERNAME_PATTERN = rf"[A-Za-z0-9_.@+-]{{1,{USERNAME_MAX_LENGTH}}}"
_USERNAME = re.compile(USERNAME_PATTERN)


def username_key(raw: str) -> str | None:
    """How any username a client sends is matched to a user, the same way everywhere and on every
    database: Unicode-normalised as registration stores it (fullwidth "alice" is "alice"), then lower-cased.
    None when no user can have that name (stored names are ASCII, so "alİce" matches nobody rather
    than whatever the database's own case folding makes of it)."""
    normalised = unicodedata.normalize("NFKC", raw)
    if not _USERNAME.fullmatch(normalised):
        return None
    return normalised.lower()


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Login (API and admin) matches "Alice" to "alice": the unique index makes it unambiguous.
        key = username_key(username)
        if key is None:
            raise self.model.DoesNotExist
        return self.get(username__ci=key)


class User(AbstractUser):
    # ASCII only: usernames travel in URLs, and LOWER() folds ASCII case the same way on
    # SQLite and PostgreSQL, so "unique whatever the case" means the same on both.
    username_validator = ASCIIUsernameValidator()
    username = models.CharField(
        "username",
        max_length=USERNAME_MAX_LENGTH,
        unique=True,
        help_text="Required. 150 characters or fewer. ASCII letters, digits and @/./+/-/_ only.",
        validators=[username_validator],
        error_messages={"unique": "A user with that username already exists."},
    )

    objects = CaseInsensitiveUserManager()

    def save(self, *args, **kwargs):
        # Django sets _password in set_password(); every way of changing a password (the admin's
        # reset, changepassword, code) ends in save(), so this is the one place that catches them all.
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            from accounts.services import user_tokens_revoke

            user_tokens_revoke(user=self, reason="password changed")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            )
        ]
