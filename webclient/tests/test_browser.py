"""The web client in a real browser (Debian's Chromium) against a real server, as two people would use it."""

from __future__ import annotations

import os
import sqlite3

import pytest

from webclient.tests.conftest import PASSWORD, ROOT

pytestmark = pytest.mark.browser

SCREENSHOT = ROOT / "docs" / "screenshot-conversation.png"


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def messages(page):
    return page.locator("#message-list .message .content")


def test_register_log_out_and_log_in_again(people, web_server, browser):
    (carol,) = people("carol")  # an account only to share the fixtures' clean-up
    context = browser.new_context(base_url=web_server.url)
    try:
        page = context.new_page()
        page.goto("/")
        username = carol.username + "x"
        register = page.locator("#register-form")
        register.get_by_label("Username").fill(username)
        register.get_by_label("Password").fill("short")
        register.get_by_role("button", name="Create account").click()
        # The API's own words about the weak password.
        expect(page.locator("#register-error")).to_contain_text("password")

        register.get_by_label("Password").fill(PASSWORD)
        register.get_by_role("button", name="Create account").click()
        expect(page.locator("#me")).to_have_text(username)
        assert page.evaluate("localStorage.getItem('oms.token')")

        page.get_by_role("button", name="Log out", exact=True).click()
        expect(page.locator("#auth-message")).to_have_text("You are logged out.")
        assert page.evaluate("localStorage.getItem('oms.token')") is None

        login = page.locator("#login-form")
        login.get_by_label("Username").fill(username)
        login.get_by_label("Password").fill("wrong password")
        login.get_by_role("button", name="Log in").click()
        expect(page.locator("#login-error")).to_have_text("Invalid username or password.")
        login.get_by_label("Password").fill(PASSWORD)
        login.get_by_role("button", name="Log in").click()
        expect(page.locator("#me")).to_have_text(username)

        # A reload keeps the session: the token lives in the browser's storage.
        page.reload()
        expect(page.locator("#me")).to_have_text(username)
    finally:
        context.close()


def test_message_arrives_live_after_a_typing_indicator(people):
    alice, bob = people("alice", "bob")
    alice.open()
    bob_page = bob.open()
    expect(bob_page.locator("#connection")).to_have_text("Live")
    alice.open_conversation(bob.username)

    alice.page.get_by_label(f"Message to {bob.username}").press_sequentially("Hi Bob", delay=30)
    expect(bob_page.locator("#sidebar-typing")).to_have_text(f"{alice.username} is typing…", timeout=4000)

    alice.page.get_by_label(f"Message to {bob.username}").press("Enter")
    item = bob_page.locator(f'.conversation-item[data-peer="{alice.username}"]')
    # Within a second, without a reload.
    expect(item).to_contain_text("Hi Bob", timeout=1000)
    expect(item.locator(".badge")).to_have_text("1")

    # Bob is in the conversation: the next message appears in it, again after "typing".
    item.click()
    expect(messages(bob_page)).to_have_text(["Hi Bob"])
    # Typing indicators are rate-limited (one every couple of seconds): type as slowly as a person.
    alice.page.get_by_label(f"Message to {bob.username}").press_sequentially("How are you?", delay=250)
    expect(bob_page.locator("#typing")).to_have_text(f"{alice.username} is typing…", timeout=4000)
    alice.page.get_by_label(f"Message to {bob.username}").press("Enter")
    expect(messages(bob_page)).to_have_text(["Hi Bob", "How are you?"], timeout=1000)
    expect(bob_page.locator("#typing")).to_have_text("")


def test_opening_a_conversation_marks_it_read_and_the_sender_sees_read(people, tmp_path):
    alice, bob = people("alice", "bob")
    alice.open()
    bob.open()
    alice.open_conversation(bob.username)
    alice.send("Lunch at noon?")
    state = alice.page.locator(".message.mine .state")
    expect(state).to_have_text("Sent")

    # Bob's list shows the message: it has reached him.
    expect(bob.page.locator(f'.conversation-item[data-peer="{alice.username}"] .badge')).to_have_text("1")
    expect(state).to_have_text("Delivered", timeout=10_000)

    bob.page.locator(f'.conversation-item[data-peer="{alice.username}"]').click()
    expect(messages(bob.page)).to_have_text(["Lunch at noon?"])
    expect(bob.page.locator(f'.conversation-item[data-peer="{alice.username}"] .badge')).to_have_count(0)
    expect(state).to_have_text("Read", timeout=10_000)

    bob.send("Yes, see you there")
    expect(messages(alice.page)).to_have_text(["Lunch at noon?", "Yes, see you there"])
    alice.send("Great, I'll book a table")
    # Bob has the conversation open: what arrives in it is read at once.
    expect(state).to_have_text(["Read", "Read"], timeout=10_000)
    alice.page.set_viewport_size({"width": 900, "height": 440})
    # UPDATE_SCREENSHOT=1 refreshes the README's picture; other runs leave the tree as it is.
    shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") else tmp_path / SCREENSHOT.name
    alice.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0


def test_messages_written_offline_are_sent_once_in_order_on_return(people):
    alice, bob = people("alice", "bob")
    alice.open()
    bob.open()
    bob.open_conversation(alice.username)
    alice.open_conversation(bob.username)

    alice.context.set_offline(True)
    alice.send("first, written offline")
    alice.send("second, written offline")
    pending = alice.page.locator(".message.pending")
    expect(pending).to_have_count(2)
    expect(pending.locator(".state")).to_have_text(["Pending", "Pending"])
    expect(alice.page.locator("#connection")).to_contain_text("Offline")
    # Still queued after a while: nothing reached Bob.
    alice.page.wait_for_timeout(1000)
    expect(messages(bob.page)).to_have_count(0)
    # The queue is kept on the device, each message with its Idempotency-Key.
    assert len(alice.page.evaluate(f"JSON.parse(localStorage.getItem('oms.outbox.{alice.username}'))")) == 2

    alice.context.set_offline(False)
    both = ["first, written offline", "second, written offline"]
    expect(messages(bob.page)).to_have_text(both, timeout=10_000)
    expect(alice.page.locator(".message.pending")).to_have_count(0)
    expect(messages(alice.page)).to_have_text(both)
    status, page = bob.api("GET", f"/api/conversation/{alice.username}")
    assert status == 200
    assert [m["content"] for m in page["results"]] == ["second, written offline", "first, written offline"]


def test_a_send_whose_answer_was_lost_is_stored_once(people):
    alice, bob = people("alice", "bob")
    alice.open()
    bob.open()
    bob.open_conversation(alice.username)
    alice.open_conversation(bob.username)
    keys = []

    def lose_the_answer(route):
        # The request reaches the server and is stored; the answer never reaches the page.
        keys.append(route.request.headers.get("idempotency-key"))
        route.fetch()
        route.abort("internetdisconnected")

    # Only the first send: the retry goes through untouched.
    alice.page.route("**/api/message", lose_the_answer, times=1)
    alice.send("sent exactly once")

    expect(messages(bob.page)).to_have_text(["sent exactly once"], timeout=15_000)
    expect(alice.page.locator(".message.pending")).to_have_count(0, timeout=15_000)
    expect(messages(alice.page)).to_have_text(["sent exactly once"])
    assert len(keys) == 1 and keys[0]
    status, page = bob.api("GET", f"/api/conversation/{alice.username}")
    assert status == 200
    assert [m["content"] for m in page["results"]] == ["sent exactly once"]


def test_a_blocked_send_shows_the_refusal_and_unblock_lets_it_through(people):
    alice, bob = people("alice", "bob")
    alice.open()
    bob.open()
    bob.open_conversation(alice.username)
    bob.page.get_by_role("button", name=f"Block {alice.username}").click()
    expect(bob.page.get_by_role("button", name=f"Unblock {alice.username}")).to_be_visible()

    alice.open_conversation(bob.username)
    alice.send("can you hear me?")
    expect(alice.page.locator("#conversation-error")).to_have_text(f"You are blocked by {bob.username}")
    expect(alice.page.locator(".message.failed .state")).to_have_text(
        f"Not sent: You are blocked by {bob.username}"
    )
    expect(messages(bob.page)).to_have_count(0)

    bob.page.get_by_role("button", name=f"Unblock {alice.username}").click()
    expect(bob.page.get_by_role("button", name=f"Block {alice.username}")).to_be_visible()
    alice.page.get_by_role("button", name="Discard").click()
    alice.send("and now?")
    expect(messages(bob.page)).to_have_text(["and now?"], timeout=10_000)


def test_new_conversation_with_an_unknown_user_shows_the_api_error(people):
    (alice,) = people("alice")
    page = alice.open()
    page.get_by_label("New conversation with").fill("nobody-by-this-name")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#new-conversation-error")).to_have_text("User does not exist.")
    page.get_by_label("New conversation with").fill("no spaces")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page.locator("#new-conversation-error")).to_contain_text("letters, digits")


def test_an_expired_token_lands_on_the_login_screen(people, web_server):
    alice, bob = people("alice", "bob")
    page = alice.open()
    bob.open()
    with sqlite3.connect(web_server.database) as db:
        db.execute(
            "UPDATE knox_authtoken SET expiry = '2000-01-01 00:00:00' "
            "WHERE user_id = (SELECT id FROM accounts_user WHERE username = ?)",
            (alice.username,),
        )
    page.get_by_label("New conversation with").fill(bob.username)
    page.get_by_role("button", name="Open", exact=True).click()

    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#auth-message")).to_have_text(
        "Your session has expired or was logged out. Please log in again."
    )
    assert page.evaluate("localStorage.getItem('oms.token')") is None
    # Bob's session is his own and goes on.
    bob.open_conversation(alice.username)


def test_older_messages_load_when_scrolling_up(people):
    alice, bob = people("alice", "bob")
    for n in range(1, 71):
        status, _ = bob.api("POST", "/api/message", {"receiver": alice.username, "content": f"message {n}"})
        assert status == 201
    page = alice.open()
    alice.open_conversation(bob.username)
    expect(messages(page).last).to_have_text("message 70")
    first_page = messages(page).count()
    assert first_page < 70

    for _ in range(5):
        page.locator("#messages").evaluate("box => box.scrollTop = 0")
        page.wait_for_timeout(300)
    expect(messages(page)).to_have_count(70)
    expect(messages(page).first).to_have_text("message 1")


def test_long_poll_takes_over_when_a_websocket_cannot_be_opened(people, web_server):
    alice, bob = people("alice", "bob")
    alice.open()
    context = bob.browser.new_context(base_url=web_server.url)
    # As behind a proxy that refuses WebSockets: every socket goes to a closed port.
    context.add_init_script(
        "window.WebSocket = class extends WebSocket {"
        " constructor(url, protocols) { super(url.replace(location.host, '127.0.0.1:9'), protocols); } };"
    )
    bob.context = context
    page = context.new_page()
    page.goto("/")
    page.locator("#login-form").get_by_label("Username").fill(bob.username)
    page.locator("#login-form").get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#connection")).to_have_text("Live (long-poll)", timeout=10_000)

    alice.open_conversation(bob.username)
    alice.send("over long-poll")
    expect(page.locator(f'.conversation-item[data-peer="{alice.username}"]')).to_contain_text(
        "over long-poll", timeout=10_000
    )


def test_layout_at_phone_width_and_keyboard_only_use(people):
    alice, bob = people("alice", "bob")
    bob.open()
    page = alice.open(viewport={"width": 360, "height": 720}, log_in=False)

    def fits():
        return page.evaluate("document.documentElement.scrollWidth") <= 360

    def tab_to(element_id: str):
        for _ in range(12):
            if page.evaluate("document.activeElement.id") == element_id:
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached #{element_id}")

    assert fits()
    # Keyboard only, from the login screen (which puts the focus in its first field).
    expect(page.locator("#login-username")).to_be_focused()
    page.keyboard.type(alice.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#me")).to_have_text(alice.username)
    assert fits()
    # Tab to the new-conversation field, type, Enter; the composer gets the focus.
    tab_to("new-peer")
    page.keyboard.type(bob.username)
    page.keyboard.press("Enter")
    expect(page.locator("#peer-name")).to_have_text(bob.username)
    expect(page.locator("#composer-input")).to_be_focused()
    expect(page.locator("#sidebar")).to_be_hidden()
    page.keyboard.type("typed without a mouse " + "and a rather long word " * 3)
    page.keyboard.press("Enter")
    expect(page.locator(".message.mine .state")).to_have_text("Sent")
    assert fits()
    for selector in ("#composer-input", "#block-toggle", "#back"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, selector

    # Back to the list with the keyboard.
    page.locator("#back").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#sidebar")).to_be_visible()
    expect(page.locator(f'.conversation-item[data-peer="{bob.username}"]')).to_be_focused()
    assert fits()


def test_back_online_it_catches_up_with_what_it_missed(people):
    alice, bob = people("alice", "bob")
    alice.open()
    bob.open()
    bob.open_conversation(alice.username)
    alice.open_conversation(bob.username)
    alice.send("before the tunnel")
    expect(messages(bob.page)).to_have_text(["before the tunnel"], timeout=10_000)

    bob.context.set_offline(True)
    expect(bob.page.locator("#connection")).to_contain_text("Offline")
    alice.send("in the tunnel 1")
    alice.send("in the tunnel 2")
    expect(alice.page.locator(".message.mine .state")).to_have_text(["Read", "Sent", "Sent"])
    bob.page.wait_for_timeout(1000)
    expect(messages(bob.page)).to_have_text(["before the tunnel"])

    bob.context.set_offline(False)
    expect(messages(bob.page)).to_have_text(
        ["before the tunnel", "in the tunnel 1", "in the tunnel 2"], timeout=10_000
    )
    # Bob has the conversation open, so what he caught up on is read, and Alice sees it.
    expect(alice.page.locator(".message.mine .state")).to_have_text(["Read", "Read", "Read"], timeout=10_000)


def test_log_out_everywhere_ends_the_session_on_another_device(people, browser, web_server):
    (alice,) = people("alice")
    laptop = alice.open()
    phone_context = browser.new_context(base_url=web_server.url)
    try:
        phone = phone_context.new_page()
        phone.goto("/")
        phone.locator("#login-form").get_by_label("Username").fill(alice.username)
        phone.locator("#login-form").get_by_label("Password").fill(PASSWORD)
        phone.get_by_role("button", name="Log in").click()
        expect(phone.locator("#connection")).to_have_text("Live")

        laptop.get_by_role("button", name="Log out everywhere").click()
        expect(laptop.locator("#auth-message")).to_have_text("You are logged out on every device.")
        # The phone learns it from the event stream, without being touched.
        expect(phone.locator("#auth-message")).to_have_text(
            "Your session has expired or was logged out. Please log in again.", timeout=10_000
        )
        expect(phone.locator("#login-form")).to_be_visible()
    finally:
        phone_context.close()
