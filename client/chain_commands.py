"""The `chain` command: a message around the ring, its route printed hop by hop."""

from __future__ import annotations

import argparse
import time

from chain.ring import node_name
from pyro_objects.client.parsing import arg, command, whole_number


class ChainCommands:
    """Mixed into the Console, whose `call` and `stdout` it uses."""

    @command("send MESSAGE (hello) round the ring from node K (1); prints the route and the "
             "round-trip time",
             arg("message", metavar="MESSAGE", nargs="*"),
             arg("--start", metavar="K", type=whole_number, default=1,
                 help="the node to send it to first"))
    def do_chain(self, args: argparse.Namespace) -> None:
        message = " ".join(args.message) or "hello"
        began = time.perf_counter()
        route = self.call(node_name(args.start), "process", [message])
        elapsed = time.perf_counter() - began
        for hop in route:
            print(hop, file=self.stdout)
        print(f"round trip {elapsed * 1e3:.1f} ms", file=self.stdout, flush=True)
