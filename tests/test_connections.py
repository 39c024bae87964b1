"""No caller can starve the others of connections: idle and silent connections give way."""

import os
import socket
import time

import Pyro4
import Pyro4.message
import pytest

from pyro_objects import config
from pyro_objects.processes import wait_until
from tests.support import closed_by_peer, daemon_address, proxy

HELD = 2000


def open_connections(address, count):
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(address, timeout=10))
    except BaseException:
        close_all(sockets)
        raise
    return sockets


def close_all(sockets):
    for sock in sockets:
        sock.close()


def established(pid: int) -> int:
    """How many sockets process `pid` has open."""
    fd_dir = f"/proc/{pid}/fd"
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(f"{fd_dir}/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def served_within(system, name="example.compute") -> float:
    began = time.monotonic()
    with proxy(system, name, timeout=10) as compute:
        assert compute.add(20, 22) == 42
    return time.monotonic() - began


@pytest.fixture
def server(own_system):
    own_system.start_nameserver()
    own_system.start_server()
    return own_system


def test_2000_silent_connections_do_not_lock_a_client_out(server):
    pid = server.processes["pyro_server"].pid
    silent = open_connections(daemon_address(server, "example.compute"), HELD)
    try:
        # The server has taken them in (every worker holds one, the oldest were closed).
        wait_until(lambda: established(pid) >= 900, timeout=20, what="the server to accept")
        assert served_within(server) < 1.0
    finally:
        close_all(silent)


def test_idle_clients_give_way_and_reconnect_transparently(server):
    idle = []
    try:
        for _ in range(1200):  # more proxies than workers, each connected once and then idle
            p = proxy(server, "example.compute", timeout=10)
            p._pyroBind()
            idle.append(p)
        assert served_within(server) < 1.0
        # The first proxies' connections were closed to make room; they carry on regardless.
        assert [p.add(1, i) for i, p in enumerate(idle[:20])] == [1 + i for i in range(20)]
    finally:
        for p in idle:
            p._pyroRelease()


def test_a_handshake_sent_byte_by_byte_is_cut_at_the_deadline(server):
    """The deadline covers the whole handshake, not each read of it."""
    header = Pyro4.message.Message(Pyro4.message.MSG_CONNECT, b"x" * 64, 2, 0, 1).to_bytes()
    with socket.create_connection(daemon_address(server, "example.compute"), timeout=10) as sock:
        began = time.monotonic()
        try:
            for byte in header:
                sock.sendall(bytes([byte]))
                if closed_by_peer(sock, timeout=0.4):
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert time.monotonic() - began < 8  # HANDSHAKE_SECONDS (5 s) after the connect


def test_a_silent_connection_is_closed_after_the_handshake_deadline(server):
    with socket.create_connection(daemon_address(server, "example.compute"), timeout=10) as sock:
        began = time.monotonic()
        assert closed_by_peer(sock, timeout=15)
        assert time.monotonic() - began < 10  # HANDSHAKE_SECONDS (5 s), not COMMTIMEOUT (30 s)


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


@pytest.mark.timeout(90)
def test_oneway_calls_on_one_connection_take_no_more_threads_and_greet_stays_fast(server):
    """Any client may mark any method oneway; Pyro4 would run each in a thread of its own."""
    pid = server.processes["pyro_server"].pid
    before = threads(pid)
    with Pyro4.Proxy(f"PYRONAME:example.compute@127.0.0.1:{server.ns_port}") as compute:
        compute._pyroBind()
        compute._pyroOneway.add("pi_slice")
        for _ in range(300):
            compute.pi_slice(0, 200_000_000)
        worst, most = 0.0, 0
        watch_until = time.monotonic() + 6  # Pyro4 would start a thread per call meanwhile
        while time.monotonic() < watch_until:
            began = time.monotonic()
            with proxy(server, "server", timeout=5) as greeting:
                assert "Ana" in greeting.welcomeMessage("Ana")
            worst = max(worst, time.monotonic() - began)
            most = max(most, threads(pid))
        assert worst <= 1.0
        assert most - before <= 64


@pytest.mark.timeout(10)
def test_every_pyrokit_process_runs_oneway_calls_on_the_connection(monkeypatch):
    """Servers, the name server and the chat server all start through config.configure."""
    monkeypatch.setenv("PYRO_ONEWAY_THREADED", "true")
    monkeypatch.setattr(Pyro4.config, "ONEWAY_THREADED", True)
    config.configure()
    assert Pyro4.config.ONEWAY_THREADED is False


SHORT_COMMTIMEOUT = 1.5


@pytest.fixture
def short_deadline(own_system):
    """A name server and pyro_server.py that cut stalled I/O after SHORT_COMMTIMEOUT."""
    own_system.env["PYRO_COMMTIMEOUT"] = str(SHORT_COMMTIMEOUT)
    own_system.start_nameserver()
    own_system.start_server()
    return own_system


@pytest.mark.timeout(40)
@pytest.mark.parametrize("name, call", [("server", lambda p: p.welcomeMessage("Ana")),
                                        ("Pyro.NameServer", lambda p: p.ping())])
def test_a_plain_proxy_left_idle_past_the_io_deadline_still_answers(short_deadline, name, call):
    """Stock Pyro4 proxies do not reconnect: a healthy idle connection is kept while there is
    room (here several I/O deadlines long)."""
    with Pyro4.Proxy(f"PYRONAME:{name}@127.0.0.1:{short_deadline.ns_port}") as plain:
        plain._pyroBind()
        time.sleep(4 * SHORT_COMMTIMEOUT + 1)  # idle is what is tested, not a wait for something
        call(plain)


@pytest.mark.timeout(40)
def test_a_request_stalled_mid_message_is_cut_at_the_io_deadline(short_deadline):
    """Idle connections are kept, but one that sent part of a request and stopped is not."""
    with Pyro4.Proxy(f"PYRONAME:server@127.0.0.1:{short_deadline.ns_port}") as plain:
        plain._pyroBind()
        sock = plain._pyroConnection.sock
        header = Pyro4.message.Message(Pyro4.message.MSG_INVOKE, b"x" * 64, 2, 0, 7).to_bytes()
        sock.sendall(header[:-10])  # the header and part of the body, then nothing
        began = time.monotonic()
        assert closed_by_peer(sock, timeout=15)
        assert time.monotonic() - began < SHORT_COMMTIMEOUT + 2
