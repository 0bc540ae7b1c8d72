"""OMS benchmark: `make run`'s server under wrk, beside the reference minimal app, on each database.

Usage: make bench   (or .venv/bin/python bench/run.py --help)

For each database it seeds demo data (manage.py seed_demo), serves OMS through gunicorn.conf.py
exactly as `make run` does (PORT and WEB_CONCURRENCY from the environment), and drives each
scenario with wrk (Debian package `wrk`) for a fixed time. With --reference it also serves the
reference app (../shared/bench/ceiling) and runs its scenarios right after OMS's, round after
round, so that both see the same machine. With --scale it measures every read endpoint for a user
with 1,000 messages and one with 200,000 in the same database. Prints one table per database and
writes everything to bench/results/ as JSON. Every server it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
LUA = Path(__file__).resolve().parent / "scenario.lua"
PASSWORD = "bench-password-123"
READER, LIGHT, HEAVY = "reader", "light", "heavy"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else None)


def drain(port: int) -> None:
    """Returns once the server answers a request (any status): whatever was queued is done."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    conn.request("GET", "/api/none")
    conn.getresponse().read()
    conn.close()


def wait_until_up(port: int, path: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _ = call(port, "GET", path)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


class Server:
    """A server in its own process group, stopped with everything it started."""

    def __init__(self, args: list[str], *, env: dict, cwd: Path, log: Path):
        self.log = log.open("w")
        self.process = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@dataclass
class Scenario:
    name: str
    path: str
    token: str
    method: str = "GET"
    body: dict | None = None
    expect: int = 200
    connections: int | None = None


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    runs: list[dict] = field(default_factory=list)


def wrk(port: int, scenario: Scenario, args) -> dict:
    """One wrk run; its Lua script reports requests, latency percentiles and wrong answers."""
    env = {
        **os.environ,
        "BENCH_METHOD": scenario.method,
        "BENCH_TOKEN": scenario.token,
        "BENCH_BODY": json.dumps(scenario.body) if scenario.body is not None else "",
        "BENCH_EXPECT": str(scenario.expect),
    }
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{scenario.connections or args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}{scenario.path}",
    ]
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.duration + 60)
    # Requests still in the server when wrk stops (a login takes a second) would otherwise eat
    # into the next run: wait until the server answers again.
    drain(port)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result for {scenario.name}:\n{out.stdout}\n{out.stderr}")
    run = json.loads(line[len("BENCH ") :])
    return {
        "rps": run["requests"] / (run["duration_us"] / 1e6),
        "p50_ms": run["p50_us"] / 1000,
        "p99_ms": run["p99_us"] / 1000,
        "errors": run["errors"] + run["socket_errors"],
        "requests": run["requests"],
    }


def summarise(runs: list[dict]) -> Result:
    # The median round: the machine is shared, and one disturbed round should not decide.
    return Result(
        rps=round(statistics.median(r["rps"] for r in runs), 1),
        p50_ms=round(statistics.median(r["p50_ms"] for r in runs), 2),
        p99_ms=round(statistics.median(r["p99_ms"] for r in runs), 2),
        errors=sum(r["errors"] for r in runs),
        requests=sum(r["requests"] for r in runs),
        runs=runs,
    )


def paired_ratio(runs: list[dict], baseline: list[dict]) -> float:
    """The median of each round's ratio: two runs next to each other saw the same machine, so
    their ratio moves far less than either number does."""
    return round(statistics.median(a["rps"] / b["rps"] for a, b in zip(runs, baseline, strict=True)), 2)


# --- OMS ------------------------------------------------------------------------------------------


def oms_env(database_url: str, port: int, args) -> dict:
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        # The bench logs in from one address many times over, and each sender sends far faster than a
        # person types; everything else is as configured. The throttle keeps each request's time for
        # one period and rewrites that list on every request: per second, it holds a few hundred
        # (per minute, a minute of the bench's sends, tens of thousands; a person at 60/minute, 60).
        "THROTTLE_AUTH_RATE": "1000000/second",
        "THROTTLE_SEND_RATE": "1000000/second",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(args.workers),
    }


def reset_postgres(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    where = ["-h", parts.hostname or HOST, "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    subprocess.run(["dropdb", "--if-exists", *where, name], check=True)
    subprocess.run(["createdb", *where, name], check=True)


def manage(env: dict, *command: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *command], cwd=ROOT, env=env, check=True)


def login(port: int, username: str) -> str:
    status, body = call(port, "POST", "/api/auth/login", {"username": username, "password": PASSWORD})
    if status != 200:
        raise SystemExit(f"login {username}: {status} {body}")
    return body["token"]


def oms_scenarios(port: int, tokens: dict[str, str]) -> tuple[list[Scenario], list[Scenario]]:
    """The scenarios compared with the reference app, and OMS's own."""
    reader = tokens[READER]
    peer = "sender"
    # A deep cursor: ten pages of twenty into the conversation with the sender.
    url = f"/api/conversation/{peer}?page_size=20"
    for _ in range(10):
        body = call(port, "GET", url, token=reader)[1]
        if not body["next"]:
            break
        url = body["next"].split(f":{port}", 1)[1]
    today = time.strftime("%Y-%m-%d")  # the servers run in UTC by default, as this does with TZ unset
    compared = [
        Scenario(
            "send `POST /api/message`",
            "/api/message",
            tokens["sender"],
            "POST",
            {"receiver": READER, "content": "hello from the bench"},
            201,
        ),
        Scenario("inbox page 1 `GET /api/message/received`", "/api/message/received", reader),
        Scenario("all messages `GET /api/message`", "/api/message", reader),
        Scenario(
            "filtered `GET /api/message/received?sender=X&date=today`",
            "/api/message/received?" + urlencode({"sender": "sender", "date": today}),
            reader,
        ),
    ]
    own = [
        Scenario("conversation list `GET /api/conversation`", "/api/conversation", reader),
        Scenario("one conversation, first page", f"/api/conversation/{peer}?page_size=20", reader),
        Scenario("one conversation, deep cursor", url, reader),
        Scenario("sync `GET /api/sync`", f"/api/sync?since={sync_start(port, reader)}", reader),
        Scenario("unread count `GET /api/message/unread`", "/api/message/unread", reader),
        Scenario(
            "login `POST /api/auth/login`",
            "/api/auth/login",
            "",
            "POST",
            {"username": READER, "password": PASSWORD},
            200,
            connections=2,  # a login hashes for about a second: more would only queue
        ),
    ]
    return compared, own


def sync_start(port: int, token: str) -> int:
    """A `since` with a little over a full sync batch (100) of the user's messages after it."""
    return call(port, "GET", "/api/message?page=8", token=token)[1]["results"][0]["id"]


def scale_scenarios(port: int, tokens: dict[str, str]) -> list[tuple[str, str, str]]:
    """(endpoint, path, whose) for every read endpoint, for the light and the heavy user."""
    rows = []
    for who in (LIGHT, HEAVY):
        token = tokens[who]
        peer = call(port, "GET", "/api/conversation", token=token)[1]["results"][0]["peer"]
        since = sync_start(port, token)
        paths = {
            "inbox page 1": "/api/message/received",
            "all messages page 1": "/api/message",
            "filtered (sender and day)": "/api/message/received?"
            + urlencode({"sender": peer, "date": time.strftime("%Y-%m-%d")}),
            "unread count": "/api/message/unread",
            "conversation list": "/api/conversation",
            "one conversation": f"/api/conversation/{peer}?page_size=10",
            "sync": f"/api/sync?since={since}",
        }
        rows += [(name, path, who) for name, path in paths.items()]
    return rows


# --- The reference app --------------------------------------------------------------------------


def reference_dir(args) -> Path:
    candidates = [Path(args.reference_dir)] if args.reference_dir else []
    candidates += [p / "shared" / "bench" / "ceiling" for p in (ROOT.parent, ROOT.parent.parent)]
    for candidate in candidates:
        if (candidate / "serve.sh").is_file():
            return candidate
    raise SystemExit("reference app not found; pass --reference-dir (the folder with serve.sh)")


def reference_setup(port: int, inbox: int) -> tuple[dict[str, str], list[Scenario]]:
    tokens = {}
    for name in (READER, "sender"):
        status, body = call(port, "POST", "/api/auth/register", {"username": name, "password": PASSWORD})
        if status != 201:
            raise SystemExit(f"reference register {name}: {status} {body}")
        tokens[name] = body["token"]
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": f"Token {tokens['sender']}"}
    for i in range(inbox):
        conn.request("POST", "/api/message", json.dumps({"receiver": READER, "content": f"m{i}"}), headers)
        conn.getresponse().read()
    conn.close()
    today = time.strftime("%Y-%m-%d")
    return tokens, [
        Scenario(
            "send", "/api/message", tokens["sender"], "POST", {"receiver": READER, "content": "hello"}, 201
        ),
        Scenario("inbox", "/api/message/received", tokens[READER]),
        Scenario("all", "/api/message", tokens[READER]),
        Scenario(
            "filtered",
            "/api/message/received?" + urlencode({"sender": "sender", "date": today}),
            tokens[READER],
        ),
    ]


# --- One database -----------------------------------------------------------------------------------


def bench_database(label: str, database_url: str, args, workdir: Path) -> dict:
    scale = label in args.scale.split(",")
    port = args.port or free_port()
    env = oms_env(database_url, port, args)
    print(f"\n== {label}: migrating and seeding", flush=True)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    heavy = [f"{READER}:{args.inbox}", "sender:0"]
    if scale:
        heavy += [f"{LIGHT}:1000", f"{HEAVY}:{args.scale_messages}"]
    seed = ["seed_demo", "--users", "200", "--messages", "20000", "--password", PASSWORD]
    manage(env, *seed, *(x for h in heavy for x in ("--heavy", h)))

    command = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", *args.gunicorn_args]
    servers = [Server(command, env=env, cwd=ROOT, log=workdir / f"oms-{label}.log")]
    try:
        wait_until_up(port, "/api/message")
        tokens = {name: login(port, name) for name in (READER, "sender", *((LIGHT, HEAVY) if scale else ()))}
        # Warm up, and give the filtered scenario and the conversation with the sender today's
        # messages: full pages, and a cursor ten pages deep.
        for i in range(300):
            call(
                port, "POST", "/api/message", {"receiver": READER, "content": f"today {i}"}, tokens["sender"]
            )
        compared, own = oms_scenarios(port, tokens)

        reference = None
        if args.reference:
            ref_port = args.reference_port or free_port()
            ref_env = {**os.environ, "TMPDIR": str(workdir)}
            servers.append(
                Server(
                    ["bash", str(reference_dir(args) / "serve.sh"), str(ref_port)],
                    env=ref_env,
                    cwd=workdir,
                    log=workdir / f"reference-{label}.log",
                )
            )
            wait_until_up(ref_port, "/api/message", seconds=300)
            _, reference = reference_setup(ref_port, args.inbox)

        # Writes last, so that every read sees the same data in every round.
        order = [*range(1, len(compared)), 0]
        runs: dict[str, dict[str, list]] = {s.name: {"oms": [], "reference": []} for s in compared + own}
        for round_ in range(args.rounds):
            print(f"-- round {round_ + 1} of {args.rounds}", flush=True)
            for i in order:
                scenario = compared[i]
                pair = [("oms", port, scenario)] + (
                    [("reference", ref_port, reference[i])] if reference else []
                )
                if round_ % 2:
                    pair.reverse()  # alternate who goes first
                for who, p, s in pair:
                    runs[scenario.name][who].append(wrk(p, s, args))
            for scenario in own:
                runs[scenario.name]["oms"].append(wrk(port, scenario, args))

        scale_rows = []
        if scale:
            print("-- scale: 1,000 against 200,000 messages", flush=True)
            plan = scale_scenarios(port, tokens)
            measured: dict[tuple[str, str], list] = {(name, who): [] for name, _, who in plan}
            for round_ in range(args.rounds):
                # The light and the heavy user's runs of one endpoint side by side, alternating.
                pairs = [plan[i :: len(plan) // 2] for i in range(len(plan) // 2)]
                for pair in pairs:
                    for name, path, who in pair[:: -1 if round_ % 2 else 1]:
                        measured[(name, who)].append(wrk(port, Scenario(name, path, tokens[who]), args))
            for name in dict.fromkeys(name for name, _, _ in plan):
                light, heavy_ = summarise(measured[(name, LIGHT)]), summarise(measured[(name, HEAVY)])
                scale_rows.append(
                    {
                        "endpoint": name,
                        "light": light.__dict__,
                        "heavy": heavy_.__dict__,
                        "ratio": paired_ratio(heavy_.runs, light.runs),
                    }
                )
    finally:
        for server in reversed(servers):
            server.stop()

    table = []
    for scenario in compared + own:
        oms = summarise(runs[scenario.name]["oms"])
        ref = summarise(runs[scenario.name]["reference"]) if runs[scenario.name]["reference"] else None
        table.append(
            {
                "scenario": scenario.name,
                "oms": oms.__dict__,
                "reference": ref.__dict__ if ref else None,
                "ratio": paired_ratio(oms.runs, ref.runs) if ref else None,
            }
        )
    return {"database": label, "table": table, "scale": scale_rows}


def print_tables(result: dict, args) -> None:
    print(f"\n### {result['database']}\n")
    if args.reference:
        print("| scenario | OMS req/s | p50 ms | p99 ms | errors | reference req/s | ratio |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
    else:
        print("| scenario | OMS req/s | p50 ms | p99 ms | errors |")
        print("| --- | --- | --- | --- | --- |")
    for row in result["table"]:
        oms = row["oms"]
        cells = [
            row["scenario"],
            f"{oms['rps']:,.0f}",
            f"{oms['p50_ms']:.1f}",
            f"{oms['p99_ms']:.1f}",
            str(oms["errors"]),
        ]
        if args.reference:
            ref = row["reference"]
            cells += [f"{ref['rps']:,.0f}", f"{row['ratio']:.2f}"] if ref else ["", ""]
        print("| " + " | ".join(cells) + " |")
    if result["scale"]:
        heavy = f"{args.scale_messages:,}"
        print(f"\n#### {result['database']}: one user with 1,000 messages against one with {heavy}\n")
        print("| endpoint | 1k req/s | 1k p50 ms | heavy req/s | heavy p50 ms | heavy/1k req/s |")
        print("| --- | --- | --- | --- | --- | --- |")
        for row in result["scale"]:
            light, heavy = row["light"], row["heavy"]
            cells = [row["endpoint"], f"{light['rps']:,.0f}", f"{light['p50_ms']:.1f}"]
            cells += [f"{heavy['rps']:,.0f}", f"{heavy['p50_ms']:.1f}", f"{row['ratio']:.2f}"]
            print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite", help="comma-separated: sqlite, postgres")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/oms_bench"),
        help="a database the bench may drop and create (BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--reference", action="store_true", help="serve the reference app and compare")
    parser.add_argument("--reference-dir", default=os.environ.get("BENCH_REFERENCE_DIR"))
    parser.add_argument(
        "--scale", default="", help="databases on which to also run 1,000 against 200,000 messages"
    )
    parser.add_argument("--scale-messages", type=int, default=200_000)
    parser.add_argument(
        "--inbox", type=int, default=3000, help="messages of the user whose reads are measured"
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per scenario per round")
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds; the table shows each scenario's median"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--port", type=int, default=0, help="OMS's port (default: any free one)")
    parser.add_argument("--reference-port", type=int, default=0)
    parser.add_argument(
        "--gunicorn-args",
        nargs=argparse.REMAINDER,
        default=[],
        help="more for gunicorn: -k uvicorn_worker.UvicornWorker oms.asgi:application",
    )
    args = parser.parse_args()
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        workdir = Path(tmp)
        for label in args.databases.split(","):
            if label == "sqlite":
                url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            elif label == "postgres":
                url = args.postgres_url
                reset_postgres(url)
            else:
                raise SystemExit(f"unknown database {label!r}")
            result = bench_database(label, url, args, workdir)
            results.append(result)
            print_tables(result, args)
    machine = f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}"
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    record = {"command": sys.argv, "args": vars(args), "machine": machine, "results": results}
    path.write_text(json.dumps(record, indent=2))
    print(f"\n{machine}; {time.monotonic() - started:.0f}s in all; results in {path.relative_to(ROOT)}")
    if any(row["oms"]["errors"] for r in results for row in r["table"]):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
