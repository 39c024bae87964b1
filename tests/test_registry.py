"""Names mean live objects: owned by the server that registered them, the dead pruned, and
clients never prefer a dead entry to a live one (also with a stock Pyro4 name server)."""

import subprocess
import time

import Pyro4.util
import pytest

from compute.coordinator import run_pi
from pyro_objects.errors import NoWorkersError, TimedOut
from pyro_objects.processes import python, wait_until
from pyro_objects.serving import Registration, Server
from pyro_objects.system.local import HOST, ROOT
from tests.support import name_server_of, proxy, run_client

STOCK = "stock"


@pytest.fixture(autouse=True)
def in_process_calls_use_the_tests_name_server(own_system):
    with name_server_of(own_system):
        yield


def start_nameserver(system, kind, *extra):
    """This project's name server, or stock Pyro4's (python -m Pyro4.naming, as pyro4-ns)."""
    if kind != STOCK:
        return system.start_nameserver(None, *extra)
    args = python("-m", "Pyro4.naming", "-n", HOST, "-p", str(system.ns_port))
    return system.start("nameserver", args, ready=system.registered)


def listed(system):
    with system.ns() as ns:
        return ns.list()


def test_a_killed_servers_names_are_removed_after_the_grace(own_system):
    start_nameserver(own_system, "ours", "--prune-after", "2")
    own_system.start_server()
    own_system.start_worker(1)
    own_system.processes.pop("worker1").kill()
    began = time.monotonic()
    wait_until(lambda: "example.compute.worker.1" not in listed(own_system), timeout=10,
               what="the dead worker's name to be pruned")
    assert time.monotonic() - began >= 1.5  # not before the grace
    assert "removed example.compute.worker.1" in own_system.processes["nameserver"].log()
    assert {"server", "example.compute"} <= set(listed(own_system))  # the live stay


@pytest.mark.parametrize("kind", ["ours", STOCK])
def test_pi_on_one_worker_skips_a_killed_workers_entry(own_system, kind):
    start_nameserver(own_system, kind, "--prune-after", "0")
    own_system.start_workers(2)
    own_system.processes.pop("worker1").kill()
    assert "example.compute.worker.1" in listed(own_system)  # still registered, dead
    result = run_client(own_system, "pi", "1000000", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "example.compute.worker.2:" in result.stdout


def test_a_port_reused_by_another_daemon_is_a_lost_worker_not_a_failed_run(own_system):
    start_nameserver(own_system, "ours", "--prune-after", "0")
    own_system.start_worker(1)
    with own_system.ns() as ns:
        uri = ns.lookup("example.compute.worker.1")
    own_system.processes.pop("worker1").kill()
    # Another server takes the dead worker's port: it answers, but serves no such object.
    own_system.start_server("--port", str(uri.port))
    own_system.start_worker(2)
    run = run_pi(10_000_000)
    assert [w.name for w in run.workers] == ["example.compute.worker.2"]


def test_with_every_registered_worker_dead_pi_says_so(own_system):
    start_nameserver(own_system, "ours", "--prune-after", "0")
    own_system.start_worker(1)
    own_system.processes.pop("worker1").kill()
    with pytest.raises(NoWorkersError, match="none of the 1 registered compute workers answers"):
        run_pi(1000)


def test_a_run_ends_at_its_deadline(own_system):
    start_nameserver(own_system, "ours")
    own_system.start_worker(1)
    began = time.monotonic()
    with pytest.raises(TimedOut, match="deadline of 0.5 s"):
        run_pi(10**12, deadline=0.5)
    assert time.monotonic() - began < 5


@pytest.mark.parametrize("kind", ["ours", STOCK])
def test_a_live_owners_name_cannot_be_taken(own_system, kind):
    start_nameserver(own_system, kind)
    own_system.start_server()
    with own_system.ns() as ns:
        owner = str(ns.lookup("server"))
    second = subprocess.run(python(str(ROOT / "pyro_server.py")), capture_output=True,
                            text=True, timeout=60, env=own_system.env)
    assert second.returncode == 2
    assert second.stderr.splitlines()[0] == (
        f"error: the name server belongs to a running server at {owner}")
    # The owner keeps its name: nobody re-registers over it.
    with own_system.ns() as ns:
        assert str(ns.lookup("server")) == owner
    with proxy(own_system, "server") as greeter:
        assert greeter.welcomeMessage("Ana") == "Hi welcome Ana"


@pytest.mark.parametrize("kind", ["ours", STOCK])
def test_a_dead_owners_name_is_taken_over(own_system, kind):
    start_nameserver(own_system, kind, "--prune-after", "0")
    own_system.start_server()
    with own_system.ns() as ns:
        dead = str(ns.lookup("server"))
    own_system.processes.pop("pyro_server").kill()
    own_system.start_server()
    with own_system.ns() as ns:
        assert str(ns.lookup("server")) != dead
    with proxy(own_system, "server") as greeter:
        assert greeter.welcomeMessage("Bo") == "Hi welcome Bo"


class Nobody:
    pass


def test_stop_leaves_a_name_that_another_server_took(own_system):
    start_nameserver(own_system, "ours")
    server = Server([Registration("test.taken", Nobody())], HOST,
                    recheck_seconds=0.2)
    server.start()
    try:
        with own_system.ns() as ns:
            ns.register("test.taken", "PYRO:other@127.0.0.1:1")
        wait_until(lambda: "test.taken" in server._lost, timeout=5,
                   what="the keeper to notice the name was taken")
    finally:
        server.stop()
    with own_system.ns() as ns:
        assert str(ns.lookup("test.taken")) == "PYRO:other@127.0.0.1:1"


def test_a_name_taken_and_then_dropped_by_another_server_comes_back(own_system):
    start_nameserver(own_system, "ours")
    server = Server([Registration("test.back", Nobody())], HOST, recheck_seconds=0.1)
    uri = str(server.start()["test.back"])
    try:
        with own_system.ns() as ns:
            ns.register("test.back", "PYRO:other@127.0.0.1:1")
            wait_until(lambda: "test.back" in server._lost, timeout=5,
                       what="the keeper to notice the name was taken")
            ns.remove("test.back")  # the other server stopped
            wait_until(lambda: listed(own_system).get("test.back") == uri, timeout=5,
                       what="the keeper to register the name again")
    finally:
        server.stop()


def test_the_name_server_exposes_no_unchecked_way_to_change_names():
    """Every exposed method either only reads or checks the caller's role first."""
    from pyro_objects.nameserver import Registry
    exposed = Pyro4.util.get_exposed_members(Registry(), only_exposed=True)["methods"]
    assert exposed == {"count", "lookup", "list", "ping",  # read only
                       "register", "set_metadata", "remove", "unregister"}  # role checked


def test_the_keeper_re_registers_a_missing_name_and_survives_failures(own_system, monkeypatch):
    start_nameserver(own_system, "ours")
    server = Server([Registration("test.kept", Nobody())], HOST,
                    recheck_seconds=0.1)
    server.start()
    failures = []
    recheck = Server._recheck

    def fail_twice(self, ns):
        if len(failures) < 2:
            failures.append(1)
            raise RuntimeError("injected")
        return recheck(self, ns)

    monkeypatch.setattr(Server, "_recheck", fail_twice)
    try:
        with own_system.ns() as ns:
            ns.remove("test.kept")
        wait_until(lambda: "test.kept" in listed(own_system), timeout=5,
                   what="the keeper to re-register the name")
        assert len(failures) == 2
    finally:
        server.stop()
    assert "test.kept" not in listed(own_system)
