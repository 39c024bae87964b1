"""pyro_server.py's life cycle: names registered while it runs, removed when it stops."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pyro_objects.processes import python
from pyro_objects.system.local import ROOT


def test_server_prints_its_uris_and_is_listed_by_pyro4_nsc(own_system):
    own_system.start_nameserver()
    server = own_system.start_server()
    assert "registered server = PYRO:server@127.0.0.1:" in server.log()
    nsc = Path(sys.executable).parent / "pyro4-nsc"
    result = subprocess.run([str(nsc), "-n", "127.0.0.1", "-p", str(own_system.ns_port), "list"],
                            capture_output=True, text=True, timeout=30, env=own_system.env)
    assert "server --> PYRO:server@" in result.stdout
    assert "example.compute --> PYRO:example.compute@" in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_unregisters_its_names_and_exits_zero(own_system, signum):
    own_system.start_nameserver()
    server = own_system.start_server("--name", "greeter.test",
                                     names=("greeter.test", "example.compute"))
    server.popen.send_signal(signum)
    assert server.popen.wait(timeout=20) == 0
    with own_system.ns() as ns:
        names = ns.list()
    assert "greeter.test" not in names and "example.compute" not in names


def test_without_a_name_server_the_server_says_how_to_start_one(own_system):
    result = subprocess.run(python(str(ROOT / "pyro_server.py")), capture_output=True, text=True,
                            timeout=60, env=own_system.env)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"error: no name server reachable at 127.0.0.1:{own_system.ns_port}",
        "hint: start one with pyro-objects nameserver, or point PYRO_NS_HOST/PYRO_NS_PORT "
        "(--ns-host/--ns-port) at a running one",
    ]
