"""The console against callers who would hurt the others: raced logins, idle floods, hogged
streams and queues; python -m web as a process, driven over real sockets."""

from __future__ import annotations

import concurrent.futures

import pytest

from tests.web.support import Session, add_user
from web import auth

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
