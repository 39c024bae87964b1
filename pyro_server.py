"""Serves the greeting object (`server`, as in Pyro4's tutorial) and the compute object.

    python pyro_server.py [--host HOST] [--name server] [--compute-name example.compute]
"""

from __future__ import annotations

import argparse

from compute.service import Compute
from pyro_objects.greeting.service import GreetingMaker
from pyro_objects import cli, names
from pyro_objects.serving import Registration, Server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=names.GREETING, help="name of the greeting object")
    parser.add_argument("--compute-name", default=names.COMPUTE,
                        help="name of the compute object ('' to serve none)")
    cli.add_server_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cli.setup(args)
    registrations = [Registration(args.name, GreetingMaker(), frozenset({names.GREETING_KIND}))]
    if args.compute_name:
        registrations.append(Registration(args.compute_name, Compute(),
                                          frozenset({names.COMPUTE_KIND})))
    Server(registrations, args.host, args.port).run()


if __name__ == "__main__":
    cli.run(main)
