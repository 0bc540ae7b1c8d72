"""Users of OMS: Django's user with usernames unique regardless of case."""

from __future__ import annotations

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


class CaseInsensitiveUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Login matches "Alice" to "alice": the unique index makes the match unambiguous.
        return self.get(username__ci=username)


USERNAME_MAX_LENGTH = 150
# The characters of a username, for URL patterns.
USERNAME_PATTERN = rf"[A-Za-z0-9_.@+-]{{1,{USERNAME_MAX_LENGTH}}}"


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

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            )
        ]
