"""Helpers for tests that must start Django afresh, because settings are read once at start."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a new process, with this environment less DJANGO_* and LOG_*, plus `env`."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LOG_")) or key == "DJANGO_SETTINGS_MODULE"
    }
    environ.update(env)
    return subprocess.run(  # noqa: S603 - our own manage.py with a fixed argument list
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
