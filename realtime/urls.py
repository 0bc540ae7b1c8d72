"""Route of the long-poll endpoint, mounted at /api/events (under ASGI a consumer answers it first)."""

from django.urls import re_path

from realtime import api

urlpatterns = [re_path(r"^$", api.EventListApi.as_view(), name="events")]
