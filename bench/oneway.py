"""One connection floods a server with oneway calls: do greetings and the thread count hold?

    python -m bench.oneway [--calls 300] [--terms 200000000] [--seconds 40]

Starts its own name server and pyro_server.py on loopback. One plain Pyro4 proxy marks
`pi_slice` oneway and sends --calls of them; meanwhile greetings are made one after another,
each on a new connection, for --seconds. Prints their latency and the server's thread count.
A plain proxy bound before the flood and idle throughout must still answer at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import Pyro4

from pyro_objects import config, names
from pyro_objects.proxy import Proxy
from pyro_objects.system.local import HOST, LocalSystem


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--terms", type=int, default=200_000_000)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    config.configure()
    with LocalSystem(tempfile.mkdtemp(prefix="bench-oneway-")) as system:
        system.start_nameserver()
        pid = system.start_server().pid
        greeting = f"PYRONAME:{names.GREETING}@{HOST}:{system.ns_port}"
        before = threads(pid)
        idle = Pyro4.Proxy(greeting)
        idle._pyroBind()
        began = time.monotonic()
        with Pyro4.Proxy(f"PYRONAME:{names.COMPUTE}@{HOST}:{system.ns_port}") as compute:
            compute._pyroBind()  # binding fetches the metadata, which would reset _pyroOneway
            compute._pyroOneway.add("pi_slice")
            for _ in range(args.calls):
                compute.pi_slice(0, args.terms)
            latencies, most = [], before
            while time.monotonic() - began < args.seconds:
                start = time.monotonic()
                with Proxy(greeting) as fresh:
                    fresh._pyroTimeout = 5.0
                    fresh.welcomeMessage("bench")
                latencies.append(time.monotonic() - start)
                most = max(most, threads(pid))
        latencies.sort()
        print(f"{args.calls} oneway pi_slice(0, {args.terms}) on one connection; "
              f"{len(latencies)} greetings in {args.seconds:g} s: "
              f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
              f"worst {latencies[-1] * 1000:.1f} ms; server threads {before} -> at most {most}")
        idle.welcomeMessage("bench")
        print(f"a plain proxy idle {time.monotonic() - began:.0f} s still answers")
        idle._pyroRelease()


if __name__ == "__main__":
    main()
