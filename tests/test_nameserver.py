"""nameserver.sh: Pyro4's name server, persistent, with one-line errors."""

import os
import shutil
import subprocess
import sys

import Pyro4
import Pyro4.errors
import pytest

from pyro_objects import nameserver
from pyro_objects.processes import ROOT, free_port, wait_until
from pyro_objects.system.local import HOST
from tests.support import run_client

NAMESERVER = str(ROOT / "nameserver.sh")


def test_registrations_survive_a_name_server_restart(own_system):
    own_system.start_nameserver()
    with own_system.ns() as ns:
        ns.register("example.persisted", "PYRO:obj@127.0.0.1:4444", metadata={"kind.test"})
    own_system.stop("nameserver")
    own_system.start_nameserver()
    with own_system.ns() as ns:
        assert str(ns.lookup("example.persisted")) == "PYRO:obj@127.0.0.1:4444"
        assert ns.list(metadata_all={"kind.test"}) == {
            "example.persisted": "PYRO:obj@127.0.0.1:4444"}


def test_a_taken_port_gives_a_one_line_error(own_system):
    own_system.start_nameserver()
    result = subprocess.run([NAMESERVER, "-n", HOST, "-p", str(own_system.ns_port),
                             "-s", "memory"], capture_output=True, text=True, timeout=60,
                            env=own_system.env)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"error: {HOST}:{own_system.ns_port} is already in use (another name server?)",
        "hint: stop it, or use another port (-p PORT), and set "
        "PYRO_NS_PORT=PORT for every other process",
    ]


def test_a_missing_install_says_how_to_install(tmp_path):
    """A copy of nameserver.sh with no venv beside it, and a python3 on PATH without Pyro4."""
    script = tmp_path / "nameserver.sh"
    shutil.copy(NAMESERVER, script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    no_pyro = bin_dir / "python3"
    no_pyro.write_text(f"#!/bin/sh\nexec {sys.executable} -S -I \"$@\"\n")
    no_pyro.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run([str(script)], capture_output=True, text=True, timeout=60,
                            env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: Pyro4 is not installed for python3"
    assert "make install" in result.stderr.splitlines()[1]


def test_it_listens_where_pyro_ns_settings_say_from_any_directory(tmp_path):
    port = free_port()
    env = {**os.environ, "PYRO_NS_HOST": HOST, "PYRO_NS_PORT": str(port), "NS_STORAGE": "memory"}
    process = subprocess.Popen([NAMESERVER], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _answers(port), 20, "the name server")
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def _answers(port: int) -> bool:
    try:
        Pyro4.locateNS(HOST, port)._pyroRelease()
        return True
    except Pyro4.errors.NamingError:
        return False


def nsc(system, *command, env=None):
    """Stock pyro4-nsc against `system`'s name server."""
    return subprocess.run([sys.executable, "-m", "Pyro4.nsc", "-n", HOST, "-p",
                           str(system.ns_port), *command], capture_output=True, text=True,
                          timeout=60, env={**system.env, **(env or {})})


LARGE = 12_000


@pytest.mark.timeout(120)
def test_a_registry_of_12000_long_names_lists_with_stock_nsc_and_our_client(own_system):
    own_system.start_nameserver("memory", "--prune-after", "0")
    names = [f"test.large.{i:05d}." + "x" * 83 for i in range(LARGE)]  # 100 characters each
    uri = "PYRO:obj@127.0.0.1:1"
    with own_system.ns() as ns:
        for start in range(0, LARGE, 1000):
            batch = Pyro4.batch(ns)
            for name in names[start:start + 1000]:
                batch.register(name, uri)
            batch()
    stock = nsc(own_system, "list")
    assert stock.returncode == 0, stock.stderr
    assert sorted(line.split(" --> ")[0] for line in stock.stdout.splitlines()
                  if line.startswith("test.large.")) == names
    ours = run_client(own_system, "list", "test.large.")
    assert ours.returncode == 0, ours.stderr
    assert [line.split()[0] for line in ours.stdout.splitlines()[1:]] == names  # after NAME


@pytest.mark.timeout(10)
def test_names_are_pruned_after_10_s_by_default(monkeypatch):
    """Every other test sets --prune-after; this pins the default (README: The servers)."""
    monkeypatch.delenv("NS_PRUNE_AFTER", raising=False)
    assert nameserver.parse_args([]).prune_after == 10
    monkeypatch.setenv("NS_PRUNE_AFTER", "3")
    assert nameserver.parse_args([]).prune_after == 3


@pytest.mark.timeout(60)
def test_with_pyro_hmac_key_only_clients_with_the_key_find_names(own_system, monkeypatch):
    own_system.env["PYRO_HMAC_KEY"] = "sesame"
    monkeypatch.setenv("PYRO_HMAC_KEY", "sesame")  # this test's own readiness checks
    own_system.start_nameserver("memory", "--prune-after", "0")
    own_system.start_server()
    assert "server --> PYRO:server@" in nsc(own_system, "list").stdout
    greeted = run_client(own_system, "greet", "Ana")
    assert greeted.returncode == 0 and "Ana" in greeted.stdout, greeted.stderr
    for other in ("", "not-sesame"):  # no key (as an unset one), a wrong key
        assert "Failed to locate the nameserver" in nsc(
            own_system, "list", env={"PYRO_HMAC_KEY": other}).stdout
        refused = run_client(own_system, "list", env={"PYRO_HMAC_KEY": other})
        assert refused.returncode == 2
        assert "refused this process's messages: their PYRO_HMAC_KEY differs" in refused.stderr
