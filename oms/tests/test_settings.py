"""A bad configuration value stops the start with a message that names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from oms.tests.helpers import run_manage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DJANGO_SECURE_SSL_REDIRECT", "sometimes"),
        ("DATABASE_URL", "bogus://somewhere"),
        ("THROTTLE_AUTH_RATE", "lots"),
        ("TOKEN_TTL_HOURS", "ten"),
        ("DATABASE_POOL_SIZE", "plenty"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "LOUD"),
        ("TOKEN_TTL_HOURS", "0"),
        ("TOKEN_TTL_HOURS", "-3"),
        ("THROTTLE_SEND_RATE", "plenty"),
        ("DATABASE_CONNECT_TIMEOUT", "0"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "soon"),
        ("DATABASE_BUSY_TIMEOUT", "a while"),
        ("ADMIN_LOGIN_FAILURE_LIMIT", "0"),
        ("METRICS_ALLOWED_NETWORKS", "10.0.0.0/33"),
    ],
)
def test_a_bad_value_refuses_to_start_naming_the_variable(variable, value):
    # Each database's own variables are read only when that database is configured.
    if variable in (
        "DATABASE_CONNECT_TIMEOUT",
        "DATABASE_STATEMENT_TIMEOUT_MS",
        "DATABASE_POOL_SIZE",
    ):
        extra = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/oms"}
    elif variable in ("DATABASE_BUSY_TIMEOUT", "DATABASE_CONN_MAX_AGE"):
        extra = {"DATABASE_URL": "sqlite:///db.sqlite3"}
    else:
        extra = {}
    result = run_manage("check", **extra, **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_a_fresh_checkout_starts_with_nothing_set():
    result = run_manage("check")
    assert result.returncode == 0, result.stderr
