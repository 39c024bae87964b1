"""The web console's chat page: two browsers and a terminal in one room, on a real system."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pyro_objects.system.local import LocalSystem
from tests.support import name_server_of, run_client
from tests.web.support import (  # noqa: F401 - browser and playwright are fixtures
    Session,
    browser,
    playwright,
    watched_page,
)
from pyro_objects.web import auth, create_app, db, shutdown
from pyro_objects.web.chat import MAX_PER_OWNER

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


def test_one_browser_cannot_take_every_chat_slot(stack):
    greedy, other = Session(stack.web_url()), Session(stack.web_url())
    joined = [greedy.post("/api/chat/join", {"room": f"slot{n}", "nick": "greedy"})
              for n in range(MAX_PER_OWNER + 1)]
    try:
        assert [status for status, _, _ in joined] == [200] * MAX_PER_OWNER + [429]
        status, body, _ = other.post("/api/chat/join", {"room": "slot0", "nick": "other"})
        assert status == 200, body
        other.post("/api/chat/leave", {"session": body["session"]})
    finally:
        for status, body, _ in joined:
            if status == 200:
                greedy.post("/api/chat/leave", {"session": body["session"]})


def test_logged_in_a_page_chats_under_its_user_name(stack, tmp_path):
    with name_server_of(stack):
        console = create_app({"TESTING": True, "DATA_DIR": tmp_path, "LOGIN_REQUIRED": True})
        try:
            with db.connection(console.config["DATABASE"]) as conn:
                db.add_user(conn, "ana@home", auth.hash_password("correct horse"))
            client = console.test_client()
            token = {"X-CSRF-Token": client.get("/api/session").get_json()["csrf_token"]}
            join = {"room": "users", "nick": "mallory"}
            assert client.post("/api/chat/join", json=join, headers=token).status_code == 401
            token["X-CSRF-Token"] = client.post("/api/login", headers=token, json={
                "username": "ana@home", "password": "correct horse"}).get_json()["csrf_token"]
            joined = client.post("/api/chat/join", json=join, headers=token).get_json()
            assert joined["nick"] == "ana_home"  # the user's name, as far as nicks allow
            assert client.post("/api/chat/leave", json={"session": joined["session"]},
                               headers=token).status_code == 200
        finally:
            shutdown(console)
