"""A subscriber's callback daemon against forged events: it lists nothing, takes events only
with its join's key, refuses numbers the chat server could not have sent, and skips a batch
sent again. The chat server's side is played by a plain Pyro4 proxy holding the join's key;
the forger by one that does not.
"""

from __future__ import annotations

import threading
import time

import Pyro4
import Pyro4.errors
import pytest

from pyro_objects.chat import peers
from pyro_objects.chat.subscriber import Subscriber
from pyro_objects.processes import wait_until
from pyro_objects.proxy import Proxy
from tests import test_security

certs = test_security.certs            # fixtures: our CA's certificate directories,
speak_tls = test_security.speak_tls    # and this process speaking TLS

ROOM = "lobby"
ARRIVAL_TIMEOUT = 5.0


def message(seq: int, nick: str = "bob", text: str = "hi") -> dict:
    return {"kind": "message", "room": ROOM, "seq": seq, "nick": nick, "text": text,
            "time": time.time()}


def joined(nick: str) -> dict:
    return {"kind": "joined", "room": ROOM, "nick": nick, "time": time.time()}


class Joined:
    """A Subscriber joined by a stand-in for the chat server's reply: what it was given, the
    events it handed on, and proxies to its callback object."""

    def __init__(self, last_seq: int = 3) -> None:
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        self.subscriber = Subscriber(ROOM, "ana", self._record)
        self.args: tuple = ()
        self.subscriber.join(self._reply(last_seq))

    def _reply(self, last_seq: int):
        def call(method, *args):
            assert method == "join"
            self.args = args
            return {"token": "t" * 24, "room": ROOM, "nick": "ana", "epoch": "e1",
                    "who": ["ana"], "history": [message(n) for n in range(1, last_seq + 1)],
                    "last_seq": last_seq, "heartbeat": 3600.0}
        return call

    def _record(self, event: dict) -> None:
        with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()

    @property
    def callback(self) -> Pyro4.URI:
        return self.args[2]

    @property
    def key(self) -> str:
        return self.args[5]

    def proxy(self, uri: Pyro4.URI | str | None = None) -> Pyro4.Proxy:
        proxy = Proxy(uri or self.callback)
        proxy._pyroTimeout = 5.0
        return proxy

    def wait_for(self, condition, what: str) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: condition(self.events), ARRIVAL_TIMEOUT):
                raise TimeoutError(f"{what}; got {self.events}")

    def close(self) -> None:
        self.subscriber.token = None  # no chat server to tell
        self.subscriber.leave()


@pytest.fixture
def ana():
    joined_ana = Joined()
    try:
        yield joined_ana
    finally:
        joined_ana.close()


def kinds_and_seqs(events: list[dict]) -> list[tuple]:
    return [(e["kind"], e.get("seq", e.get("nick"))) for e in events]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("method", ["registered", "info", "ping"])
def test_a_callback_daemon_lists_and_tells_nothing(ana, method):
    daemon = f"PYRO:{Pyro4.constants.DAEMON_NAME}@{ana.callback.location}"
    with ana.proxy(daemon) as proxy, pytest.raises(AttributeError, match=method):
        getattr(proxy, method)()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("forged_args", [
    (10**9, [message(2**53, "admin", "forged")]),            # no key: the old call
    (4, [message(4, "admin", "forged")], "wrong-key"),
    (4, [message(4, "admin", "forged")], None),
], ids=["no-key", "wrong-key", "none-key"])
def test_events_without_the_join_key_are_refused(ana, forged_args):
    with ana.proxy() as forger:
        forger._pyroOneway.add("deliver")
        forger.deliver(*forged_args)
        with ana.proxy() as server:
            server._pyroOneway.add("deliver")
            server.deliver(1, [message(4)], ana.key)
            ana.wait_for(lambda events: len(events) > 4, "the real message 4")
    assert [(e["seq"], e["nick"]) for e in ana.events[1:]] == [
        (1, "bob"), (2, "bob"), (3, "bob"), (4, "bob")]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("first, events", [
    (10**9, [message(4)]),                        # a batch number beyond the next
    (1, [message(2**53, "admin", "forged")]),     # a message number beyond the next
    (1, [message(0, "admin", "forged"), message(2**53, "admin")]),
    (1, [{"kind": "gap", "room": ROOM, "after": 3, "missed": 10**9}]),   # never delivered
    (1, [{"kind": "message", "seq": "4"}]),                               # ill-formed
    (1, ["not an event"]),
    (0, [message(4)]),
], ids=["batch-beyond", "seq-beyond", "seq-mixed", "gap", "ill-formed", "not-a-dict", "zero"])
def test_numbers_the_chat_server_could_not_have_sent_are_refused_and_later_events_arrive(
        ana, first, events):
    with ana.proxy() as server:
        server._pyroOneway.add("deliver")
        server.deliver(first, events, ana.key)
        server.deliver(1, [message(4)], ana.key)
        server.deliver(2, [message(5)], ana.key)
        ana.wait_for(lambda got: got and got[-1].get("seq") == 5, "the real messages 4 and 5")
    assert kinds_and_seqs(ana.events[1:]) == [("message", n) for n in range(1, 6)]


@pytest.mark.timeout(30)
def test_a_batch_sent_again_is_handed_on_once(ana):
    """Presence events carry no number of their own: only the batch number can tell that
    they were sent twice."""
    with ana.proxy() as server:
        server._pyroOneway.add("deliver")
        server.deliver(1, [joined("bob"), message(4)], ana.key)
        server.deliver(1, [joined("bob"), message(4)], ana.key)  # after a failed send
        server.deliver(2, [message(4), joined("cy")], ana.key)   # overlapping
        server.deliver(4, [joined("dee")], ana.key)
        ana.wait_for(lambda got: got[-1].get("nick") == "dee", "dee's joined event")
    assert kinds_and_seqs(ana.events[4:]) == [
        ("joined", "bob"), ("message", 4), ("joined", "cy"), ("joined", "dee")]


@pytest.mark.timeout(30)
def test_a_plain_pyro4_callback_without_a_key_still_works():
    """A subscriber written with plain Pyro4 (deliver(first, events)) keeps getting events
    from a chat server: the key is optional in join, and then not sent."""
    from pyro_objects.chat.delivery import Outbox

    got: list = []

    @Pyro4.expose
    class Plain:
        @Pyro4.oneway
        def deliver(self, first, events):
            got.append((first, events))

    with Pyro4.Daemon(host="127.0.0.1") as daemon:
        uri = daemon.register(Plain())
        thread = threading.Thread(target=daemon.requestLoop, daemon=True)
        thread.start()
        outbox = Outbox(uri, "plain", 10, 5.0, on_drop=lambda reason: None)
        outbox.connect(5.0)
        outbox.start()
        outbox.put(message(1))
        wait_until(lambda: got, 5, "the plain callback to be called")
        outbox.close()
        daemon.shutdown()
        thread.join(5)
    assert got[0][0] == 1 and got[0][1][0]["seq"] == 1


@pytest.mark.timeout(30)
def test_each_join_has_a_key_of_its_own():
    first, second = Joined(), Joined()
    try:
        assert first.key != second.key and len(first.key) >= 22
    finally:
        first.close()
        second.close()



@pytest.mark.timeout(60)
def test_under_tls_only_a_server_certificate_may_connect_to_a_callback_daemon(certs,
                                                                             speak_tls):
    speak_tls(certs / "ours" / "client", "client")   # the subscriber's host
    ana = Joined()
    try:
        peers.call_back_over_tls()  # as the chat server does: no host name check
        with ana.proxy() as holder_of_the_client_certificate, peers.calling_back():
            with pytest.raises(Pyro4.errors.CommunicationError, match="OU=client"):
                holder_of_the_client_certificate._pyroBind()
        speak_tls(certs / "ours" / "127.0.0.1", "server")   # as the chat server calls back
        peers.call_back_over_tls()
        with ana.proxy() as server, peers.calling_back():
            server._pyroBind()
            server.deliver(1, [message(4)], ana.key)
            ana.wait_for(lambda got: got[-1].get("seq") == 4, "message 4 from the server")
    finally:
        ana.close()
