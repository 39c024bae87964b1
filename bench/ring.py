"""Chain ring round trips for 3 and 5 nodes, per hop, against one plain call.

    python -m bench.ring
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import Pyro4

from bench.timing import Rate, median_rate
from chain.ring import node_name
from pyro_objects import config
from pyro_objects.system.local import HOST, LocalSystem

CALLS = 500


def round_trips() -> dict[int, Rate]:
    """{ring size: round-trip rate of process(["hello"]) from node 1}."""
    config.configure()
    rates = {}
    for size in (3, 5):
        with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
            system.start_nameserver()
            system.start_ring(size)
            with Pyro4.Proxy(f"PYRONAME:{node_name(1)}@{HOST}:{system.ns_port}") as node:
                rates[size] = median_rate(lambda node=node: node.process(["hello"]), CALLS)
    return rates


def table(rates: dict[int, Rate], one_call: Rate | None = None) -> str:
    lines = ["| ring | round trips/s | p50 ms | p99 ms | ms per hop | x one call |",
             "|---|---:|---:|---:|---:|---:|"]
    for size, rate in rates.items():
        ratio = f"{one_call.per_second / rate.per_second:.2f}" if one_call else "-"
        lines.append(f"| {size} nodes | {rate.per_second:,.0f} | {rate.p50_ms:.3f} | "
                     f"{rate.p99_ms:.3f} | {rate.p50_ms / size:.3f} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(round_trips()))
