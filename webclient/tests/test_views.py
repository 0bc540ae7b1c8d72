"""The client's page: served at the site root with its own static files, no login needed."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_root_serves_the_client_page_to_anyone(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="login-form"' in html
    assert 'id="composer"' in html


def test_page_loads_only_static_files_from_this_server(client):
    html = client.get(reverse("webclient")).content.decode()

    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert not [s for s in sources if "//" in s], "nothing may come from another host"
    assets = [s for s in sources if s.startswith("/static/")]
    assert {a.rsplit("/", 1)[-1] for a in assets} == {"app.css", "app.js", "icon.svg"}
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset


def test_every_form_control_has_a_label(client):
    html = client.get("/").content.decode()

    controls = re.findall(r"<(?:input|textarea)\b[^>]*\bid=\"([^\"]+)\"", html)
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert controls
    assert set(controls) <= labelled


def test_page_is_not_an_api_endpoint(client):
    assert client.post("/").status_code == 405
