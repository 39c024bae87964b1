"""A test-only server whose object counts its executions in a file: python -m tests.counting_server

Each call of `slow(seconds)` appends one line to --log before it sleeps, so a test can count
how often the server really ran a call, across restarts of this process.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import Pyro4

from pyro_objects import cli
from pyro_objects.serving import Registration, Server

NAME = "test.counter"


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class Counter:
    def __init__(self, log: Path) -> None:
        self.log = log

    def slow(self, seconds: float) -> str:
        with open(self.log, "a") as log:
            log.write(f"{time.time()}\n")
        time.sleep(seconds)
        return "done"


def executions(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", type=Path, required=True)
    cli.add_server_options(parser)
    args = parser.parse_args()
    cli.setup(args)
    Server([Registration(NAME, Counter(args.log))], args.host, args.port).run()


if __name__ == "__main__":
    cli.run(main)
