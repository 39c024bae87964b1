"""Faults: name server and server restarts, idle and vanished clients."""

import signal
import socket
import subprocess
import sys

import pytest

from pyrokit.processes import wait_until
from tests.support import closed_by_peer, daemon_address, prompt, proxy

NAMES = ("server", "example.compute")


@pytest.mark.parametrize("storage", ["memory", None], ids=["memory", "persistent"])
def test_registrations_are_back_within_5s_of_a_name_server_restart(own_system, storage):
    own_system.start_nameserver(storage)
    own_system.start_server()
    own_system.processes["nameserver"].kill()
    own_system.processes.pop("nameserver")
    own_system.start_nameserver(storage)
    wait_until(lambda: own_system.registered(*NAMES), timeout=5,
               what="the server to re-register its names")
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
print("calling", flush=True)
compute.pi_slice(0, 2_000_000_000)
"""


def test_a_client_killed_mid_call_leaves_the_server_serving(own_system):
    own_system.start_nameserver()
    own_system.start_server()
    uri = f"PYRONAME:example.compute@127.0.0.1:{own_system.ns_port}"
    caller = subprocess.Popen([sys.executable, "-c", CALLER, uri], stdout=subprocess.PIPE,
                              text=True, env=own_system.env)
    try:
        assert caller.stdout.readline() == "calling\n"
        caller.send_signal(signal.SIGKILL)
    finally:
        caller.kill()
        caller.wait(timeout=10)
        caller.stdout.close()
    with proxy(own_system, "example.compute") as compute:
        assert compute.pi_slice(0, 1) == 1.0
    assert own_system.processes["pyro_server"].alive()
