"""Project-level views: the JSON 404 for unknown API paths, /metrics, and the admin's lockout answer."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.exceptions import NotFound
from rest_framework.throttling import BaseThrottle


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([])
def api_not_found(request, *args, **kwargs):
    raise NotFound("No such endpoint. See /api/docs for the list of endpoints.")


def client_address(request: HttpRequest) -> str:
    """The client's address as the API throttles see it (DJANGO_NUM_PROXIES decides which hop)."""
    return BaseThrottle().get_ident(request)


def _may_read_metrics(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and constant_time_compare(sent, f"Bearer {token}"):
        return True
    # The connecting address itself, never a forwarded one: a header is the client's to choose.
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of every worker, for a scraper with METRICS_TOKEN or from an allowed network."""
    if not _may_read_metrics(request):
        return JsonResponse({"detail": "Not allowed."}, status=403)
    return ExportToDjangoView(request)


def admin_locked_out(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """What django-axes answers a locked-out admin login: 429 with the wait in Retry-After."""
    minutes = settings.ADMIN_LOGIN_COOLOFF_MINUTES
    return HttpResponse(
        f"Too many failed logins. Try again in {minutes} minutes.",
        status=429,
        content_type="text/plain; charset=utf-8",
        headers={"Retry-After": str(minutes * 60)},
    )
