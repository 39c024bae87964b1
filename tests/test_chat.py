"""Chat rooms: fan-out to 200 subscribers, slow, stalled and killed ones, at-most-once posts,
rejoining with `since`, nick rules, bad input, a chat-server restart, callbacks over TLS.

Subscribers run in `pyro_objects.chat.crowd` processes, which report what each one received.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import Pyro4.util
import pytest

from pyro_objects.chat.service import (
    CONNECT_TIMEOUT,
    JOINS_AT_ONCE_PER_CLIENT,
    MAX_LISTED_ROOMS,
    ChatService,
)
from pyro_objects.chat.subscriber import CallbackDaemon, Subscriber
from pyro_objects.processes import Process, python, wait_until
from pyro_objects.system.local import LocalSystem
from tests import test_security
from tests.support import daemon_address, name_server_of, proxy, run_client

GRACE = 3.0          # the chat server's: silent or failing subscribers are dropped after it
DROP_TIMEOUT = 4 * GRACE
DELIVERY_TIMEOUT = 60
ROOM = "lobby"

certs = test_security.certs            # fixtures: our CA's certificate directories,
speak_tls = test_security.speak_tls    # and this process speaking TLS as a client


@pytest.fixture
def chat_system(own_system):
    own_system.start_nameserver()
    own_system.start_chat("--grace", str(GRACE))
    return own_system


def start_crowd(system: LocalSystem, label: str, nicks: list[str], *extra: str,
                room: str = ROOM) -> tuple[Process, Path]:
    """A chat.crowd process of subscribers `nicks`, ready once all have joined."""
    report = system.workdir / f"{label}.json"
    args = python("-m", "pyro_objects.chat.crowd", "--nicks", ",".join(nicks), "--room", room,
                  "--report", str(report), *extra)
    process = system.start(label, args,
                           ready=lambda: f"joined {len(nicks)}" in system.processes[label].log())
    return process, report


def received(*reports: Path) -> dict[str, dict]:
    """{nick: what it received} from crowd reports (nothing for a report not written yet)."""
    result = {}
    for report in reports:
        if report.exists():
            result.update(json.loads(report.read_text())["subscribers"])
    return result


def post(chat, text: str, nick: str = "poster", room: str = ROOM) -> int:
    return chat.post(room, nick, text, uuid.uuid4().hex)


def test_200_subscribers_get_every_message_once_in_order_despite_slow_and_killed_ones(
        own_system):
    chat_system = own_system
    chat_system.start_nameserver()
    chat_system.start_chat("--grace", str(GRACE), "--per-client", "250")  # all on loopback
    healthy = [f"h{i:03}" for i in range(200)]
    reports = [start_crowd(chat_system, f"crowd{k}", healthy[k::4])[1] for k in range(4)]
    start_crowd(chat_system, "slow", ["slow"], "--slow", "5")
    killed, _ = start_crowd(chat_system, "killed", ["killed"])
    killed.kill()
    messages = 30
    with proxy(chat_system, "example.chat") as chat:
        seqs = [post(chat, f"message {n}") for n in range(messages)]
        wait_until(lambda: all(len(r["seqs"]) == messages for r in received(*reports).values())
                   and len(received(*reports)) == len(healthy),
                   DELIVERY_TIMEOUT, "every healthy subscriber to get every message",
                   interval=0.2)
        wait_until(lambda: "killed" not in chat.who(ROOM), DROP_TIMEOUT,
                   "the killed subscriber to be dropped")
        assert "slow" in chat.who(ROOM)  # slow, but alive: not dropped for it
    got = received(*reports)
    assert all(record["seqs"] == seqs for record in got.values())
    slowest = max(max(record["latency_ms"]) for record in got.values())
    assert slowest < 5000, f"a healthy subscriber waited {slowest:.0f} ms, as long as the slow one"
    assert "dropped killed (lobby)" in chat_system.processes["chat"].log()


def test_a_repeated_message_id_posts_once(chat_system):
    _, report = start_crowd(chat_system, "crowd", ["ana"])
    with proxy(chat_system, "example.chat") as chat:
        first = chat.post(ROOM, "bob", "once", "id-1")
        assert chat.post(ROOM, "bob", "once", "id-1") == first
        with pytest.raises(ValueError, match="used by another nick"):
            chat.post(ROOM, "cy", "once", "id-1")
        last = post(chat, "after")
    wait_until(lambda: received(report).get("ana", {}).get("seqs") == [first, last], 10,
               "ana to get both messages")


def test_a_stopped_subscriber_is_dropped_and_rejoins_with_since_behind_a_gap_marker(
        chat_system):
    crowd, report = start_crowd(chat_system, "crowd", ["ana"])
    with proxy(chat_system, "example.chat") as chat:
        early = [post(chat, f"early {n}") for n in range(3)]
        wait_until(lambda: received(report)["ana"]["seqs"] == early, 10, "the first messages")
        crowd.popen.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: "ana" not in chat.who(ROOM), DROP_TIMEOUT,
                       "ana, silent, to be dropped")
            missed = [post(chat, f"missed {n}") for n in range(150)]
        finally:
            crowd.popen.send_signal(signal.SIGCONT)
        wait_until(lambda: "ana" in chat.who(ROOM), DROP_TIMEOUT, "ana to rejoin")
    wait_until(lambda: received(report)["ana"]["seqs"] == early + missed[-100:], 10,
               "ana to get the last 100 messages")
    ana = received(report)["ana"]
    assert ana["entered"] == 2
    assert [(gap["after"], gap["missed"]) for gap in ana["gaps"]] == [(3, 50)]


def test_nicks_are_unique_in_a_room_regardless_of_case(chat_system):
    crowd, _ = start_crowd(chat_system, "crowd", ["Ana"])
    start_crowd(chat_system, "elsewhere", ["ana"], room="other")  # another room: fine
    unreachable = "PYRO:obj@127.0.0.1:1"  # the nick is refused before the callback is tried
    with proxy(chat_system, "example.chat") as chat:
        with pytest.raises(ValueError, match="nick 'ana' is taken in room 'lobby'"):
            chat.join(ROOM, "ana", unreachable)
        with pytest.raises(ValueError, match="nick 'ANA' is in room 'lobby'"):
            chat.post(ROOM, "ANA", "pretending", "id-1")
        chat_system.stop("crowd")  # leaves: the nick is free again
        assert chat.who(ROOM) == []
        assert chat.post(ROOM, "ANA", "back", "id-2") == 1


TOKEN = "A" * 24  # well formed, but no session has it
BAD_CALLS = [
    ("join", (5, "ana", "PYRO:o@127.0.0.1:1"), TypeError, "room must be a string"),
    ("join", ("a room", "ana", "PYRO:o@127.0.0.1:1"), ValueError, "room must be 1 to 32"),
    ("join", ("r" * 33, "ana", "PYRO:o@127.0.0.1:1"), ValueError, "room must be 1 to 32"),
    ("join", (ROOM, "", "PYRO:o@127.0.0.1:1"), ValueError, "nick must be 1 to 32"),
    ("join", (ROOM, "<b>", "PYRO:o@127.0.0.1:1"), ValueError, "nick must be 1 to 32"),
    # Nicks and rooms that look like another: ASCII only (Cyrillic a, full-width ana).
    ("join", (ROOM, "\u0430na", "PYRO:o@127.0.0.1:1"), ValueError,
     "nick must be 1 to 32 ASCII letters"),
    ("join", (ROOM, "\uff41\uff4e\uff41", "PYRO:o@127.0.0.1:1"), ValueError,
     "nick must be 1 to 32 ASCII letters"),
    ("post", (ROOM, "\u0430na", "hi", "id-1"), ValueError, "nick must be 1 to 32 ASCII"),
    ("post", ("lobb\u0443", "bob", "hi", "id-1"), ValueError, "room must be 1 to 32 ASCII"),
    ("who", ("\uff4c\uff4f\uff42\uff42\uff59",), ValueError, "room must be 1 to 32 ASCII"),
    ("join", (ROOM, "ana", 42), TypeError, "callback must be a Pyro4 proxy or a PYRO: URI"),
    ("join", (ROOM, "ana", "PYRONAME:x"), ValueError, "callback must be a PYRO:object@host:port"),
    ("join", (ROOM, "ana", "PYRO:o@./u:/tmp/socket"), ValueError,
     "callback must be a PYRO:object@host:port"),
    ("join", (ROOM, "ana", "nonsense"), ValueError, "callback must be a PYRO: URI"),
    ("join", (ROOM, "ana", "PYRO:o@127.0.0.1:1"), ValueError,
     "callback must be reachable from the chat server"),
    ("join", (ROOM, "ana", "PYRO:o@127.0.0.1:1", -1), ValueError, "since must be between 0"),
    ("join", (ROOM, "ana", "PYRO:o@127.0.0.1:1", True), TypeError, "since must be an integer"),
    ("join", (ROOM, "ana", "PYRO:o@127.0.0.1:1", None, "x" * 65), ValueError, "epoch must be"),
    ("say", ("not a token!", "hi", "id-1"), ValueError, "token must be 1 to 64 ASCII"),
    ("say", (TOKEN, "", "id-1"), ValueError, "text must be 1 to 1000 characters (got 0)"),
    ("say", (TOKEN, "x" * 1001, "id-1"), ValueError, "text must be 1 to 1000 characters"),
    ("say", (TOKEN, "hi", "id-1"), LookupError, "unknown session"),
    ("post", (ROOM, "bob", ["hi"], "id-1"), TypeError, "text must be a string (got list)"),
    ("post", (ROOM, "bob", "hi", "é" * 3), ValueError, "message_id must be 1 to 64 ASCII"),
    ("post", (ROOM, "bob", "hi", "i" * 65), ValueError, "message_id must be 1 to 64 ASCII"),
    ("who", (None,), TypeError, "room must be a string (got NoneType)"),
    ("ping", (TOKEN,), LookupError, "unknown session"),
    ("leave", (123,), TypeError, "token must be a string (got int)"),
]


@pytest.mark.parametrize("method, args, error, message", BAD_CALLS,
                         ids=[f"{m}-{i}" for i, (m, *_) in enumerate(BAD_CALLS)])
def test_bad_input_is_refused_naming_the_rule_and_the_server_keeps_serving(
        chat_system_shared, method, args, error, message):
    with proxy(chat_system_shared, "example.chat") as chat:
        with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            getattr(chat, method)(*args)
        assert chat.post("checks", "bob", "still serving", uuid.uuid4().hex) >= 1


@pytest.fixture(scope="module")
def chat_system_shared(tmp_path_factory):
    with LocalSystem(tmp_path_factory.mktemp("chat")) as system:
        system.start_nameserver()
        system.start_chat()
        yield system


def test_a_subscriber_whose_callbacks_fail_for_the_grace_is_dropped(chat_system):
    with name_server_of(chat_system):
        subscriber = Subscriber(ROOM, "deaf", lambda event: None)
        subscriber.join()
        try:
            subscriber.daemon.close()  # its heartbeats go on; its callback object is gone
            with proxy(chat_system, "example.chat") as chat:
                post(chat, "can you hear me?")
                wait_until(lambda: "deaf" not in chat.who(ROOM), DROP_TIMEOUT,
                           "deaf to be dropped")
        finally:
            subscriber.leave()
    assert "dropped deaf (lobby): its callbacks failed for" in chat_system.processes[
        "chat"].log()


def test_a_stalled_subscriber_whose_queue_overflows_is_dropped(own_system):
    own_system.start_nameserver()
    own_system.start_chat("--queue", "20", "--grace", "120")  # only the queue can drop it
    crowd, _ = start_crowd(own_system, "stalled", ["stalled"])
    crowd.popen.send_signal(signal.SIGSTOP)
    try:
        with proxy(own_system, "example.chat") as chat:
            for n in range(1000):  # a megabyte: more than the kernel buffers for it
                post(chat, f"{n:04} " + "x" * 995)
                if "stalled" not in chat.who(ROOM):
                    break
            assert "stalled" not in chat.who(ROOM)
    finally:
        crowd.popen.send_signal(signal.SIGCONT)
    assert "dropped stalled (lobby): its queue of 20 events is full" in (
        own_system.processes["chat"].log())


def test_subscribers_rejoin_after_a_chat_server_restart(chat_system):
    _, report = start_crowd(chat_system, "crowd", ["ana", "bob"])
    with proxy(chat_system, "example.chat") as chat:
        before = post(chat, "before")
        wait_until(lambda: all(r["seqs"] == [before] for r in received(report).values()), 10,
                   "the first message")
    chat_system.processes.pop("chat").kill()
    chat_system.start_chat("--grace", str(GRACE))
    with proxy(chat_system, "example.chat") as chat:
        wait_until(lambda: chat.who(ROOM) == ["ana", "bob"], DROP_TIMEOUT,
                   "both to rejoin the new chat server")
        after = post(chat, "after")
    wait_until(lambda: all(r["seqs"] == [before, after] for r in received(report).values()), 10,
               "the message sent after the restart")
    assert all(r["entered"] == 2 for r in received(report).values())


@pytest.fixture
def callback():
    """The URI of a plain Pyro4 callback object that takes every delivery."""
    @Pyro4.expose
    class Callback:
        @Pyro4.oneway
        def deliver(self, first, events, key=None):
            pass

    daemon = Pyro4.Daemon(host="127.0.0.1")
    uri = daemon.register(Callback())
    thread = threading.Thread(target=daemon.requestLoop, daemon=True)
    thread.start()
    yield uri
    daemon.shutdown()
    thread.join(5)


@pytest.fixture
def dead_callback():
    """The URI of a callback at an address that takes connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)  # never accepted: the backlog fills, later connects hang
    yield f"PYRO:obj@127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def proxy_from(system: LocalSystem, source: str) -> Pyro4.Proxy:
    """A proxy to the chat server, connected from address `source`: another client, as far
    as the chat server can tell."""
    host, port = daemon_address(system, "example.chat")
    chat = Pyro4.Proxy(f"PYRO:example.chat@{host}:{port}")
    chat._pyroTimeout = 10
    create = Pyro4.socketutil.createSocket

    def from_source(*args, connect=None, **kwargs):
        sock = create(*args, **kwargs)
        sock.bind((source, 0))
        sock.connect(connect)
        return sock

    Pyro4.socketutil.createSocket = from_source
    try:
        chat._pyroBind()
    finally:
        Pyro4.socketutil.createSocket = create
    return chat


@pytest.mark.timeout(60)
def test_one_client_cannot_take_every_subscriber_slot(chat_system, callback):
    with proxy(chat_system, "example.chat") as chat:
        for n in range(50):  # the default share
            chat.join(ROOM, f"n{n}", callback)
        with pytest.raises(RuntimeError, match="at most 50 subscribers may join from one "
                                               "client"):
            chat.join(ROOM, "one-more", callback)
        with proxy_from(chat_system, "127.0.0.2") as other:
            assert other.join(ROOM, "other", callback)["who"][-1] == "other"


def threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads:"))
               .split()[1])


@pytest.mark.timeout(60)
def test_joins_whose_callback_never_answers_fail_fast_and_hold_up_no_one(
        chat_system, callback, dead_callback):
    pid = chat_system.processes["chat"].pid
    before = threads(pid)
    # Oneway calls run in order on their connection: 1000 of them hold one thread, and a
    # client that opens a connection per join is held to its share of waiting joins.
    flooders = [proxy(chat_system, "example.chat") for _ in range(JOINS_AT_ONCE_PER_CLIENT + 1)]
    try:
        for index, flooder in enumerate(flooders):
            flooder._pyroBind()  # the metadata it reads sets which methods are oneway
            flooder._pyroOneway.add("join")
            for n in range(1000 if index == 0 else 1):
                flooder.join(ROOM, f"f{index}-{n}", dead_callback)

        def refused() -> bool:
            with proxy(chat_system, "example.chat") as one_more:
                try:
                    one_more.join(ROOM, "one-more", dead_callback)
                except RuntimeError as exc:
                    return "joins of one client may wait" in str(exc)
                except ValueError:  # its callback timed out: the share was not full yet
                    return False
            return False

        wait_until(refused, 15, "a join beyond the client's share to be refused")
        peak = max(threads(pid) for _ in range(20) if not time.sleep(0.05))
        with proxy_from(chat_system, "127.0.0.2") as other:
            started = time.monotonic()
            assert other.who(ROOM) == []
            assert other.post(ROOM, "bob", "still served", uuid.uuid4().hex) == 1
            assert other.join(ROOM, "ana", callback)["who"] == ["ana"]
            assert time.monotonic() - started < 1.0
            started = time.monotonic()
            with pytest.raises(ValueError, match="callback must be reachable"):
                other.join(ROOM, "late", dead_callback)
            assert time.monotonic() - started < CONNECT_TIMEOUT + 1
    finally:
        for flooder in flooders:
            flooder._pyroRelease()
    assert peak <= before + 2 * JOINS_AT_ONCE_PER_CLIENT + 20, f"{before} threads, then {peak}"


@pytest.mark.timeout(60)
def test_with_pyro_hmac_key_the_chat_server_calls_back_a_subscriber(own_system, monkeypatch):
    monkeypatch.setenv("PYRO_HMAC_KEY", "chat-key")  # this process, to see the names
    own_system.env["PYRO_HMAC_KEY"] = "chat-key"
    own_system.start_nameserver()
    own_system.start_chat()
    _, report = start_crowd(own_system, "crowd", ["ana"])
    result = run_client(own_system, "say", "bob", "signed")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: received(report).get("ana", {}).get("seqs") == [1], 10,
               "ana to get the message")


def test_with_tls_the_chat_server_calls_back_a_subscriber_with_the_client_certificate(
        own_system, certs, speak_tls):
    speak_tls(certs / "ours" / "client", "client")
    own_system.env["TLS_DIR"] = str(certs / "ours" / "127.0.0.1")  # a server host's
    own_system.start_nameserver()
    own_system.start_chat()
    own_system.env["TLS_DIR"] = str(certs / "ours" / "client")     # a client host's
    _, report = start_crowd(own_system, "crowd", ["ana"])
    result = run_client(own_system, "say", "bob", "over TLS")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: received(report).get("ana", {}).get("seqs") == [1], 10,
               "ana to get the message")


@pytest.mark.timeout(90)
def test_with_tls_a_client_is_its_certificate_subject_and_address(own_system, certs,
                                                                  speak_tls):
    speak_tls(certs / "ours" / "client", "client")
    own_system.env["TLS_DIR"] = str(certs / "ours" / "127.0.0.1")
    own_system.start_nameserver()
    own_system.start_chat("--per-client", "2")
    daemon = CallbackDaemon()
    try:
        @Pyro4.expose
        class Callback:
            @Pyro4.oneway
            def deliver(self, first, events, key=None):
                pass

        uri = daemon.register(Callback())
        with proxy(own_system, "example.chat") as chat:
            chat.join(ROOM, "ana", uri)
            chat.join(ROOM, "bob", uri)
            with pytest.raises(RuntimeError, match=r"at most 2 subscribers may join from one "
                                                   r"client \(O=pyro-objects,OU=client,"
                                                   r"CN=client@127\.0\.0\.1\)"):
                chat.join(ROOM, "cy", uri)
    finally:
        daemon.close()


def test_the_chat_server_exposes_only_the_chat_methods():
    exposed = Pyro4.util.get_exposed_members(ChatService(), only_exposed=True)["methods"]
    assert exposed == {"join", "say", "post", "post_once", "who", "list_rooms", "ping", "leave",
                       "stats"}


@pytest.mark.timeout(60)
def test_list_rooms_names_the_rooms_with_people_fullest_first(chat_system, callback):
    with proxy(chat_system, "example.chat") as chat:
        assert chat.list_rooms() == []
        for room, nick in [("den", "ana"), ("Lobby", "bob"), ("lobby", "cy"), ("gone", "dee")]:
            joined = chat.join(room, nick, callback)
        chat.leave(joined["token"])
        post(chat, "a room without people is not listed", room="quiet")
        assert chat.list_rooms() == [{"room": "Lobby", "people": 2},
                                     {"room": "den", "people": 1}]


def test_list_rooms_is_bounded():
    service = ChatService()
    for n in range(MAX_LISTED_ROOMS + 5):
        service._room(f"r{n}").add("ana", object())
    assert len(service.list_rooms()) == MAX_LISTED_ROOMS


@pytest.mark.timeout(60)
def test_post_once_tells_a_repeated_message_id_and_post_still_returns_the_number(
        chat_system):
    with proxy(chat_system, "example.chat") as chat:
        assert chat.post_once(ROOM, "bob", "hi", "p-1") == {"seq": 1, "duplicate": False}
        assert chat.post_once(ROOM, "bob", "hi", "p-1") == {"seq": 1, "duplicate": True}
        assert chat.post(ROOM, "bob", "hi", "p-1") == 1  # what plain Pyro4 clients get
        assert chat.post(ROOM, "bob", "next", "p-2") == 2


@pytest.mark.timeout(30)
def test_a_chat_server_whose_data_directory_cannot_be_used_says_so(tmp_path):
    occupied = tmp_path / "a-file"
    occupied.write_text("not a directory")
    result = subprocess.run(python("-m", "pyro_objects.chat", "--data", str(occupied)),
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot keep the chat store in {occupied}: ")
    assert "hint: pick another --data directory" in result.stderr


def test_a_room_evicted_from_memory_and_made_again_keeps_its_numbering_and_ids():
    """Eviction only frees memory: the room comes back from the store, same epoch."""
    service = ChatService(max_rooms=2)
    service.post("ops", "ana", "one", "id-1")
    service.post("ops", "ana", "two", "id-2")
    old = service._room("ops")
    for name in ("junk0", "junk1"):
        service.post(name, "eve", "x", f"id-{name}")  # "ops", empty, makes way
    again = service._room("ops")
    assert again is not old and again.epoch == old.epoch
    assert service.post("ops", "ana", "two", "id-2") == 2
    assert service.post("ops", "bob", "three", "id-3") == 3
    assert [e["seq"] for e in again.replay(1)] == [2, 3]


@pytest.mark.timeout(90)
def test_history_numbering_and_message_ids_survive_a_chat_server_restart(chat_system):
    with proxy(chat_system, "example.chat") as chat:
        assert [chat.post(ROOM, "bob", f"m{n}", f"id-{n}") for n in range(3)] == [1, 2, 3]
        assert chat.post("other", "bob", "elsewhere", "id-0") == 1
    chat_system.processes.pop("chat").kill()  # no clean shutdown: each post was committed
    chat_system.start_chat("--grace", str(GRACE))
    with proxy(chat_system, "example.chat") as chat:
        assert chat.post(ROOM, "bob", "m2", "id-2") == 3   # a retry across the restart
        assert chat.post(ROOM, "bob", "m3", "id-3") == 4   # numbering goes on
        assert chat.post("other", "bob", "again", "id-1") == 2
    _, report = start_crowd(chat_system, "crowd", ["ana"])
    wait_until(lambda: received(report).get("ana", {}).get("seqs") == [1, 2, 3, 4], 10,
               "ana to get the history kept across the restart")
