"""Root URLs: the API under /api/, its schema and docs, the admin, /metrics, and the web client at /."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from oms.views import api_not_found, metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^metrics/?$", metrics, name="metrics"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's script as a file, so the page works under a strict CSP.
    re_path(r"^api/docs/?$", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/auth/", include("accounts.urls")),
    re_path(r"^api/block", include("blocking.urls")),
    re_path(r"^api/events/?", include("realtime.urls")),
    re_path(r"^api/", include("messageservice.urls")),
    # Anything else under /api/ is a JSON 404, never Django's HTML page; [\s\S], not ".", so that
    # an encoded newline in the path (/api/x%0A) is matched too.
    re_path(r"^api(?:/[\s\S]*)?$", api_not_found),
    path("", include("webclient.urls")),
]
