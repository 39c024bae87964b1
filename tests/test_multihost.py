"""The system across hosts: network-namespace hosts on a private bridge, TLS on.

A runs the name server, B pyro_server.py and ring node 1, C and D a compute worker and ring
nodes 2 and 3, E the client: the commands of the README's "Run across machines".
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pyrokit.processes import ROOT, wait_until
from tests.netns import Network, unavailable_reason

pytestmark = [pytest.mark.multihost,
              pytest.mark.skipif(unavailable_reason() is not None,
                                 reason=str(unavailable_reason()))]

START_TIMEOUT = 30
PYTHON = sys.executable


@pytest.fixture(scope="module")
def lan(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lan")
    with Network(workdir, "ABCDE") as network:
        hosts = network.hosts
        certs = workdir / "certs"
        subprocess.run(["bash", str(ROOT / "scripts/make_certs.sh"), str(certs),
                        *(h.address for h in hosts.values())],
                       check=True, capture_output=True, timeout=60)
        network.env = {**os.environ, "TLS_DIR": str(certs), "PYRO_NS_HOST": hosts["A"].address,
                       "PYTHONUNBUFFERED": "1"}
        ns = hosts["A"].start("nameserver", [str(ROOT / "nameserver.sh"), "-n",
                                             hosts["A"].address], network.env)
        wait_until(lambda: "NS running on" in ns.log(), START_TIMEOUT, "the name server")
        server = hosts["B"].start("pyro_server", [PYTHON, str(ROOT / "pyro_server.py"), "--host",
                                                  hosts["B"].address], network.env)
        wait_until(lambda: "registered example.compute" in server.log(), START_TIMEOUT,
                   "pyro_server.py on B")
        yield network


def client(lan, *args: str) -> subprocess.CompletedProcess:
    """pyro_client.py on host E."""
    return subprocess.run(lan.hosts["E"].command([PYTHON, str(ROOT / "pyro_client.py"), *args]),
                          capture_output=True, text=True, timeout=120, env=lan.env, cwd=ROOT)


def test_a_client_on_another_host_greets_and_computes(lan):
    assert client(lan, "greet", "Ana").stdout == "Hi welcome Ana\n"
    assert client(lan, "add", "2", "3").stdout == "5\n"
    assert client(lan, "calc", "2 ** 10").stdout == "1024\n"


def test_the_name_server_lists_objects_at_their_hosts_addresses(lan):
    listing = client(lan, "list").stdout
    assert f"PYRO:server@{lan.hosts['B'].address}:" in listing
    assert f"PYRO:Pyro.NameServer@{lan.hosts['A'].address}:" in listing


def test_a_client_without_a_certificate_is_refused_across_hosts(lan):
    result = subprocess.run(
        lan.hosts["E"].command([PYTHON, str(ROOT / "pyro_client.py"), "add", "2", "3"]),
        capture_output=True, text=True, timeout=120, env={**lan.env, "TLS_DIR": ""}, cwd=ROOT)
    assert result.returncode != 0 and result.stdout == ""
