"""Single-proxy call rates: the project's `add` against bare Pyro4, peers and a raw socket.

    python -m bench.rpc     # prints a markdown table
"""

from __future__ import annotations

import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import Pyro4

from bench.echo_server import HEADER, recv_exact
from bench.timing import Rate, interleaved_rates, median_rate
from pyro_objects import config
from pyro_objects.system.local import HOST, LocalSystem

CALLS = 1000
ROUNDS = 21
BATCH = 100
SERIALIZERS = ("json", "serpent")  # what servers accept


@contextmanager
def serving(module: str, *args: str) -> Iterator[str]:
    """Run `python -m module args` and yield the first line it prints (its address)."""
    with serving_process(module, *args) as (address, _):
        yield address


@contextmanager
def serving_process(module: str, *args: str) -> Iterator[tuple[str, int]]:
    """serving(), yielding the address and the process id."""
    process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                               text=True)
    try:
        yield process.stdout.readline().strip(), process.pid
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def proxy(uri: str, serializer: str | None = None) -> Pyro4.Proxy:
    p = Pyro4.Proxy(uri)
    if serializer:
        p._pyroSerializer = serializer
    return p


def project_label(serializer: str) -> str:
    default = ", the default" if serializer == Pyro4.config.SERIALIZER else ""
    return f"project add ({serializer}{default})"


def first_call(uri: str) -> object:
    """What a fresh PYRONAME proxy's first call costs: name lookup, connect, handshake, call."""
    with Pyro4.Proxy(uri) as fresh:
        return fresh.add(1, 2)


def batched_rate(p: Pyro4.Proxy) -> Rate:
    """add() calls per second when sent BATCH at a time with Pyro4.batch."""
    def one_batch() -> None:
        batch = Pyro4.batch(p)
        for i in range(BATCH):
            batch.add(i, 1)
        list(batch())

    rate = median_rate(one_batch, CALLS // BATCH, warmup=5)
    return Rate(rate.per_second * BATCH, rate.p50_ms, rate.p99_ms)


def echo_call(port: int) -> Callable[[], bytes]:
    sock = socket.create_connection((HOST, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    frame = HEADER.pack(8) + b"add(1,2)"

    def call() -> bytes:
        sock.sendall(frame)
        (size,) = HEADER.unpack(recv_exact(sock, HEADER.size))
        return recv_exact(sock, size)

    return call


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def measure() -> tuple[list[tuple[str, Rate]], list[str]]:
    """(label, rate) rows and notes on what was skipped; contenders take turns (see
    interleaved_rates), each row the median of ROUNDS runs of CALLS calls."""
    config.configure()
    calls: dict[str, Callable[[], object]] = {}
    notes = []
    with ExitStack() as stack:
        workdir = stack.enter_context(tempfile.TemporaryDirectory())
        system = stack.enter_context(LocalSystem(Path(workdir)))
        system.start_nameserver()
        system.start_server()
        name = f"PYRONAME:example.compute@{HOST}:{system.ns_port}"
        bare_uri = stack.enter_context(serving("bench.bare_pyro4"))
        for serializer in SERIALIZERS:
            calls[project_label(serializer)] = proxy(name, serializer).add
            calls[f"bare Pyro4 add ({serializer})"] = proxy(bare_uri, serializer).add
        echo_port = stack.enter_context(serving("bench.echo_server"))
        calls["raw TCP echo (the limit)"] = echo_call(int(echo_port))
        if installed("Pyro5"):
            import Pyro5.api
            calls["Pyro5 add (serpent)"] = Pyro5.api.Proxy(
                stack.enter_context(serving("bench.peer_servers", "pyro5"))).add
        else:
            notes.append("Pyro5 not installed (pip install -e .[bench]): skipped")
        if installed("rpyc"):
            import rpyc
            port = stack.enter_context(serving("bench.peer_servers", "rpyc"))
            connection = rpyc.connect(HOST, int(port))
            stack.callback(connection.close)
            calls["RPyC add"] = connection.root.add
        else:
            notes.append("RPyC not installed (pip install -e .[bench]): skipped")
        rates = interleaved_rates({label: partial(call, 1, 2) if "echo" not in label else call
                                   for label, call in calls.items()}, CALLS, ROUNDS)
        rows = list(rates.items())
        for serializer in SERIALIZERS:
            rows.append((f"project add, Pyro4.batch of {BATCH} ({serializer})",
                         batched_rate(proxy(name, serializer))))
        rows.append(("first call: new PYRONAME proxy (lookup + connect + call)",
                     median_rate(lambda: first_call(name), CALLS // 10, warmup=5)))
    return rows, notes


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_per_call(serializer: str = "serpent", calls: int = 10000,
                        rounds: int = 5) -> tuple[float, float]:
    """Median server CPU microseconds per add(1, 2): (the project's, bare Pyro4's). Unlike
    call rates, CPU time does not depend on what else the machine is doing."""
    config.configure()
    spent: dict[str, list[float]] = {"project": [], "bare": []}
    with ExitStack() as stack:
        system = stack.enter_context(LocalSystem(Path(stack.enter_context(
            tempfile.TemporaryDirectory()))))
        system.start_nameserver()
        system.start_server()
        bare_uri, bare_pid = stack.enter_context(serving_process("bench.bare_pyro4"))
        contenders = {
            "project": (proxy(f"PYRONAME:example.compute@{HOST}:{system.ns_port}", serializer),
                        system.processes["pyro_server"].pid),
            "bare": (proxy(bare_uri, serializer), bare_pid),
        }
        for p, _ in contenders.values():
            p.add(1, 2)
        for _ in range(rounds):
            for label, (p, pid) in contenders.items():
                before = cpu_seconds(pid)
                for _ in range(calls):
                    p.add(1, 2)
                spent[label].append((cpu_seconds(pid) - before) / calls * 1e6)
    return statistics.median(spent["project"]), statistics.median(spent["bare"])


def table(rows: list[tuple[str, Rate]]) -> str:
    lines = ["| what | calls/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {r.per_second:,.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} |"
              for label, r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    measured, skipped = measure()
    print(table(measured))
    for note in skipped:
        print(f"- {note}")
