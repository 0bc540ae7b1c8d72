"""Routes of the accounts endpoints, mounted at /api/auth/."""

from django.urls import re_path

from accounts import api

urlpatterns = [
    re_path(r"^register/?$", api.RegisterApi.as_view(), name="auth-register"),
    re_path(r"^login/?$", api.LoginApi.as_view(), name="auth-login"),
    re_path(r"^logout/?$", api.LogoutApi.as_view(), name="auth-logout"),
    re_path(r"^logoutall/?$", api.LogoutAllApi.as_view(), name="auth-logoutall"),
]
