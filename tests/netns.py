"""Test hosts as Linux network namespaces on a private bridge, made and removed by the tests.

A "switch" namespace holds the bridge, so nothing is added to this machine's own network; each
host namespace gets one veth link to it, an address of its own and its loopback up. Traffic can
only flow among these namespaces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path

from pyro_objects.processes import Process

PREFIX_LENGTH = 24


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=30)


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network-namespace hosts need root"
    if shutil.which("ip") is None:
        return "network-namespace hosts need iproute2's ip"
    probe = f"pyro-probe-{uuid.uuid4().hex[:6]}"
    try:
        run("ip", "netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"cannot create network namespaces here: {exc}"
    run("ip", "netns", "del", probe)
    return None


class Host:
    """One namespace with an address on the test network."""

    def __init__(self, network: Network, name: str, address: str) -> None:
        self.network, self.name, self.address = network, name, address
        self.netns = f"{network.tag}-{name}"

    def command(self, args: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *args]

    def start(self, name: str, args: Sequence[str], env: dict[str, str]) -> Process:
        """A process running `args` inside this host; logged and stopped by the network."""
        process = Process(f"{self.name}-{name}", self.command(args), env,
                          self.network.workdir / f"{self.name}-{name}.log")
        self.network.processes.append(process)
        return process

    def link(self, up: bool) -> None:
        """Plug this host's cable in or out."""
        run(*self.command(["ip", "link", "set", "eth0", "up" if up else "down"]))


class Network:
    """Hosts named A, B, ... on 10.<x>.<y>.0/24, each run's subnet its own."""

    def __init__(self, workdir: Path, names: Sequence[str]) -> None:
        self.workdir = workdir
        self.tag = f"pyro-{uuid.uuid4().hex[:6]}"
        self.switch = f"{self.tag}-sw"
        self.processes: list[Process] = []
        subnet = int(self.tag[-4:], 16) % 250 + 2
        self.hosts = {name: Host(self, name, f"10.231.{subnet}.{i + 10}")
                      for i, name in enumerate(names)}

    def __enter__(self) -> Network:
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _create(self) -> None:
        run("ip", "netns", "add", self.switch)
        sw = ["ip", "netns", "exec", self.switch]
        run(*sw, "ip", "link", "add", "br0", "type", "bridge")
        run(*sw, "ip", "link", "set", "br0", "up")
        for index, host in enumerate(self.hosts.values()):
            run("ip", "netns", "add", host.netns)
            outside = f"{self.tag[-6:]}p{index}"
            run("ip", "link", "add", outside, "type", "veth", "peer", "name", f"{outside}h")
            run("ip", "link", "set", outside, "netns", self.switch)
            run("ip", "link", "set", f"{outside}h", "netns", host.netns)
            run(*sw, "ip", "link", "set", outside, "master", "br0", "up")
            inside = host.command(["ip"])
            run(*inside, "link", "set", f"{outside}h", "name", "eth0")
            run(*inside, "addr", "add", f"{host.address}/{PREFIX_LENGTH}", "dev", "eth0")
            run(*inside, "link", "set", "eth0", "up")
            run(*inside, "link", "set", "lo", "up")

    def close(self) -> None:
        """Stop every process, then remove every namespace (their links go with them)."""
        for process in reversed(self.processes):
            process.stop(timeout=5)
        for netns in [h.netns for h in self.hosts.values()] + [self.switch]:
            subprocess.run(["ip", "netns", "del", netns], capture_output=True, timeout=30)
