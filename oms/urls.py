"""Root URLs: the API under /api/, its schema and docs, the admin, and the web client at /."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from oms.views import api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/auth/", include("accounts.urls")),
    re_path(r"^api/block", include("blocking.urls")),
    re_path(r"^api/events/?", include("realtime.urls")),
    re_path(r"^api/", include("messageservice.urls")),
    # Anything else under /api/ is a JSON 404, never Django's HTML page.
    re_path(r"^api(?:/.*)?$", api_not_found),
    path("", include("webclient.urls")),
]
