"""Routes of the block endpoints, mounted at /api/block."""

from django.urls import re_path

from accounts.models import USERNAME_PATTERN
from blocking import api

# Each path also matches with a trailing slash.
urlpatterns = [
    re_path(r"^/?$", api.BlockListCreateApi.as_view(), name="block-list"),
    re_path(rf"^/(?P<username>{USERNAME_PATTERN})/?$", api.BlockDeleteApi.as_view(), name="block-delete"),
]
