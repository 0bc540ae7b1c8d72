"""Register, login and logout: thin wrappers around knox's views and the accounts services."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from knox.views import LoginView as KnoxLoginView
from knox.views import LogoutAllView as KnoxLogoutAllView
from knox.views import LogoutView as KnoxLogoutView
from rest_framework import status
from rest_framework.permissions import AllowAny

from accounts.authentication import TokenAuthentication
from accounts.serializers import (
    AuthResponseSerializer,
    LoginSerializer,
    RegisterSerializer,
)
from accounts.services import token_delete_expired, user_authenticate, user_register
from oms.serializers import UNAUTHORIZED, ErrorSerializer, ValidationErrorSerializer
from oms.throttling import AuthRateThrottle

THROTTLED = OpenApiResponse(ErrorSerializer, description="Too many attempts; retry later.")


class _TokenIssuingApi(KnoxLoginView):
    """Answers with a new knox token for `request.user`, once the subclass has set it."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"


class RegisterApi(_TokenIssuingApi):
    @extend_schema(
        operation_id="auth_register",
        request=RegisterSerializer,
        responses={
            201: AuthResponseSerializer,
            400: OpenApiResponse(ValidationErrorSerializer, description="Invalid fields."),
            429: THROTTLED,
        },
        auth=[],
    )
    def post(self, request, format=None):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request.user = user_register(**serializer.validated_data)
        response = super().post(request, format=format)
        response.status_code = status.HTTP_201_CREATED
        return response


class LoginApi(_TokenIssuingApi):
    @extend_schema(
        operation_id="auth_login",
        request=LoginSerializer,
        responses={
            200: AuthResponseSerializer,
            400: OpenApiResponse(
                ValidationErrorSerializer,
                description='Missing or invalid fields, or `{"detail"}` for a wrong username or password.',
            ),
            429: THROTTLED,
        },
        auth=[],
    )
    def post(self, request, format=None):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        request.user = user_authenticate(request=request._request, **serializer.validated_data)
        token_delete_expired(user=request.user)
        return super().post(request, format=format)


@extend_schema_view(
    post=extend_schema(
        operation_id="auth_logout",
        request=None,
        responses={204: OpenApiResponse(description="This token no longer works."), 401: UNAUTHORIZED},
    )
)
class LogoutApi(KnoxLogoutView):
    authentication_classes = (TokenAuthentication,)


@extend_schema_view(
    post=extend_schema(
        operation_id="auth_logoutall",
        request=None,
        responses={
            204: OpenApiResponse(description="Every token of this user no longer works."),
            401: UNAUTHORIZED,
        },
    )
)
class LogoutAllApi(KnoxLogoutAllView):
    authentication_classes = (TokenAuthentication,)
