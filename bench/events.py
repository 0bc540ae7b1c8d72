"""OMS event-stream benchmark: N WebSocket clients held open while senders send at a fixed rate.

Usage: make bench-events  (or .venv/bin/python bench/events.py [--sockets N] [--rate R] [--seconds S])

Serves OMS with gunicorn.conf.py (2 workers) on a free loopback port, against a fresh SQLite file
or BENCH_DATABASE_URL, with Redis when BENCH_REDIS_URL is set. Prints the delivery latency from
"send answered" to "event received on the receiver's socket" (p50/p99; an event that beats its
own HTTP answer counts as 0), events lost (must be 0), and the server's memory. Every loop is
bounded by a count or a deadline; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_rss_mib(pid: int) -> float:
    """Resident memory of the gunicorn master and its workers."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/api/schema?format=json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not start")


def seed(env: dict, run: str, sockets: int, senders: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Users and tokens made directly (hashing 2,000 passwords is not what is measured)."""
    code = f"""
import json
from accounts.models import User
from knox.models import AuthToken
users = User.objects.bulk_create(
    [User(username=f"r{run}{{i}}", password="!") for i in range({sockets})]
    + [User(username=f"s{run}{{i}}", password="!") for i in range({senders})]
)
mine = User.objects.filter(username__contains="{run}").order_by("id")
print(json.dumps([(u.username, AuthToken.objects.create(user=u)[1]) for u in mine]))
"""
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pairs = json.loads(out.strip().splitlines()[-1])
    readers = [(n, t) for n, t in pairs if n.startswith("r")]
    sender_tokens = [t for n, t in pairs if n.startswith("s")]
    return readers, sender_tokens


def send_loop(port, sender_tokens, receivers, rate, seconds, results, threads=8):
    """Runs in its own process: `rate` sends a second for `seconds`, over `threads` keep-alive clients."""
    total = int(rate * seconds)
    start = time.monotonic() + 0.5
    sent, errors = [], []

    def worker(index):
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        token = sender_tokens[index % len(sender_tokens)]
        rnd = random.Random(index)
        for n in range(index, total, threads):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            receiver = rnd.choice(receivers)
            body = json.dumps({"receiver": receiver, "content": f"bench {n}"})
            conn.request(
                "POST", "/api/message", body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
            )  # fmt: skip
            response = conn.getresponse()
            data = response.read()
            answered = time.monotonic()
            if response.status == 201:
                sent.append((json.loads(data)["id"], receiver, answered))
            else:
                errors.append(response.status)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put((sent, errors))


async def hold_sockets(port, readers, received: dict, ready: asyncio.Event, stop: asyncio.Event):
    connected = 0

    async def one(name, token):
        nonlocal connected
        async for ws in websockets.connect(
            f"ws://{HOST}:{port}/ws/events",
            additional_headers={"Authorization": f"Token {token}"},
            open_timeout=60,
            ping_interval=None,
        ):
            try:
                first = json.loads(await ws.recv())
                assert first["type"] == "ready", first
                connected += 1
                if connected == len(readers):
                    ready.set()
                async for raw in ws:  # until the bench cancels this task
                    now = time.monotonic()
                    frame = json.loads(raw)
                    if frame.get("type") == "message.created":
                        received.setdefault(frame["data"]["id"], now)
            except websockets.ConnectionClosed:
                connected -= 1
                continue  # reconnect: the bench counts what arrives, as a client would

    tasks = []
    for i, (name, token) in enumerate(readers):
        tasks.append(asyncio.create_task(one(name, token)))
        if i % 100 == 99:
            await asyncio.sleep(0.2)  # connect in waves, as clients of a real service would
    await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100, help="sends per second")
    parser.add_argument("--seconds", type=float, default=20, help="how long to send")
    parser.add_argument("--senders", type=int, default=20, help="sending users")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ping", type=float, default=None, help="EVENTS_PING_SECONDS for the server")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="oms-bench-events-"))
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "EVENT"))
    }
    env.update(
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            # Each sending user sends far faster than a person types.
            "THROTTLE_SEND_RATE": "1000000/minute",
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"),
            "LOG_LEVEL": "WARNING",
            "PORT": str(port),
            "WEB_CONCURRENCY": str(args.workers),
        }
    )
    if args.ping:
        env["EVENTS_PING_SECONDS"] = str(args.ping)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    run = secrets.token_hex(3)
    readers, sender_tokens = seed(env, run, args.sockets, args.senders)
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
        cwd=ROOT, env=env, stdout=(workdir / "server.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_up(port)
        rss_idle = server_rss_mib(server.pid)
        transport = "redis" if "REDIS_URL" in env else env["DATABASE_URL"].split(":")[0]
        print(
            f"OMS event benchmark: {args.sockets} sockets, {args.rate:g} sends/s for {args.seconds:g} s, "
            f"{args.workers} workers, database {env['DATABASE_URL'].split(':')[0]}, wake-ups via {transport}"
        )
        received: dict[int, float] = {}

        async def scenario():
            ready, stop = asyncio.Event(), asyncio.Event()
            holder = asyncio.create_task(hold_sockets(port, readers, received, ready, stop))
            started = time.monotonic()
            await asyncio.wait_for(ready.wait(), 180)
            print(f"{args.sockets} sockets connected in {time.monotonic() - started:.1f} s")
            rss_connected = server_rss_mib(server.pid)
            results = multiprocessing.Queue()
            sender = multiprocessing.Process(
                target=send_loop,
                args=(port, sender_tokens, [n for n, _ in readers], args.rate, args.seconds, results),
            )
            sender.start()
            loop = asyncio.get_running_loop()
            sent, errors = await loop.run_in_executor(None, results.get)
            sender.join()
            deadline = time.monotonic() + 10  # grace for the last events
            while time.monotonic() < deadline and not all(mid in received for mid, _, _ in sent):
                await asyncio.sleep(0.2)
            rss_end = server_rss_mib(server.pid)
            holder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holder
            return sent, errors, rss_connected, rss_end

        sent, errors, rss_connected, rss_end = asyncio.run(scenario())
        latencies = sorted(max(0.0, received[mid] - answered) for mid, _, answered in sent if mid in received)
        lost = sum(1 for mid, _, _ in sent if mid not in received)
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        print(
            f"sent {len(sent)} ({len(sent) / args.seconds:.0f}/s), send errors {len(errors)}, "
            f"delivery latency p50 {q[49] * 1000:.1f} ms  p99 {q[98] * 1000:.1f} ms  "
            f"max {latencies[-1] * 1000 if latencies else 0:.1f} ms, lost {lost}"
        )
        print(f"server memory (master + workers): idle {rss_idle} MiB, "
              f"{args.sockets} sockets {rss_connected} MiB, end {rss_end} MiB")  # fmt: skip
        if lost or errors:
            statuses = {status: errors.count(status) for status in sorted(set(errors))}
            log = workdir / "server.log"
            raise SystemExit(f"events were lost or sends failed {statuses}; server log: {log}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
