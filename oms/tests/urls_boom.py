"""Test-only URLs: the real ones, plus plain Django views (not DRF) that fail."""

from django.http import Http404
from django.urls import include, path


def boom(request):
    raise RuntimeError("boom SELECT secret FROM accounts_user")


def missing(request):
    raise Http404("nothing here")


urlpatterns = [
    path("boom/", boom, name="boom"),
    path("missing/", missing, name="missing"),
    path("", include("oms.urls")),
]
