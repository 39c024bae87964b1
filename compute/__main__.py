"""A compute worker: python -m compute [--name NAME] [--host HOST]

Serves a Compute object under a unique name, marked in the name server as a compute worker so
that a coordinator finds every live worker with one query. Run any number, on any hosts.
"""

from __future__ import annotations

import argparse
import os
import socket

from compute.service import Compute
from pyro_objects import cli, names
from pyro_objects.serving import Registration, Server


def default_name() -> str:
    return f"{names.WORKER_PREFIX}{socket.gethostname()}.{os.getpid()}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", help=f"name to register (default {names.WORKER_PREFIX}HOST.PID)")
    cli.add_server_options(parser)
    args = parser.parse_args(argv)
    cli.setup(args)
    worker = Registration(args.name or default_name(), Compute(), frozenset({names.WORKER_KIND}))
    Server([worker], args.host, args.port).run()


if __name__ == "__main__":
    cli.run(main)
