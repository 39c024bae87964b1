"""Chain ring round trips for 3 and 5 nodes, per hop, against one plain call: the tutorial's
process() through a plain Pyro4 proxy, and the client library's chain() (trace(), timed hops,
as the console and the prompt send it).

    python -m bench.ring
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import Pyro4

from bench.timing import Rate, median_rate
from chain.ring import node_name
from pyro_objects import config
from pyro_objects.library import Client
from pyro_objects.system.local import HOST, LocalSystem

CALLS = 500


def round_trips() -> dict[int, Rate]:
    """{ring size: round-trip rate of process(["hello"]) from node 1}; and, under key
    (size, "library"), of the client library's chain("hello")."""
    config.configure()
    rates = {}
    for size in (3, 5):
        with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
            system.start_nameserver()
            system.start_ring(size)
            with Pyro4.Proxy(f"PYRONAME:{node_name(1)}@{HOST}:{system.ns_port}") as node:
                rates[size] = median_rate(lambda node=node: node.process(["hello"]), CALLS)
            config.set_ns_location(HOST, system.ns_port)
            client = Client()
            rates[size, "library"] = median_rate(lambda c=client: c.chain("hello"), CALLS)
    return rates


def table(rates: dict, one_call: Rate | None = None) -> str:
    lines = ["| ring | round trips/s | p50 ms | p99 ms | ms per hop | x one call |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, rate in rates.items():
        size, how = (key, "process()") if isinstance(key, int) else (key[0], "library chain()")
        ratio = f"{one_call.per_second / rate.per_second:.2f}" if one_call else "-"
        lines.append(f"| {size} nodes, {how} | {rate.per_second:,.0f} | {rate.p50_ms:.3f} | "
                     f"{rate.p99_ms:.3f} | {rate.p50_ms / size:.3f} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(round_trips()))
