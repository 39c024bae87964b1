"""The `chain` command: a message around the ring, its route printed hop by hop."""

from __future__ import annotations

import shlex
import time

from chain.ring import node_name
from client.parsing import parse_int, pop_option


class ChainCommands:
    """Mixed into the Console, whose `call` and `stdout` it uses."""

    def do_chain(self, arg: str) -> None:
        """chain [MESSAGE] [--start K]: send MESSAGE (default: hello) round the ring from node K (default 1); prints the route and the round-trip time"""  # noqa: E501
        words = shlex.split(arg)
        start = parse_int("K", pop_option(words, "--start") or "1")
        message = " ".join(words) or "hello"
        began = time.perf_counter()
        route = self.call(node_name(start), "process", [message])
        elapsed = time.perf_counter() - began
        for hop in route:
            print(hop, file=self.stdout)
        print(f"round trip {elapsed * 1e3:.1f} ms", file=self.stdout, flush=True)
