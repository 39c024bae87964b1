"""At most once: a call that may have reached a server is never sent again automatically;
a connection the server closed before the request went out is remade by name."""

import threading
import time

import Pyro4
import Pyro4.errors
import pytest

from pyro_objects.processes import python, wait_until
from pyro_objects.proxy import peer_closed
from tests.counting_server import NAME, executions
from tests.support import proxy


def start_counter(system, log):
    args = python("-m", "tests.counting_server", "--log", str(log))
    return system.start("counter", args, ready=lambda: system.serving(NAME))


@pytest.fixture
def log(own_system, tmp_path, monkeypatch):
    """The name server and the counting server are up; the file counts executions. Pyro4's
    own retries are asked for everywhere: they must not happen."""
    monkeypatch.setattr(Pyro4.config, "MAX_RETRIES", 1)
    own_system.env["PYRO_MAX_RETRIES"] = "1"
    path = tmp_path / "executions"
    own_system.start_nameserver()
    start_counter(own_system, path)
    return path


def test_a_timed_out_call_runs_once_and_waits_one_timeout(own_system, log):
    with proxy(own_system, NAME, timeout=1.0) as counter:
        began = time.monotonic()
        with pytest.raises(Pyro4.errors.TimeoutError):
            counter.slow(3)
        waited = time.monotonic() - began
    assert executions(log) == 1
    assert waited < 1.8, f"the caller waited {waited:.1f}s for a 1s timeout"


def test_a_server_killed_mid_call_is_not_called_again(own_system, log):
    with proxy(own_system, NAME) as counter:
        counter.slow(0)
        with pytest.raises(Pyro4.errors.CommunicationError):
            counter._pyroTimeout = 10
            # The kill comes once the server has logged the call's start: mid-call for sure.
            killer = _kill_when(own_system, lambda: executions(log) == 2)
            try:
                counter.slow(30)
            finally:
                killer.join(timeout=15)
        start_counter(own_system, log)
        assert counter.slow(0) == "done"  # the same proxy carries on with the new server
    assert executions(log) == 3


def test_a_server_restarted_between_calls_gets_each_call_once(own_system, log):
    with proxy(own_system, NAME) as counter:
        assert counter.slow(0) == "done"
        own_system.processes.pop("counter").kill()
        start_counter(own_system, log)
        assert counter.slow(0) == "done"
        own_system.stop("counter")
        start_counter(own_system, log)
        assert counter.slow(0) == "done"
    assert executions(log) == 3


def test_an_idle_connection_closed_by_the_server_is_remade_transparently(own_system, tmp_path):
    """The server closes an idle connection only to make room: here a pool of 2 workers."""
    path = tmp_path / "executions"
    own_system.start_nameserver()
    own_system.env.update(PYRO_THREADPOOL_SIZE="2")
    start_counter(own_system, path)
    uri = f"PYRONAME:{NAME}@127.0.0.1:{own_system.ns_port}"
    with proxy(own_system, NAME) as counter, Pyro4.Proxy(uri) as a, Pyro4.Proxy(uri) as b:
        assert counter.slow(0) == "done"
        connection = counter._pyroConnection
        a._pyroBind()
        b._pyroBind()  # the pool is full: the connection idle longest gives way
        wait_until(lambda: peer_closed(connection.sock), timeout=10,
                   what="the server to close the idle connection")
        assert counter.slow(0) == "done"
    assert executions(path) == 2


def _kill_when(system, condition):
    def kill() -> None:
        wait_until(condition, timeout=10, what="the call to start")
        system.processes.pop("counter").kill()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread
