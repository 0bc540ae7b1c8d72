"""Token authentication for every API request: knox's tokens, checked in one query."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's check (its token lookup with the user, its hashing and constant-time compare), minus
    the clean-up of the user's other expired tokens that knox runs on every request: that costs a
    query per request for a rare event, so it happens at login instead (`token_delete_expired`).
    An expired token presented here is still refused and deleted, as knox does.
    """

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
