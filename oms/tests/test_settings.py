"""A bad configuration value stops the start with a message that names the variable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oms.tests.helpers import clean_environ, run_manage

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


def _manage_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with a fixed argument list
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=clean_environ(CACHE_DIR=""),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("planted", ["a link to elsewhere", "another user's directory"])
def test_a_default_cache_directory_planted_by_someone_else_is_refused(tmp_path, planted):
    # The default directory's name is derived from the checkout's path, in a folder every user of
    # the machine may write to: a checkout of its own gets a name nobody uses yet.
    if planted == "another user's directory" and os.geteuid() != 0:
        pytest.skip("only root can hand a directory to another user")
    project = tmp_path / "checkout"
    project.mkdir()
    shutil.copytree(ROOT / "oms", project / "oms", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", project)
    for entry in ROOT.iterdir():
        if entry.name != "oms" and (entry / "__init__.py").is_file():
            (project / entry.name).symlink_to(entry)
    show = "from django.conf import settings; print(settings.CACHES['default']['LOCATION'])"
    where = _manage_in(project, "shell", "-c", show)
    assert where.returncode == 0, where.stderr
    location = Path(where.stdout.strip().splitlines()[-1])
    assert location.name.startswith("oms-cache-") and not os.path.lexists(location)
    try:
        if planted == "a link to elsewhere":
            location.symlink_to(tmp_path)
        else:
            location.mkdir()
            os.chown(location, 4242, 4242)
        result = _manage_in(project, "check")
    finally:
        location.unlink() if location.is_symlink() else location.rmdir()
    assert result.returncode != 0
    assert "belongs to another user" in result.stderr
    assert "CACHE_DIR" in result.stderr.strip().splitlines()[-1]
