"""What the README promises that no other test checks: flags, log levels, storage, make targets."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from chain.ring import node_name
from pyro_objects.processes import ROOT, free_port, python, wait_until
from tests.support import proxy, run_client

CLIENT = str(ROOT / "pyro_client.py")
MAKE = ["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed"]  # no pip
SERVERS = ("pyro_objects.nameserver", "pyro_server.py", "server_chain_1.py", "server_chain_2.py",
           "server_chain_3.py", "compute")


# --- the client ------------------------------------------------------------------------------

def test_client_flags_reach_a_name_server_the_environment_does_not_name(system):
    env = {key: value for key, value in system.env.items()
           if key not in ("PYRO_NS_HOST", "PYRO_NS_PORT")}
    flags = ["--ns-host", "127.0.0.1", "--ns-port", str(system.ns_port)]
    listing = subprocess.run(python(CLIENT, *flags, "list"), capture_output=True, text=True,
                             timeout=60, env=env)
    assert f"PYRO:Pyro.NameServer@127.0.0.1:{system.ns_port}" in listing.stdout, listing.stderr
    greeting = subprocess.run(python(CLIENT, *flags, "greet", "Ana"), capture_output=True,
                              text=True, timeout=60, env=env)
    assert (greeting.returncode, greeting.stdout) == (0, "Hi welcome Ana\n"), greeting.stderr


# --- the servers -----------------------------------------------------------------------------

@pytest.mark.parametrize("flags, env, per_message", [
    (["--log-level", "DEBUG"], {}, True),
    ([], {"LOG_LEVEL": "DEBUG"}, True),
    ([], {}, False),
], ids=["flag", "environment", "default"])
def test_at_debug_level_a_ring_node_logs_every_message(own_system, flags, env, per_message):
    own_system.env.pop("LOG_LEVEL", None)
    own_system.env.update(env)
    own_system.start_nameserver()
    own_system.start_ring(2, *flags)
    with proxy(own_system, node_name(1)) as node:
        assert node.process(["hello"]) == ["passed on from 1", "passed on from 2",
                                           "complete at 1"]
    log = own_system.processes["ring1"].log()
    assert "registered example.chainTopology.1" in log
    assert ("passing the message on" in log, "circle complete" in log) == (per_message,
                                                                           per_message)


def test_an_empty_compute_name_serves_only_the_greeting(own_system):
    own_system.start_nameserver()
    own_system.start_server("--compute-name", "", names=("server",))
    with own_system.ns() as ns:
        assert set(ns.list()) == {"Pyro.NameServer", "server"}
    assert run_client(own_system, "greet", "Ana").stdout == "Hi welcome Ana\n"
    refused = run_client(own_system, "add", "2", "3")
    assert refused.returncode != 0 and "example.compute" in refused.stderr


@pytest.mark.parametrize("successor", ["3", "example.chainTopology.3"], ids=["id", "name"])
def test_next_wires_a_ring_by_hand(own_system, successor):
    """Node 1 of a 2-node ring sent on to node 3 of a 3-node ring, whose successor is 1:
    the ring 1 -> 3 -> 1 (without --next, node 1 would look for node 2)."""
    own_system.start_nameserver()
    start_ring_node(own_system, 1, "--ring", "2", "--next", successor)
    start_ring_node(own_system, 3, "--ring", "3")
    with proxy(own_system, node_name(1)) as node:
        assert node.process(["hello"]) == ["passed on from 1", "passed on from 3",
                                           "complete at 1"]


def start_ring_node(system, ident: int, *args: str) -> None:
    args = python("-m", "chain.server", "--id", str(ident), *args)
    system.start(f"ring{ident}", args, ready=lambda: system.registered(node_name(ident)))


# --- nameserver.sh ---------------------------------------------------------------------------

@pytest.mark.parametrize("storage, kept", [("dbm", True), ("memory", False)])
def test_dbm_storage_keeps_names_across_a_name_server_restart(own_system, tmp_path, storage,
                                                              kept):
    spec = f"dbm:{tmp_path / 'names.dbm'}" if storage == "dbm" else storage
    own_system.start_nameserver(spec, "--prune-after", "0")
    with own_system.ns() as ns:
        ns.register("example.kept", "PYRO:obj@127.0.0.1:4444")
    own_system.stop("nameserver")
    own_system.start_nameserver(spec, "--prune-after", "0")
    assert own_system.registered("example.kept") == kept


def test_pi_finds_the_workers_with_a_dbm_name_server(own_system, tmp_path):
    own_system.start_nameserver(f"dbm:{tmp_path / 'names.dbm'}")
    own_system.start_worker(1)
    result = run_client(own_system, "pi", "1000000")
    assert result.returncode == 0, result.stderr


# --- make demo, make up ----------------------------------------------------------------------

def test_make_demo_shows_every_feature_and_leaves_no_process(tmp_path):
    tag, env = tagged_environment()
    output = tmp_path / "demo.out"
    seen: dict[int, list[str]] = {}

    def finished() -> bool:
        seen.update(tagged_processes(tag))
        return demo.poll() is not None

    with open(output, "w") as out:
        demo = subprocess.Popen([*MAKE, "demo"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        wait_until(finished, timeout=240, what="make demo to finish", interval=0.2)
        left = tagged_processes(tag)
    finally:
        kill_tagged(tag)
        demo.wait(timeout=10)
    text = output.read_text()
    assert demo.returncode == 0, text
    assert "demo OK" in text
    assert started_servers(seen) == set(SERVERS)
    assert left == {}


def test_make_up_serves_until_interrupted_then_stops_everything(tmp_path):
    tag, env = tagged_environment()
    env.pop("PYRO_NS_HOST", None)
    env.update(PYRO_NS_PORT=str(free_port()), RUN_DIR=str(tmp_path / "run"))  # 9090 untouched
    output = tmp_path / "up.out"
    with open(output, "w") as out:
        up = subprocess.Popen([*MAKE, "up"], stdout=out, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)
    try:
        wait_until(lambda: "system up;" in output.read_text() or up.poll() is not None,
                   timeout=120, what="make up to start the system")
        exports = dict(re.findall(r"(PYRO_NS_HOST|PYRO_NS_PORT)=(\S+)", output.read_text()))
        result = subprocess.run(python(CLIENT, "add", "2", "3"), capture_output=True,
                                text=True, timeout=60, env={**os.environ, **exports})
        started = tagged_processes(tag)
        # Ctrl-C in a terminal interrupts make too, which then exits by the signal whatever
        # its recipe did; interrupting the recipe alone lets make pass on its exit code.
        (recipe,) = [pid for pid, argv in started.items() if argv[-3:] == ["-m", "pyro_objects.system", "up"]]
        os.kill(recipe, signal.SIGINT)
        code = up.wait(timeout=60)
        left = tagged_processes(tag)
    finally:
        kill_tagged(tag)
        up.wait(timeout=10)
    text = output.read_text()
    assert (result.returncode, result.stdout) == (0, "5\n"), result.stderr + text
    assert started_servers(started) == set(SERVERS)
    assert (code, text.splitlines()[-1]) == (0, "stopped.")
    assert left == {}
    assert (tmp_path / "run" / "pyro_server.log").exists()


def tagged_environment() -> tuple[str, dict[str, str]]:
    """A tag (NAME=value) and an environment holding it, inherited by every process started
    from it, so that they can be found in /proc whoever their parent is by then."""
    tag = f"PYRO_TEST_RUN={uuid.uuid4().hex}"
    return tag, {**os.environ, **dict([tag.split("=")])}


def tagged_processes(tag: str) -> dict[int, list[str]]:
    """{pid: argv} of the running processes whose environment holds `tag`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
        except OSError:  # gone meanwhile, or not ours
            continue
        if tag.encode() in environ:
            found[int(entry.name)] = argv
    return found


def kill_tagged(tag: str) -> None:
    for pid in tagged_processes(tag):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def started_servers(processes: dict[int, list[str]]) -> set[str]:
    """Which of SERVERS appear among the command lines of `processes`."""
    return {server for server in SERVERS for argv in processes.values()
            if any(arg == server or arg.endswith("/" + server) for arg in argv)}
