"""The console against callers who would hurt the others: raced logins, idle floods, hogged
streams and queues; python -m pyro_objects.web as a process, driven over real sockets."""

from __future__ import annotations

import concurrent.futures
import itertools
import socket
import time

import pytest

from pyro_objects.web import auth
from pyro_objects.web.chat import MAX_CONVERSATIONS, STREAMS_PER_CONVERSATION
from pyro_objects.web.chat import MAX_PER_OWNER as CONVERSATIONS_PER_OWNER
from pyro_objects.web.shares import MAX_STREAMS, STREAMS_PER_OWNER
from tests.web.support import Session, add_user

PASSWORD = "correct horse battery"


@pytest.fixture
def guarded(own_system):
    """A console that requires login, with users ana and bob; its URL."""
    data = own_system.workdir / "web"
    add_user(data, "ana", PASSWORD)
    add_user(data, "bob", PASSWORD + " bob")
    own_system.start_web("--require-login")
    return own_system.web_url()


@pytest.mark.timeout(60)
def test_concurrent_wrong_passwords_are_counted_before_they_are_checked(guarded):
    """40 wrong guesses at once for ana: at most 10 are checked; bob, from the same address,
    still logs in."""
    sessions = [Session(guarded) for _ in range(40)]
    for session in sessions:
        session.token = session.get("/api/session")[1]["csrf_token"]
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(lambda s: s.post("/api/login", {
            "username": "ana", "password": "wrong guess"})[0], sessions))
    assert statuses.count(401) == auth.Throttle.FREE["user"] <= 10
    assert statuses.count(429) == 40 - auth.Throttle.FREE["user"]
    bob = Session(guarded)
    status, body, _ = bob.post("/api/login", {"username": "bob", "password": PASSWORD + " bob"})
    assert (status, body["user"]) == (200, "bob")


# --- idle connections -------------------------------------------------------------------------

IDLE = 1000


@pytest.mark.timeout(90)
@pytest.mark.parametrize("args", [[], ["--require-login"], ["--host", "0.0.0.0"]])
def test_a_thousand_idle_connections_do_not_shut_out_a_new_visitor(own_system, args):
    if args:
        add_user(own_system.workdir / "web", "ana", PASSWORD)
    own_system.start_web(*args)
    url = own_system.web_url()
    host, port = url.removeprefix("http://").strip("/").split(":")
    idle = []
    try:
        for _ in range(IDLE):
            idle.append(socket.create_connection((host, int(port)), timeout=5))
        for path in ("/api/health", "/login" if args else "/"):
            began = time.monotonic()
            status = Session(url).request("GET", path, timeout=1.0)[0]
            assert (path, status) == (path, 200)
            assert time.monotonic() - began < 1.0
    finally:
        for connection in idle:
            connection.close()


# --- shares of the live streams and chat ------------------------------------------------------

@pytest.fixture
def chatting(own_system):
    """A name server, a chat server and a console (no login); the console's URL."""
    own_system.start_nameserver()
    own_system.start_chat()
    own_system.start_web()
    return own_system.web_url()


def address(n: int) -> str:
    return f"127.0.0.{n + 1}"


@pytest.mark.timeout(90)
def test_each_address_has_a_share_of_the_live_streams_and_chat_never_runs_out(chatting):
    assert (MAX_STREAMS, STREAMS_PER_OWNER, STREAMS_PER_CONVERSATION) == (64, 8, 2)
    opened = []
    try:
        for n in range(MAX_STREAMS // STREAMS_PER_OWNER):
            visitor = Session(chatting, source=address(n))
            streams = [visitor.stream("/api/pi/events") for _ in range(STREAMS_PER_OWNER + 1)]
            opened += streams
            assert [s.status for s in streams] == [200] * STREAMS_PER_OWNER + [429], n
            assert "8 live streams from this address are open already" in \
                streams[-1].read().decode()
        late = Session(chatting, source=address(MAX_STREAMS // STREAMS_PER_OWNER))
        refused = late.stream("/api/pi/events")
        opened.append(refused)
        assert refused.status == 503
        status, joined, _ = late.post("/api/chat/join", {"room": "hogged", "nick": "late"})
        assert status == 200, joined
        chats = [late.stream(f"/api/chat/events?session={joined['session']}")
                 for _ in range(STREAMS_PER_CONVERSATION + 1)]
        opened += chats
        assert [chat.status for chat in chats] == [200] * STREAMS_PER_CONVERSATION + [429]
        assert chats[0].readline() == b"retry: 2000\n"
    finally:
        for stream in opened:
            stream.close()


@pytest.mark.timeout(90)
def test_a_user_logged_in_many_times_has_one_share_of_the_chat_rooms(own_system):
    assert (MAX_CONVERSATIONS, CONVERSATIONS_PER_OWNER) == (32, 4)
    own_system.start_nameserver()
    own_system.start_chat()
    data = own_system.workdir / "web"
    add_user(data, "ana", PASSWORD)
    add_user(data, "bob", PASSWORD + " bob")
    own_system.start_web("--require-login")
    url = own_system.web_url()
    rooms, statuses = itertools.count(), []
    for _ in range(8):
        login = Session(url)
        login.log_in("ana", PASSWORD)
        statuses += [login.post("/api/chat/join", {"room": f"r{next(rooms)}"})[0]
                     for _ in range(2)]
    assert sorted(statuses) == [200] * CONVERSATIONS_PER_OWNER + [429] * (
        16 - CONVERSATIONS_PER_OWNER)
    bob = Session(url)
    bob.log_in("bob", PASSWORD + " bob")
    status, joined, _ = bob.post("/api/chat/join", {"room": "r0"})
    assert (status, joined["nick"]) == (200, "bob")
