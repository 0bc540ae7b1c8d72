from django.urls import re_path

from blocking import api

# Mounted at "api/block"; each path also matches with a trailing slash.
urlpatterns = [
    re_path(r"^/?$", api.BlockListCreateApi.as_view(), name="block-list"),
    re_path(r"^/(?P<username>[^/]{1,150})/?$", api.BlockDeleteApi.as_view(), name="block-delete"),
]
