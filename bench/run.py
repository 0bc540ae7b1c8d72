"""OMS benchmark: serves the API with gunicorn on loopback and measures the main endpoints.

Usage: make bench  (or .venv/bin/python bench/run.py [--requests N] [--concurrency C] [--seed-messages M])

Runs against a fresh SQLite file by default, or the database in BENCH_DATABASE_URL. Every request
loop is bounded by a count; the server is stopped at the end. Prints one line per endpoint
(requests/second and latency percentiles) and writes the same as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
PASSWORD = "bench password 12345"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive connection per worker thread."""

    def __init__(self, port: int, token: str | None = None):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        payload = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=payload, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)


def wait_until_up(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _ = Client(port).call("GET", "/api/schema?format=json")
            if status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def register(port: int, username: str) -> str:
    status, body = Client(port).call(
        "POST", "/api/auth/register", {"username": username, "password": PASSWORD}
    )
    if status != 201:
        raise SystemExit(f"register {username}: {status} {body}")
    return body["token"]


def measure(name: str, port: int, tokens: list[str], make_request, requests: int, concurrency: int) -> dict:
    """Runs `requests` calls over `concurrency` threads, each with its own connection."""
    per_thread = requests // concurrency

    def worker(index: int) -> tuple[list[float], int]:
        client = Client(port, tokens[index % len(tokens)])
        latencies, errors = [], 0
        for i in range(per_thread):
            method, path, body, headers, expected = make_request(index, i)
            started = time.perf_counter()
            status, _ = client.call(method, path, body, headers)
            latencies.append(time.perf_counter() - started)
            errors += status != expected
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    q = statistics.quantiles(latencies, n=100)
    row = {
        "endpoint": name,
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
    }
    print(
        f"{name:<34} {row['rps']:>8} req/s  p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  "
        f"p99 {row['p99_ms']:>7} ms  errors {errors}"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed-messages", type=int, default=20000, help="messages in the inbox under test")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="oms-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"),
        "THROTTLE_AUTH_RATE": "100000/minute",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    # Served exactly as `make run` serves it: gunicorn.conf.py.
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
        cwd=ROOT, env={**env, "PORT": str(port), "WEB_CONCURRENCY": str(args.workers)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(port)
        run = secrets.token_hex(3)
        inbox_owner = f"reader{run}"
        senders = [f"sender{run}{i}" for i in range(args.concurrency)]
        reader_token = register(port, inbox_owner)
        sender_tokens = [register(port, name) for name in senders]

        # Seed a large inbox directly through the ORM, as a long-lived account would have.
        seed = (
            "from accounts.models import User; from messageservice.models import Message; "
            f"r = User.objects.get(username='{inbox_owner}'); "
            f"ss = list(User.objects.filter(username__startswith='sender{run}')); "
            "Message.objects.bulk_create([Message(sender=ss[i % len(ss)], receiver=r, content=f'seed {i}') "
            f"for i in range({args.seed_messages})], batch_size=2000); "
            # As autovacuum would soon after a bulk load: give the planner statistics.
            "from django.db import connection; "
            "connection.vendor == 'postgresql' and connection.cursor().execute('VACUUM ANALYZE')"
        )
        subprocess.run([PYTHON, "manage.py", "shell", "-c", seed], cwd=ROOT, env=env, check=True)
        print(
            f"OMS benchmark: {args.requests} requests per endpoint, {args.concurrency} clients, "
            f"{args.workers} gunicorn workers, inbox of {args.seed_messages} messages, "
            f"database {env['DATABASE_URL'].split(':')[0]}"
        )

        def send(t, i):
            return "POST", "/api/message", {"receiver": inbox_owner, "content": f"m{t}-{i}"}, None, 201

        def send_with_key(t, i):
            body = {"receiver": inbox_owner, "content": f"k{t}-{i}"}
            return "POST", "/api/message", body, {"Idempotency-Key": f"{run}-{t}-{i}"}, 201

        def get(path_for):
            return lambda t, i: ("GET", path_for(t, i), None, None, 200)

        plan = [
            ("POST /api/message", sender_tokens, send),
            ("POST /api/message (Idempotency-Key)", sender_tokens, send_with_key),
            (
                "GET /api/message/received",
                [reader_token],
                get(lambda t, i: f"/api/message/received?page={1 + i % 50}"),
            ),
            ("GET /api/message", [reader_token], get(lambda t, i: f"/api/message?page={1 + i % 50}")),
            ("GET /api/message/unread", [reader_token], get(lambda t, i: "/api/message/unread")),
            ("GET /api/conversation", [reader_token], get(lambda t, i: "/api/conversation")),
            (
                "GET /api/conversation/<peer>",
                [reader_token],
                get(lambda t, i: f"/api/conversation/{senders[t]}"),
            ),
            (
                "GET /api/sync",
                [reader_token],
                get(lambda t, i: f"/api/sync?since={(i * 97) % args.seed_messages}"),
            ),
        ]
        rows = [
            measure(name, port, tokens, make, args.requests, args.concurrency) for name, tokens, make in plan
        ]
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))
        print(f"results written to {path.relative_to(ROOT)}")
        if any(row["errors"] for row in rows):
            raise SystemExit("some requests failed")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
