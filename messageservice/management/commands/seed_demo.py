"""manage.py seed_demo: fill a database with demo users and a realistic message history, fast."""

from __future__ import annotations

import re
import time

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from messageservice.demo import DEFAULT_PASSWORD, demo_write


def heavy_user(value: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Za-z0-9_.@+-]{1,150}):([0-9]+)", value)
    if not match:
        raise ValueError(value)
    return match.group(1), int(match.group(2))


class Command(BaseCommand):
    help = (
        "Create users demo1..demoN and M messages among them (many peers, many days, some read, some "
        "deleted), plus for each --heavy NAME:K a user NAME with K messages exchanged with many peers. "
        "Writes what the API would have written, in bulk."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=100, help="how many demo users (default 100)")
        parser.add_argument(
            "--messages", type=int, default=10_000, help="messages among them (default 10000)"
        )
        parser.add_argument(
            "--heavy",
            type=heavy_user,
            action="append",
            default=[],
            metavar="NAME:K",
            help="a user with K messages",
        )
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="every user's password")
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed: the same seed, the same history"
        )

    def handle(self, *args, users, messages, heavy, password, seed, **options):
        if users < 1 or messages < 0 or any(k < 0 for _, k in heavy):
            raise CommandError("--users must be at least 1; counts cannot be negative")
        names = [name for name, _ in heavy]
        if len({n.lower() for n in names}) != len(names) or any(
            re.fullmatch(r"demo[0-9]+", n, re.IGNORECASE) for n in names
        ):
            raise CommandError("heavy user names must be distinct and not demo<N>")
        for name in names:
            try:
                User.username_validator(name)
            except Exception as exc:
                raise CommandError(f"--heavy {name}: {exc}") from exc
        started = time.monotonic()
        try:
            stored = demo_write(users=users, messages=messages, heavy=heavy, password=password, seed=seed)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{users + len(heavy)} users and {stored} messages in {time.monotonic() - started:.1f}s"
        )
