"""Single-proxy call rates: the project's `add` against bare Pyro4, peers and a raw socket.

    python -m bench.rpc     # prints a markdown table
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import Pyro4

from bench.echo_server import HEADER, recv_exact
from bench.timing import Rate, median_rate
from pyrokit import config
from system.local import HOST, LocalSystem

CALLS = 3000
BATCH = 100
SERIALIZERS = ("json", "serpent", "marshal")


@contextmanager
def serving(module: str, *args: str) -> Iterator[str]:
    """Run `python -m module args` and yield the first line it prints (its address)."""
    process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                               text=True)
    try:
        yield process.stdout.readline().strip()
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def proxy(uri: str, serializer: str | None = None) -> Pyro4.Proxy:
    p = Pyro4.Proxy(uri)
    if serializer:
        p._pyroSerializer = serializer
    return p


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
    """(label, rate) rows and notes on what was skipped."""
    config.configure()
    rows, notes = [], []
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        system.start_nameserver()
        system.start_server()
        name = f"PYRONAME:example.compute@{HOST}:{system.ns_port}"
        ours = proxy(name)
        ours._pyroBind()
        rows.append((f"project add ({Pyro4.config.SERIALIZER}, default)",
                     median_rate(lambda: ours.add(1, 2), CALLS)))
        with serving("bench.bare_pyro4") as bare_uri:
            for serializer in SERIALIZERS:
                p = proxy(name, serializer)
                rows.append((f"project add ({serializer})", median_rate(lambda p=p: p.add(1, 2),
                                                                        CALLS)))
                b = proxy(bare_uri, serializer)
                rows.append((f"bare Pyro4 add ({serializer})", median_rate(lambda b=b: b.add(1, 2),
                                                                           CALLS)))
            for serializer in ("json", "serpent"):  # marshal batches fail in Pyro4 4.82
                rows.append((f"project add, Pyro4.batch of {BATCH} ({serializer})",
                             batched_rate(proxy(name, serializer))))
        with serving("bench.echo_server") as port:
            rows.append(("raw TCP echo (the limit)", median_rate(echo_call(int(port)), CALLS)))
        if installed("Pyro5"):
            import Pyro5.api
            with serving("bench.peer_servers", "pyro5") as uri:
                p5 = Pyro5.api.Proxy(uri)
                rows.append(("Pyro5 add (serpent)", median_rate(lambda: p5.add(1, 2), CALLS)))
        else:
            notes.append("Pyro5 not installed (pip install -e .[bench]): skipped")
        if installed("rpyc"):
            import rpyc
            with serving("bench.peer_servers", "rpyc") as port:
                conn = rpyc.connect(HOST, int(port))
                rows.append(("RPyC add", median_rate(lambda: conn.root.add(1, 2), CALLS)))
                conn.close()
        else:
            notes.append("RPyC not installed (pip install -e .[bench]): skipped")
    return rows, notes


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
