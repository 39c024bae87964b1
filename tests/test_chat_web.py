"""The web console's chat page: two browsers and a terminal in one room, on a real system."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from pyro_objects.chat import commands
from pyro_objects.chat.rules import MAX_NAME_CHARS
from pyro_objects.processes import wait_until
from pyro_objects.system.local import LocalSystem
from pyro_objects.web import auth, create_app, db, shutdown
from pyro_objects.web.browser import CHROMIUM, CHROMIUM_ARGS
from pyro_objects.web.chat import MAX_PER_OWNER, STREAM_GRACE
from tests.support import name_server_of, run_client
from tests.web.support import (  # noqa: F401 - browser and playwright are fixtures
    Session,
    browser,
    playwright,
    watched_page,
)

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with LocalSystem(tmp_path_factory.mktemp("chat-web")) as system:
        system.start_nameserver()
        system.start_chat("--grace", "3")
        system.start_web()
        yield system


def enter(page, origin: str, room: str, nick: str) -> None:
    page.goto(origin + "chat")
    page.fill("#chat-room", room)
    page.fill("#chat-nick", nick)
    page.click("#chat-enter")
    expect(page.locator("#chat-log .notice").first).to_have_text(f"you are {nick} in {room}")


def send(page, text: str) -> None:
    page.fill("#chat-text", text)
    page.press("#chat-text", "Enter")
    expect(page.locator("#chat-text")).to_have_value("")  # posted


def messages(page):
    return page.locator("#chat-log li.message")


def test_two_browsers_and_a_terminal_chat_and_markup_stays_text(browser, stack):  # noqa: F811
    origin = stack.web_url()
    with watched_page(browser, origin) as ana, watched_page(browser, origin) as bob:
        enter(ana.page, origin, "web", "ana")
        enter(bob.page, origin, "web", "bob")
        expect(ana.page.locator("#chat-who li")).to_have_text(["ana", "bob"])
        send(bob.page, "hello ana")
        expect(messages(ana.page).last.locator(".text")).to_have_text("hello ana")
        send(ana.page, SCRIPT)
        expect(messages(bob.page).last.locator(".text")).to_have_text(SCRIPT)
        assert bob.page.locator("#chat-log script").count() == 0
        assert run_client(stack, "say", "cli", "from a terminal", "--room", "web").returncode == 0
        for page in (ana.page, bob.page):
            expect(messages(page).last).to_contain_text("clifrom a terminal")
        bob.page.click("#chat-leave")
        expect(ana.page.locator("#chat-log .notice").last).to_have_text("bob left")
        expect(ana.page.locator("#chat-who li")).to_have_text(["ana"])
        assert (ana.dialogs, bob.dialogs) == ([], [])
        assert ana.errors == bob.errors == []


def test_a_taken_nick_is_refused_with_the_servers_reason(browser, stack):  # noqa: F811
    origin = stack.web_url()
    with watched_page(browser, origin) as first, watched_page(browser, origin) as second:
        enter(first.page, origin, "nicks", "Cy")
        second.page.goto(origin + "chat")
        second.page.fill("#chat-room", "nicks")
        second.page.fill("#chat-nick", "cy")
        second.page.click("#chat-enter")
        expect(second.page.locator("#chat-status .error")).to_have_text(
            "error: nick 'cy' is taken in room 'nicks': choose another")


def test_a_chat_session_answers_only_the_browser_session_that_opened_it(stack):
    ana, mallory = Session(stack.web_url()), Session(stack.web_url())
    status, joined, _ = ana.post("/api/chat/join", {"room": "private", "nick": "ana"})
    assert status == 200, joined
    for path, body in [("/api/chat/say", {"session": joined["session"], "text": "as ana"}),
                       ("/api/chat/leave", {"session": joined["session"]})]:
        status, refused, _ = mallory.post(path, body)
        assert (status, refused["error"].split(" (")[0]) == (404, "no such chat session")
    assert mallory.get(f"/api/chat/events?session={joined['session']}")[0] == 404
    mine = {"session": joined["session"], "text": "mine", "message_id": "m-1"}
    status, said, _ = ana.post("/api/chat/say", mine)
    assert status == 200, said
    assert ana.post("/api/chat/say", mine)[1] == said  # a retry posts at most once
    assert ana.post("/api/chat/say", {"session": joined["session"], "text": "no id"})[0] == 400
    assert ana.post("/api/chat/leave", {"session": joined["session"]})[0] == 200


def test_one_address_cannot_take_every_chat_slot(stack):
    """Without a login, an address's browsers share MAX_PER_OWNER rooms; others keep theirs."""
    greedy, same = Session(stack.web_url()), Session(stack.web_url())
    other = Session(stack.web_url(), source="127.0.0.2")
    joined = [greedy.post("/api/chat/join", {"room": f"slot{n}", "nick": "greedy"})
              for n in range(MAX_PER_OWNER + 1)]
    try:
        assert [status for status, _, _ in joined] == [200] * MAX_PER_OWNER + [429]
        assert same.post("/api/chat/join", {"room": "slot0", "nick": "same"})[0] == 429
        status, body, _ = other.post("/api/chat/join", {"room": "slot0", "nick": "other"})
        assert status == 200, body
        other.post("/api/chat/leave", {"session": body["session"]})
    finally:
        for status, body, _ in joined:
            if status == 200:
                greedy.post("/api/chat/leave", {"session": body["session"]})


@pytest.mark.timeout(60)
def test_logged_in_pages_chat_under_their_user_names_each_its_own(stack, tmp_path):
    """ana@corp and ana_corp both became nick ana_corp, and the second was refused."""
    with name_server_of(stack):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path, "LOGIN_REQUIRED": True})
        try:
            users = ["ana_corp", "ana@corp", "x" * 64]
            with db.connection(console.config["DATABASE"]) as conn:
                for user in users:
                    db.add_user(conn, user, auth.hash_password("correct horse"))
            nicks, present = [], []
            for user in users:
                client = console.test_client()
                token = {"X-CSRF-Token": client.get("/api/session").get_json()["csrf_token"]}
                join = {"room": "users", "nick": "mallory"}
                assert client.post("/api/chat/join", json=join, headers=token).status_code \
                    == 401
                token["X-CSRF-Token"] = client.post("/api/login", headers=token, json={
                    "username": user, "password": "correct horse"}).get_json()["csrf_token"]
                joined = client.post("/api/chat/join", json=join, headers=token)
                assert joined.status_code == 200, (user, joined.get_json())
                nicks.append(joined.get_json()["nick"])
                present.append((client, token, joined.get_json()["session"]))
            assert nicks[0] == "ana_corp"  # a user name that is a nick is used as it is
            assert re.fullmatch(r"ana_corp-[0-9a-f]{6}", nicks[1])  # else made one, told apart
            assert len(nicks[2]) <= MAX_NAME_CHARS and len({n.casefold() for n in nicks}) == 3
            for client, token, session in present:  # all three were in the room at once
                assert client.post("/api/chat/leave", json={"session": session},
                                   headers=token).status_code == 200
        finally:
            shutdown(console)


def notices(page):
    return page.locator("#chat-log li.notice")


@pytest.mark.timeout(90)
def test_the_page_takes_the_chat_commands_the_terminal_takes(browser, stack):  # noqa: F811
    origin = stack.web_url()
    with watched_page(browser, origin) as ana:
        page = ana.page
        enter(page, origin, "cmds", "ana")
        send(page, "/who")
        expect(notices(page).last).to_have_text("here: ana")
        send(page, "/me waves")
        expect(page.locator("#chat-log li.action .text")).to_have_text("* ana waves")
        send(page, "//me waves")
        expect(messages(page).last.locator(".text")).to_have_text("/me waves")
        assert page.locator("#chat-log li.action").count() == 1  # //me is no action
        send(page, "/rooms")
        expect(notices(page).last).to_contain_text("cmds (1)")
        send(page, "/help")
        expect(notices(page)).to_contain_text(list(commands.HELP))
        page.fill("#chat-text", "/x")
        page.press("#chat-text", "Enter")
        expect(page.locator("#chat-status .error")).to_have_text(
            "error: unknown command /x: /help lists the commands; //x sends it as a message")
        expect(page.locator("#chat-text")).to_have_value("/x")  # kept, to be corrected
        piped = run_client(stack, "chat", "bob", "--room", "cmds", stdin="").stdout
        assert "* ana waves" in piped and "<ana> /me waves" in piped  # the same in a terminal
        assert "/who" not in piped and "/x" not in piped               # commands, not posted
        send(page, "/join den2")
        expect(notices(page).last).to_have_text("you are ana in den2")
        expect(page.locator("#chat-room")).to_have_value("den2")
        send(page, "in den2")
        expect(messages(page).last.locator(".text")).to_have_text("in den2")
        visitor = Session(origin)
        assert visitor.get("/api/chat/who?room=cmds")[1]["who"] == []   # ana left cmds
        assert visitor.get("/api/chat/who?room=den2")[1]["who"] == ["ana"]
        send(page, "/quit")
        expect(page.locator("#chat-enter")).to_be_visible()
        assert visitor.get("/api/chat/who?room=den2")[1]["who"] == []
        assert ana.unexpected_errors("status of 400") == []  # /x, refused


def join_when_free(origin: str, room: str, nick: str, timeout: float) -> float:
    """Join `room` as `nick` from a new browser session as soon as the nick is free; the
    seconds that took (TimeoutError after `timeout`)."""
    visitor, start = Session(origin), time.monotonic()

    def joined():
        status, body, _ = visitor.post("/api/chat/join", {"room": room, "nick": nick})
        assert status in (200, 422), body  # 422: taken, still
        return body if status == 200 else None

    body = wait_until(joined, timeout, f"nick {nick} to be free in {room}", interval=0.25)
    visitor.post("/api/chat/leave", {"session": body["session"]})
    return time.monotonic() - start


@pytest.mark.timeout(60)
def test_a_closed_page_frees_its_nick_at_once(browser, stack):  # noqa: F811
    origin = stack.web_url()
    with watched_page(browser, origin) as dee:
        enter(dee.page, origin, "closing", "dee")
        dee.page.close()  # its pagehide beacon leaves the room
        took = join_when_free(origin, "closing", "dee", timeout=10)
    assert took < STREAM_GRACE, took  # at once: the beacon, not the stream's grace
    with watched_page(browser, origin) as again:
        enter(again.page, origin, "closing", "dee")  # a new page, the same nick


@contextmanager
def own_chromium(driver, profile: Path) -> Iterator[tuple[subprocess.Popen, object]]:
    """A Chromium process of the test's own (so that it can be killed), driven over CDP."""
    process = subprocess.Popen(
        [CHROMIUM, "--headless", *CHROMIUM_ARGS, "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        wait_until(lambda: port_file.is_file() and port_file.read_text().strip(), 30,
                   "Chromium's DevTools port")
        port = port_file.read_text().split()[0]
        yield process, driver.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.mark.timeout(90)
def test_a_killed_browser_frees_its_nick_within_10_s(playwright, browser, stack,  # noqa: F811
                                                     tmp_path):
    origin = stack.web_url()
    with own_chromium(playwright, tmp_path / "profile") as (process, chromium):
        page = chromium.new_context().new_page()
        enter(page, origin, "crash", "eve")
        send(page, "before the crash")
        os.killpg(process.pid, signal.SIGKILL)  # no pagehide, no beacon: the stream just ends
        process.wait(timeout=10)
        took = join_when_free(origin, "crash", "eve", timeout=10)
        try:
            chromium.close()
        except PlaywrightError:
            pass  # gone already
    assert took < 10, took
    with watched_page(browser, origin) as again:
        enter(again.page, origin, "crash", "eve")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path, field", [("/api/chat/say", "text"), ("/api/chat/line", "line")])
def test_a_line_the_chat_server_never_got_is_reported_as_not_sent(own_system, path, field):
    own_system.start_nameserver()
    own_system.start_chat("--grace", "3")
    own_system.start_web()
    ana = Session(own_system.web_url())
    status, joined, _ = ana.post("/api/chat/join", {"room": "down", "nick": "ana"})
    assert status == 200, joined
    own_system.stop("chat")  # which removes its name: the lookup fails
    status, refused, _ = ana.post(path, {
        "session": joined["session"], field: "anyone?", "message_id": "m-1"})
    assert status == 503
    assert refused["error"].startswith("not sent: the chat server cannot be reached"), refused
    assert "may or may not" not in refused["error"]
