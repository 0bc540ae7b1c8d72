"""/metrics: Prometheus text for a scraper with the token or from an allowed network, nobody else."""

from __future__ import annotations

import ipaddress

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = "scrape-secret"
    return "scrape-secret"


def test_metrics_are_refused_without_the_token(client, metrics_token):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess").status_code == 403


def test_metrics_are_refused_when_nothing_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_metrics_count_requests_by_view_and_status_and_database_queries(
    client_for, alice, client, metrics_token
):
    client_for(alice).get(reverse("message-list"))
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert response.status_code == 200
    text = response.content.decode()
    assert (
        'django_http_requests_total_by_view_transport_method_total{method="GET",transport="http",view="message-list"}'
        in text
    )
    assert (
        'django_http_responses_total_by_status_view_method_total{method="GET",status="200",view="message-list"}'
        in text
    )
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text
    assert "django_db_execute_total{" in text


def test_an_allowed_network_may_read_metrics_but_a_forwarded_address_is_not_trusted(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
