"""Token authentication for every API request: knox's tokens, checked in one query."""

from __future__ import annotations

import binascii
from hmac import compare_digest

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework.exceptions import AuthenticationFailed

from accounts.selectors import USER_COLUMNS, user_from_row
from oms.prepared import Prepared

# In the model's own field order, as Model.from_db takes them.
_TOKEN_FIELDS = tuple(field.attname for field in AuthToken._meta.concrete_fields)

# knox's own query (the tokens with this key, each with its user), compiled once per process:
# building it through the ORM on every request cost more than the rest of the check.
_CANDIDATES = Prepared(
    lambda *, token_key: AuthToken.objects.filter(token_key=token_key).values_list(
        *_TOKEN_FIELDS, *(f"user__{name}" for name in USER_COLUMNS)
    ),
    texts=("token_key",),
)


def _token_candidates(key: str) -> list[AuthToken]:
    tokens = []
    for row in _CANDIDATES.rows(token_key=key):
        token = AuthToken.from_db(DEFAULT_DB_ALIAS, _TOKEN_FIELDS, row[: len(_TOKEN_FIELDS)])
        token.user = user_from_row(row[len(_TOKEN_FIELDS) :])
        tokens.append(token)
    return tokens


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's check, step for step (its hashing, constant-time compare, refresh and user check),
    with two differences, both for speed:

    - its query is compiled once (`_CANDIDATES`), not built by the ORM on every request;
    - it skips the clean-up of the user's other expired tokens that knox runs on every request:
      that costs a query per request for a rare event, so it happens at login instead
      (`token_delete_expired`). An expired token presented here is still refused and deleted.
    """

    def authenticate_credentials(self, token: bytes):
        message = _("Invalid token.")
        token = token.decode("utf-8")
        for auth_token in _token_candidates(token[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise AuthenticationFailed(message) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise AuthenticationFailed(message)

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """The same security scheme in the OpenAPI schema as knox's own class."""

    target_class = "accounts.authentication.TokenAuthentication"
