"""Chat server memory: how much its RSS grows while rooms fill up (history kept in SQLite).

    python -m bench.chat_memory [--rooms 20] [--posts 5000] [--chars 1000]

A name server and a chat server on loopback; after one post to warm it up, each room gets
`posts` messages of `chars` characters, each with its own id (sent in Pyro4 batches of
BATCH calls). Prints the chat server's RSS before and after and the growth against the goal
(issue 16: at most 32 MiB for 20 rooms x 5,000 posts); exits 1 if it is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import Pyro4

from pyro_objects import config, names
from pyro_objects.proxy import Proxy
from pyro_objects.system.local import HOST, LocalSystem

BATCH = 500
GOAL_MIB = 32


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--posts", type=int, default=5000, help="messages per room")
    parser.add_argument("--chars", type=int, default=1000, help="characters per message")
    args = parser.parse_args()
    config.configure()
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        system.start_nameserver()
        pid = system.start_chat().popen.pid
        with Proxy(f"PYRONAME:{names.CHAT}@{HOST}:{system.ns_port}") as chat:
            chat._pyroTimeout = 120
            chat.post("warm-up", "bench", "x", uuid.uuid4().hex)
            before = rss_mib(pid)
            began = time.monotonic()
            text = "x" * args.chars
            for room in range(args.rooms):
                for start in range(0, args.posts, BATCH):
                    batch = Pyro4.batch(chat)
                    for _ in range(min(BATCH, args.posts - start)):
                        batch.post(f"room{room}", "bench", text, uuid.uuid4().hex)
                    results = list(batch())
                assert results[-1] == args.posts, results[-1]
            took = time.monotonic() - began
            after = rss_mib(pid)
    growth = after - before
    total = args.rooms * args.posts
    print(f"{args.rooms} rooms x {args.posts:,} posts of {args.chars} characters "
          f"({total / took:,.0f} posts/s, each committed): chat server RSS {before:.1f} -> "
          f"{after:.1f} MiB, growth {growth:.1f} MiB (goal <= {GOAL_MIB} MiB)")
    sys.exit(0 if growth <= GOAL_MIB else 1)


if __name__ == "__main__":
    main()
