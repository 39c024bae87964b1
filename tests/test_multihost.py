"""The system across hosts: network-namespace hosts on a private bridge, TLS on.

A runs the name server; B pyro_server.py and ring node 1; C and D a compute worker and ring
nodes 2 and 3; E the client. Each host runs the commands of the README's "Run across
machines", with the environment it gives: A to D their own certificate directory, E the
client's.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pyro_objects import names
from pyro_objects.processes import ROOT, wait_until
from tests.netns import Network, unavailable_reason
from tests.support import Terminal

pytestmark = pytest.mark.multihost

START_TIMEOUT = 30
RECOVERY_TIMEOUT = 30
PYTHON = sys.executable
PI_TERMS = "10000000000"
SERVER_HOSTS = "ABCD"   # E runs only the client
HOST_ROLES = {
    "B": [("pyro_server", [PYTHON, "pyro_server.py"], "example.compute"),
          ("ring1", [PYTHON, "chain/server_chain_1.py"], "example.chainTopology.1")],
    "C": [("worker", [PYTHON, "-m", "compute"], "example.compute.worker."),
          ("ring2", [PYTHON, "chain/server_chain_2.py"], "example.chainTopology.2")],
    "D": [("worker", [PYTHON, "-m", "compute"], "example.compute.worker."),
          ("ring3", [PYTHON, "chain/server_chain_3.py"], "example.chainTopology.3")],
}


def tls_dir(lan, host) -> Path:
    """The certificate directory the README has each host copy: its own, or the client's."""
    return lan.certs / (host.address if host.name in SERVER_HOSTS else "client")


def host_env(lan, host) -> dict[str, str]:
    """What the README has each host export."""
    return {**os.environ, "TLS_DIR": str(tls_dir(lan, host)),
            "PYRO_NS_HOST": lan.hosts["A"].address, "PYRO_HOST": host.address,
            "PYTHONUNBUFFERED": "1",
            "XDG_STATE_HOME": str(lan.workdir)}  # the name server's storage stays in the test


@pytest.fixture(scope="module", autouse=True)
def namespaces() -> None:
    """Skips this module's tests, saying why, where namespace hosts cannot be made (checked
    when the first test runs, not while pytest collects)."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lan(namespaces, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lan")
    with Network(workdir, "ABCDE") as network:
        hosts = network.hosts
        network.certs = workdir / "certs"
        subprocess.run([PYTHON, "-m", "pyro_objects.certs", str(network.certs),
                        *(hosts[name].address for name in SERVER_HOSTS)],
                       check=True, capture_output=True, timeout=60)
        a = hosts["A"]
        ns = a.start("nameserver", ["./nameserver.sh", "-n", a.address], host_env(network, a))
        wait_until(lambda: "NS running on" in ns.log(), START_TIMEOUT, "the name server on A")
        network.roles = {}
        for host_name, roles in HOST_ROLES.items():
            host = hosts[host_name]
            for role, args, registers in roles:
                process = host.start(role, args, host_env(network, host))
                network.roles[host_name, role] = process
                wait_until(lambda h=host, r=registers: any(
                    name.startswith(r) for name in registered_at(network, h)),
                    START_TIMEOUT, f"{role} on {host_name} in the name server")
        yield network


def client(lan, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """pyro_client.py on host E."""
    e = lan.hosts["E"]
    return subprocess.run(e.command([PYTHON, "pyro_client.py", *args]), capture_output=True,
                          text=True, timeout=120, env=env or host_env(lan, e), cwd=ROOT)


def registered_at(lan, host) -> list[str]:
    """The names whose objects live on `host`, as host E's client lists them."""
    listing = client(lan, "list").stdout.splitlines()
    return [line.split()[0] for line in listing if f"@{host.address}:" in line]


def worker_name(lan, host_name: str) -> str:
    return next(name for name in registered_at(lan, lan.hosts[host_name])
                if name.startswith(names.WORKER_PREFIX))


def test_a_client_on_another_host_greets_and_computes(lan):
    assert client(lan, "greet", "Ana").stdout == "Hi welcome Ana\n"
    assert client(lan, "add", "2", "3").stdout == "5\n"
    assert client(lan, "calc", "2 ** 10").stdout == "1024\n"


def test_the_name_server_lists_objects_at_their_hosts_addresses(lan):
    listing = client(lan, "list").stdout
    assert f"PYRO:server@{lan.hosts['B'].address}:" in listing
    assert f"PYRO:example.chainTopology.2@{lan.hosts['C'].address}:" in listing
    assert f"PYRO:Pyro.NameServer@{lan.hosts['A'].address}:" in listing


def test_a_client_without_a_certificate_is_refused_across_hosts(lan):
    result = client(lan, "add", "2", "3", env={**host_env(lan, lan.hosts["E"]), "TLS_DIR": ""})
    assert result.returncode != 0 and result.stdout == ""


def test_the_client_host_holds_no_server_key_and_cannot_change_the_registry(lan):
    e = lan.hosts["E"]
    assert sorted(path.name for path in tls_dir(lan, e).iterdir()) == [
        "ca.crt", "client.crt", "client.key"]
    register = ("import Pyro4; from pyro_objects import config; config.configure('client'); "
                f"Pyro4.locateNS('{lan.hosts['A'].address}').register("
                f"'example.compute', 'PYRO:obj_fake@{e.address}:9999')")
    result = subprocess.run(e.command([PYTHON, "-c", register]), capture_output=True, text=True,
                            timeout=60, env=host_env(lan, e), cwd=ROOT)
    assert result.returncode != 0
    assert "PermissionError" in result.stderr and "needs a server certificate" in result.stderr
    assert client(lan, "add", "2", "3").stdout == "5\n"  # example.compute still B's


def test_a_message_goes_round_the_three_host_ring(lan):
    assert client(lan, "chain", "hello").stdout.splitlines()[:4] == [
        "passed on from 1", "passed on from 2", "passed on from 3", "complete at 1"]


def test_cutting_a_host_off_mid_run_and_restoring_it(lan, tmp_path):
    c, e = lan.hosts["C"], lan.hosts["E"]
    cut_run, healed_run = tmp_path / "cut.json", tmp_path / "healed.json"
    terminal = Terminal(e.command([PYTHON, str(ROOT / "pyro_client.py"), "pi", PI_TERMS,
                                   "--json-file", str(cut_run)]), host_env(lan, e))
    try:
        terminal.read_until("\r[", timeout=60)  # the progress bar: both workers are busy
        c.link(up=False)
        terminal.read_until(f"wrote {cut_run}", timeout=180)
        assert terminal.process.wait(timeout=30) == 0
    finally:
        terminal.close()
    cut = json.loads(cut_run.read_text())
    assert {f["worker"] for f in cut["failed_slices"]} == {worker_name(lan, "C")}
    assert abs(cut["pi"] - 3.141592653589793) <= cut["bound"]

    around = client(lan, "chain", "hello").stdout.splitlines()
    assert around[:4] == ["passed on from 1", "skipped 2", "passed on from 3", "complete at 1"]

    c.link(up=True)
    # Node 1 skips a node that failed for a few seconds (chain.node.DEAD_SECONDS) before
    # trying it again.
    wait_until(lambda: client(lan, "chain", "hello").stdout.splitlines()[:4] == [
        "passed on from 1", "passed on from 2", "passed on from 3", "complete at 1"],
        RECOVERY_TIMEOUT, "the ring to use node 2 again", interval=1.0)
    assert client(lan, "pi", PI_TERMS, "--json-file", str(healed_run)).returncode == 0
    healed = json.loads(healed_run.read_text())
    assert sorted(w["name"] for w in healed["workers"]) == sorted(
        [worker_name(lan, "C"), worker_name(lan, "D")])
    assert healed["failed_slices"] == []
    assert abs(healed["pi"] - cut["pi"]) <= 1e-15 * abs(cut["pi"])


def test_without_pyro_ns_host_the_client_finds_the_name_server_by_broadcast(lan):
    env = host_env(lan, lan.hosts["E"])
    del env["PYRO_NS_HOST"]
    # These hosts have no default route, so 255.255.255.255 goes nowhere: name the subnet's.
    env["PYRO_BROADCAST_ADDRS"] = lan.hosts["E"].address.rsplit(".", 1)[0] + ".255"
    result = client(lan, "greet", "Bea", env=env)
    assert (result.returncode, result.stdout) == (0, "Hi welcome Bea\n"), result.stderr


@pytest.mark.parametrize("flags, answers", [((), True), (("-x",), False)],
                         ids=["default", "no-broadcast"])
def test_nameserver_x_does_not_answer_broadcast_lookups(tmp_path, flags, answers):
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYRO_NS_HOST", "PYRO_NS_PORT", "TLS_DIR")}
    env.update(PYTHONUNBUFFERED="1", XDG_STATE_HOME=str(tmp_path))
    with Network(tmp_path, "AB") as network:
        a, b = network.hosts["A"], network.hosts["B"]
        ns = a.start("nameserver", ["./nameserver.sh", "-n", a.address, *flags], env)
        wait_until(lambda: "NS running on" in ns.log(), START_TIMEOUT, "the name server on A")
        env["PYRO_BROADCAST_ADDRS"] = b.address.rsplit(".", 1)[0] + ".255"
        result = subprocess.run(b.command([PYTHON, "pyro_client.py", "list"]),
                                capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    if answers:
        assert f"PYRO:Pyro.NameServer@{a.address}:9090" in result.stdout, result.stderr
    else:
        assert (result.returncode != 0, result.stdout) == (True, "")
        assert "no name server reachable at localhost or by broadcast" in result.stderr


# --- chat rooms across hosts: a chat server on D, subscribers on E (the client host) --------

CHAT_GRACE = 4.0


@pytest.fixture(scope="module")
def chat_server(lan):
    d = lan.hosts["D"]
    process = d.start("chat", [PYTHON, "-m", "pyro_objects.chat", "--grace", str(CHAT_GRACE)],
                      host_env(lan, d))
    wait_until(lambda: "registered example.chat =" in process.log(), START_TIMEOUT,
               "the chat server on D")
    return process


def chat_on_e(lan, nick: str, room: str) -> Terminal:
    """`pyro_client.py chat` on host E, in a terminal, at its prompt: its callback daemon
    binds E's address (PYRO_HOST), where the chat server on D calls it back."""
    e = lan.hosts["E"]
    terminal = Terminal(e.command([PYTHON, str(ROOT / "pyro_client.py"), "chat", nick,
                                   "--room", room]), host_env(lan, e))
    terminal.read_until(f"{nick}@{room}> ", timeout=START_TIMEOUT)
    return terminal


def say_from_c(lan, *lines: list[str]) -> None:
    """`pyro_client.py say ...` on host C, one line each, with the client's certificates (as
    a client there has)."""
    c = lan.hosts["C"]
    env = {**host_env(lan, c), "TLS_DIR": str(lan.certs / "client")}
    script = "".join(shlex.join(["say", *line]) + "\n" for line in lines)
    result = subprocess.run(c.command([PYTHON, "pyro_client.py"]), input=script,
                            capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_a_subscriber_on_one_host_gets_what_is_posted_from_another(lan, chat_server):
    terminal = chat_on_e(lan, "eve", "hosts")
    try:
        say_from_c(lan, ["cal", "hello from C", "--room", "hosts"])
        terminal.read_until("<cal> hello from C\r\n", timeout=RECOVERY_TIMEOUT)
    finally:
        terminal.close()


def test_a_cut_off_subscriber_is_dropped_within_the_grace_and_rejoins_with_since(
        lan, chat_server):
    e = lan.hosts["E"]
    terminal = chat_on_e(lan, "ed", "cut")
    try:
        say_from_c(lan, ["cal", "before the cut", "--room", "cut"])
        terminal.read_until("<cal> before the cut\r\n", timeout=RECOVERY_TIMEOUT)
        e.link(up=False)
        try:  # the reaper looks once a second: dropped at most a second after the grace
            wait_until(lambda: "dropped ed (cut): no heartbeat" in chat_server.log(),
                       CHAT_GRACE + 2, "the chat server to drop ed")
            say_from_c(lan, *[["cal", f"missed {n}", "--room", "cut"] for n in range(1, 106)])
        finally:
            e.link(up=True)
        back = terminal.read_until("<cal> missed 105\r\n", timeout=RECOVERY_TIMEOUT)
        # Rejoined with since: the 100 messages held after a marker for the 5 no longer held.
        assert back.index("-- the chat server had lost us: back in cut") < back.index(
            "-- 5 earlier messages are no longer held") < back.index("<cal> missed 6\r\n")
        assert "before the cut" not in back and "<cal> missed 5\r\n" not in back
    finally:
        terminal.close()
