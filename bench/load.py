"""Concurrent clients against the greeting and compute objects: calls/s, latency, errors.

    python -m bench.load [--clients 1,8,64,500] [--calls 20] [--seconds 30]

Starts its own name server and pyro_server.py on loopback (or uses a running system with
--ns-host/--ns-port), then for each client count opens that many proxies at once, each in its
own thread with its own connection, and has every client make --calls calls (bounded by
--seconds). Every result is checked; a wrong one counts as an error.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import Pyro4

from pyro_objects import config, names
from pyro_objects.system.local import HOST, LocalSystem

CONNECT_TIMEOUT = 60.0


@dataclass
class LoadResult:
    clients: int
    calls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def row(self) -> str:
        lat = sorted(self.latencies) or [float("nan")]
        p50 = statistics.median(lat) * 1e3
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3
        rate = self.calls / self.seconds if self.seconds else 0.0
        return (f"| {self.clients} | {self.calls} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | "
                f"{self.error_count} |")


HEADER = "| clients | calls | calls/s | p50 ms | p99 ms | errors |\n|---:|---:|---:|---:|---:|---:|"


def _client(index: int, ns: tuple[str | None, int | None], calls: int, deadline: float,
            barrier: threading.Barrier, result: LoadResult, lock: threading.Lock) -> None:
    greeting = index % 2 == 0
    name = names.GREETING if greeting else names.COMPUTE
    latencies, errors, done = [], {}, 0

    def fail(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    try:
        host, port = ns
        uri = f"PYRONAME:{name}@{host}:{port}" if host else f"PYRONAME:{name}"
        with Pyro4.Proxy(uri) as proxy:
            proxy._pyroTimeout = CONNECT_TIMEOUT
            proxy._pyroBind()
            barrier.wait(CONNECT_TIMEOUT)  # every client connected before anyone calls
            for k in range(calls):
                if time.monotonic() > deadline:
                    break
                start = time.perf_counter()
                if greeting:
                    ok = proxy.welcomeMessage(f"c{index}") == f"Hi welcome c{index}"
                else:
                    ok = proxy.add(index, k) == index + k
                latencies.append(time.perf_counter() - start)
                done += 1
                if not ok:
                    fail("wrong result")
    except threading.BrokenBarrierError:
        fail("not all clients connected")
    except Exception as exc:  # noqa: BLE001 - every failure is counted by kind
        fail(f"{type(exc).__name__}: {exc}"[:120])
    with lock:
        result.calls += done
        result.latencies += latencies
        for kind, count in errors.items():
            result.errors[kind] = result.errors.get(kind, 0) + count


def run_load(clients: int, calls: int, seconds: float,
             ns: tuple[str | None, int | None] = (None, None)) -> LoadResult:
    """`clients` concurrent proxies, each making up to `calls` calls within `seconds`."""
    result, lock = LoadResult(clients), threading.Lock()
    barrier = threading.Barrier(clients)
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_client, args=(i, ns, calls, deadline, barrier, result,
                                                      lock), daemon=True)
               for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 2 * CONNECT_TIMEOUT)
        if thread.is_alive():
            result.errors["client still running at the deadline"] = (
                result.errors.get("client still running at the deadline", 0) + 1)
    result.seconds = time.perf_counter() - start
    return result


def run_load_on_own_system(clients: int, calls: int, seconds: float) -> LoadResult:
    """run_load against a name server and pyro_server.py started for the purpose."""
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        system.start_nameserver()
        system.start_server()
        return run_load(clients, calls, seconds, (HOST, system.ns_port))


def first_call_with_idle_connections(held: int, rounds: int = 5) -> list[float]:
    """Seconds a new client's first add() takes while `held` silent TCP connections are open
    on the same server (each round: open them all, time one new client, close them)."""
    seconds = []
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        system.start_nameserver()
        system.start_server()
        with system.ns() as ns:
            uri = ns.lookup(names.COMPUTE)
        for _ in range(rounds):
            silent = []
            try:
                for _ in range(held):
                    silent.append(socket.create_connection((uri.host, uri.port), timeout=10))
                began = time.perf_counter()
                with Pyro4.Proxy(uri) as proxy:
                    proxy._pyroTimeout = 10
                    proxy.add(1, 2)
                seconds.append(time.perf_counter() - began)
            finally:
                for sock in silent:
                    sock.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,64,500")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--ns-host")
    parser.add_argument("--ns-port", type=int)
    args = parser.parse_args()
    config.configure()
    counts = [int(c) for c in args.clients.split(",")]

    def measure(ns: tuple[str | None, int | None]) -> None:
        print(HEADER)
        for count in counts:
            result = run_load(count, args.calls, args.seconds, ns)
            print(result.row(), flush=True)
            for kind, n in result.errors.items():
                print(f"  {n} x {kind}")

    if args.ns_host or args.ns_port:
        measure((args.ns_host, args.ns_port))
        return
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        system.start_nameserver()
        system.start_server()
        measure((HOST, system.ns_port))


if __name__ == "__main__":
    main()
