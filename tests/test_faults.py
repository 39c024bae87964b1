"""Faults: name server and server restarts, idle and vanished clients."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from pyro_objects.processes import wait_until
from tests.support import closed_by_peer, daemon_address, prompt, proxy

NAMES = ("server", "example.compute")


@pytest.mark.parametrize("storage, kept", [("memory", False), (None, True)],
                         ids=["memory", "persistent"])
def test_registrations_are_back_within_5s_of_a_name_server_restart(own_system, storage, kept):
    """A persistent name server restarts with every name by itself (the server is frozen, so
    it cannot re-register them); a memory one starts empty and the server refills it."""
    own_system.start_nameserver(storage)
    server = own_system.start_server()
    with frozen(server):
        own_system.processes.pop("nameserver").kill()
        own_system.start_nameserver(storage)
        with own_system.ns() as ns:
            listed = ns.list()
        assert {name for name in NAMES if name in listed} == (set(NAMES) if kept else set())
    wait_until(lambda: own_system.registered(*NAMES), timeout=5,
               what="every name to be registered again")
    with proxy(own_system, "server") as greeter:
        assert greeter.welcomeMessage("again") == "Hi welcome again"


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_a_proxy_reconnects_by_name_after_its_server_restarts(own_system, how):
    own_system.start_nameserver()
    own_system.start_server()
    with proxy(own_system, "example.compute") as compute:
        assert compute.add(1, 1) == 2
        old = daemon_address(own_system, "example.compute")
        server = own_system.processes.pop("pyro_server")
        server.stop() if how == "stopped" else server.kill()
        own_system.start_server()
        assert daemon_address(own_system, "example.compute") != old
        assert compute.add(2, 2) == 4


def test_the_prompt_carries_on_after_its_server_restarts(own_system, tmp_path):
    own_system.start_nameserver()
    own_system.start_server()
    with prompt(own_system, tmp_path) as terminal:
        assert "5" in terminal.run("add 2 3")
        own_system.processes.pop("pyro_server").kill()
        own_system.start_server()
        assert "42" in terminal.run("mul 6 7")


def test_idle_and_half_open_connections_are_closed_after_the_timeout(own_system):
    own_system.env.update(PYRO_COMMTIMEOUT="1", PYRO_THREADPOOL_SIZE="4")
    own_system.start_nameserver()
    own_system.start_server()
    address = daemon_address(own_system, "example.compute")
    silent = [socket.create_connection(address, timeout=10) for _ in range(4)]
    try:  # four silent clients hold the whole pool until the server times them out
        assert all(closed_by_peer(sock, timeout=15) for sock in silent)
    finally:
        for sock in silent:
            sock.close()
    with proxy(own_system, "example.compute") as compute:
        assert compute.add(20, 22) == 42


CALLER = """
import sys, Pyro4
compute = Pyro4.Proxy(sys.argv[1])
compute._pyroBind()
print(compute._pyroConnection.sock.getsockname()[1], flush=True)
compute.pi_slice(0, 2_000_000_000)
"""


def test_a_client_killed_mid_call_leaves_the_server_serving(own_system):
    own_system.start_nameserver()
    server = own_system.start_server()
    port = daemon_address(own_system, "example.compute")[1]
    idle = cpu_seconds(server.pid)
    uri = f"PYRONAME:example.compute@127.0.0.1:{own_system.ns_port}"
    caller = subprocess.Popen([sys.executable, "-c", CALLER, uri], stdout=subprocess.PIPE,
                              text=True, env=own_system.env)
    try:
        caller_port = int(caller.stdout.readline())
        # Mid-call for sure: the server has spent CPU time on the call (about 1.3 s of it).
        wait_until(lambda: cpu_seconds(server.pid) > idle + 0.3, timeout=20,
                   what="the server to be computing the call")
    finally:
        caller.kill()
        caller.wait(timeout=10)
        caller.stdout.close()
    connection = socket_inode(port, caller_port)  # the server's end of the killed client's
    began = time.monotonic()
    with proxy(own_system, "server") as greeter:
        assert greeter.welcomeMessage("Bo") == "Hi welcome Bo"
    answered = time.monotonic() - began
    assert answered < 0.5, f"another client waited {answered:.2f}s for the killed call"
    assert connection in open_sockets(server.pid), "the killed call ended before the greeting"
    wait_until(lambda: connection not in open_sockets(server.pid), timeout=10,
               what="the server to close the killed client's connection")
    with proxy(own_system, "example.compute") as compute:
        assert compute.pi_slice(0, 1) == 1.0


@contextmanager
def frozen(process):
    """`process` stopped (SIGSTOP) while the block runs: it can do nothing, not even a
    background check."""
    process.popen.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        process.popen.send_signal(signal.SIGCONT)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process `pid` has used, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def socket_inode(local_port: int, remote_port: int) -> int:
    """The inode of this machine's IPv4 TCP socket from `local_port` to `remote_port`."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        ports = [int(address.split(":")[1], 16) for address in fields[1:3]]
        if ports == [local_port, remote_port]:
            return int(fields[9])
    raise LookupError(f"no TCP connection from port {local_port} to {remote_port}")


def open_sockets(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` has open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:["):-1]))
    return inodes
