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
    ],
)
def test_a_bad_value_refuses_to_start_naming_the_variable(variable, value):
    extra = (
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/oms"} if variable == "DATABASE_POOL_SIZE" else {}
    )
    result = run_manage("check", **extra, **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_a_fresh_checkout_starts_with_nothing_set():
    result = run_manage("check")
    assert result.returncode == 0, result.stderr
