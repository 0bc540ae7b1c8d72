"""Browser-test fixtures: a real server process (gunicorn through gunicorn.conf.py, as `make run`
serves) on a loopback port, Debian's Chromium driven by Playwright, and people who use it.

Browser tests need /usr/bin/chromium (or CHROMIUM_PATH). Without it they are skipped, unless
BROWSER_TESTS_REQUIRED is set (CI sets it), when a missing browser fails them instead.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Flags for a headless browser on a machine with no outside network and no display.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
_names = itertools.count(1)


def _require_browser() -> None:
    if Path(CHROMIUM).is_file():
        return
    reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    if os.environ.get("BROWSER_TESTS_REQUIRED"):
        pytest.fail(reason + "; BROWSER_TESTS_REQUIRED is set, so this is an error")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    database: Path

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        """The API as any other client sees it: (status, parsed body)."""
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Token {token}"} if token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, (json.loads(raw) if raw else None)


@pytest.fixture(scope="session")
def web_server(tmp_path_factory) -> LiveServer:
    """One server for the browser tests, on its own SQLite file (and the suite's REDIS_URL, if any).

    Throttles are raised: the tests register and send from one address faster than a person would.
    """
    _require_browser()
    folder = tmp_path_factory.mktemp("live-server")
    database = folder / "db.sqlite3"
    port = int(os.environ.get("BROWSER_TEST_PORT") or _free_port())
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "PORT": str(port),
        # Two workers share events through Redis; without it, typing indicators reach only the
        # sockets of the same process, so a lone worker serves everyone.
        "WEB_CONCURRENCY": "2" if os.environ.get("REDIS_URL") else "1",
        "THROTTLE_AUTH_RATE": "10000/minute",
        "THROTTLE_SEND_RATE": "10000/minute",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "oms.settings",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    log = (folder / "server.log").open("wb")
    gunicorn = Path(python).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = LiveServer(url=f"http://127.0.0.1:{port}", database=database)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(server.url + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {folder / 'server.log'}")
            time.sleep(0.2)
        yield server
    finally:
        # The whole process group, gunicorn's workers too. A long-poll a closed page left open
        # holds a worker's shutdown until it times out; nothing here needs that grace.
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=3)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(web_server):
    # Module scope: Playwright's synchronous API holds an event loop, which Django's ORM refuses
    # to run beside, so the browser never outlives the browser-test modules.
    from playwright.sync_api import expect, sync_playwright

    # Generous waits for a loaded 2-core machine; "within a second" is asserted where it is promised.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Person:
    """Someone with an account on the live server, and (once `open` is called) a browser of their own."""

    username: str
    token: str
    server: LiveServer
    browser: object
    context: object = None
    page: object = None

    def open(self, *, viewport=None, log_in: bool = True):
        from playwright.sync_api import expect

        self.context = self.browser.new_context(
            base_url=self.server.url, viewport=viewport or {"width": 1000, "height": 680}
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.goto("/")
        if log_in:
            self.page.get_by_label("Username").first.fill(self.username)
            self.page.get_by_label("Password").first.fill(PASSWORD)
            self.page.get_by_role("button", name="Log in").click()
            expect(self.page.locator("#me")).to_have_text(self.username)
            # Connected to the event stream (or long-polling), so nothing that follows is missed.
            expect(self.page.locator("#connection")).to_contain_text("Live")
        return self.page

    def open_conversation(self, peer: str):
        page = self.page
        page.get_by_label("New conversation with").fill(peer)
        page.get_by_role("button", name="Open", exact=True).click()
        from playwright.sync_api import expect

        expect(page.locator("#peer-name")).to_have_text(peer)

    def send(self, text: str):
        self.page.get_by_label(f"Message to {self.page.locator('#peer-name').inner_text()}").fill(text)
        self.page.get_by_role("button", name="Send", exact=True).click()

    def api(self, method: str, path: str, body: dict | None = None):
        return self.server.call(method, path, body, token=self.token)


@pytest.fixture
def people(web_server, browser):
    """`people("alice", "bob")`: new accounts (unique names on the shared server), closed afterwards."""
    made: list[Person] = []

    def make(*names: str) -> list[Person]:
        for name in names:
            username = f"{name}{next(_names)}{secrets.token_hex(2)}"
            status, body = web_server.call(
                "POST", "/api/auth/register", {"username": username, "password": PASSWORD}
            )
            assert status == 201, body
            made.append(Person(username=username, token=body["token"], server=web_server, browser=browser))
        return made[-len(names) :]

    yield make
    for person in made:
        if person.context is not None:
            person.context.close()
