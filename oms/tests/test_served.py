"""The served configuration (gunicorn.conf.py) on loopback: limits and metrics hold across
processes, not per process."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from oms.tests.helpers import request_once, served

# Ports of this test suite: 8380-8399.
PORT, OTHER_PORT = 8381, 8382
METRICS_TOKEN = "scrape-me"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def _empty_login(port: int):
    # Throttled before the body is read: an empty login needs no database.
    return request_once(port, "POST", "/api/auth/login", b"{}", {"Content-Type": "application/json"})


def test_two_server_processes_without_redis_share_one_login_limit(tmp_path: Path):
    # Two processes on one machine, as two workers are, with the default (no REDIS_URL) cache.
    common = {
        "WEB_CONCURRENCY": "1",
        "THROTTLE_AUTH_RATE": "8/minute",
        "CACHE_DIR": str(tmp_path / "cache"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    with (
        served(PORT, tmp_path / "one.log", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "m1"), **common),
        served(OTHER_PORT, tmp_path / "two.log", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "m2"), **common),
    ):
        answers = [_empty_login(port) for _ in range(10) for port in (PORT, OTHER_PORT)]
    statuses = [status for status, _, _ in answers]
    assert statuses.count(400) == 8, statuses  # counters kept per process would let 16 through
    assert statuses.count(429) == 12
    assert all(int(headers["Retry-After"]) > 0 for status, headers, _ in answers if status == 429)


def test_metrics_count_the_requests_of_every_worker_and_need_the_token(tmp_path: Path):
    metrics_dir = tmp_path / "metrics"
    with served(
        PORT,
        tmp_path / "server.log",
        WEB_CONCURRENCY="2",
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        METRICS_TOKEN=METRICS_TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    ):
        sent: list[int] = []

        def probe_many():
            for _ in range(10):
                sent.append(request_once(PORT, "GET", "/healthz")[0])

        # Probes from four clients at once until both workers (which boot at their own pace) have
        # answered some: each worker writes its own files, so the sums below are over two processes.
        deadline = time.monotonic() + 30
        while len(_workers(metrics_dir)) < 2 and time.monotonic() < deadline:
            threads = [threading.Thread(target=probe_many) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        assert len(_workers(metrics_dir)) == 2, sorted(p.name for p in metrics_dir.iterdir())

        assert request_once(PORT, "GET", "/metrics")[0] == 403
        assert request_once(PORT, "GET", "/metrics", headers={"Authorization": "Bearer wrong"})[0] == 403
        status, headers, body = request_once(PORT, "GET", "/metrics", headers=SCRAPE)
    assert set(sent) == {200}
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    # The probes, the two refused scrapes and this one.
    total = len(sent) + 3
    assert f"django_http_requests_before_middlewares_total {total}.0" in text, text
    assert re.search(r'django_http_responses_total_by_status_total\{status="403"\} 2\.0', text), text


def _workers(metrics_dir: Path) -> set[str]:
    return {re.sub(r"\D", "", p.name) for p in metrics_dir.glob("counter_*.db")}
