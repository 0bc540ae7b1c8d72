"""Python function calls per request for each read endpoint: the bench's noise-free companion.

Usage: .venv/bin/python bench/calls.py [--messages 3000]

Requests per second move with whatever else the machine is doing; the number of Python function
calls a request makes does not. This seeds a fresh SQLite file with seed_demo, then calls each
endpoint in-process (Django's test client, no server) under cProfile and prints the calls per
request, next to a bare 404 from the same middleware stack as the floor.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="messages of the user who asks")
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="oms-calls-"))
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'calls.sqlite3'}",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "oms.settings",
        }
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, check=True)
    seed = ["seed_demo", "--users", "200", "--messages", "20000", "--heavy", f"reader:{args.messages}"]
    subprocess.run([*manage, *seed], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test import Client
    from django.utils import timezone
    from knox.models import AuthToken

    from accounts.models import User
    from messageservice.models import Conversation

    reader = User.objects.get(username="reader")
    _, token = AuthToken.objects.create(user=reader)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    peer = Conversation.objects.filter(owner=reader).select_related("peer").order_by("-sent").first().peer
    today = timezone.localdate().isoformat()
    paths = {
        "floor: a 404 through the same middleware": "/api/nope",
        "inbox page 1": "/api/message/received",
        "all messages page 1": "/api/message",
        "filtered (sender and day)": f"/api/message/received?sender={peer.username}&date={today}",
        "unread count": "/api/message/unread",
        "conversation list": "/api/conversation",
        "one conversation": f"/api/conversation/{peer.username}",
        "sync (100 messages)": "/api/sync?since=0",
    }
    print("| request | Python function calls |\n| --- | --- |")
    for name, path in paths.items():
        for _ in range(5):
            client.get(path)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get(path)
        profile.disable()
        print(f"| {name} | {pstats.Stats(profile).total_calls // args.requests:,} |")


if __name__ == "__main__":
    main()
