"""Probes for load balancers: /healthz and /readyz."""

from __future__ import annotations

import logging

import pytest

from oms.tests.helpers import run_manage


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any database access here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_the_database_answers(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    expected = {"database": "ok", **({"cache": "ok"} if settings.REDIS_URL else {})}
    assert response.json() == {"status": "ok", "checks": expected}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@pytest.mark.django_db
def test_probes_need_no_token_and_answer_any_host(client, path):
    # Load balancers probe by address, with a Host the app does not serve.
    assert client.get(path, HTTP_HOST="10.1.2.3:8000").status_code == 200


@pytest.mark.django_db
def test_successful_probes_stay_out_of_the_access_log(client, caplog):
    with caplog.at_level(logging.INFO, logger="oms.access"):
        client.get("/healthz")
        client.get("/readyz")
        client.get("/api/nothing-here")
    lines = [r.getMessage() for r in caplog.records if r.name == "oms.access"]
    assert len(lines) == 1 and "/api/nothing-here" in lines[0]


def test_probes_are_not_redirected_to_https_in_production():
    script = (
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='oms.example.com')\n"
        "print(c.get('/healthz').status_code, c.get('/api/message').status_code)\n"
    )
    result = run_manage(
        "shell",
        "-c",
        script,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="oms.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "200 301"
