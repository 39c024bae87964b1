"""Serves the greeting object (`server`, as in Pyro4's tutorial) and the compute object.

    python pyro_server.py [--host HOST] [--name server] [--compute-name example.compute]
"""

from __future__ import annotations

import argparse

import Pyro4

from compute.service import Compute
from pyrokit import cli
from pyrokit.serving import Registration, Server

MAX_NAME_LENGTH = 200


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class GreetingMaker:
    """The greeting object of Pyro4's tutorial."""

    def welcomeMessage(self, name):  # noqa: N802 - the tutorial's method name
        """"Hi welcome <name>" for a non-empty name of at most 200 characters."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a string (got {type(name).__name__})")
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1 to {MAX_NAME_LENGTH} characters, not blank "
                             f"(got {len(name)} characters)")
        return "Hi welcome " + name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="server", help="name of the greeting object")
    parser.add_argument("--compute-name", default="example.compute",
                        help="name of the compute object ('' to serve none)")
    cli.add_server_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cli.setup(args)
    registrations = [Registration(args.name, GreetingMaker())]
    if args.compute_name:
        registrations.append(Registration(args.compute_name, Compute()))
    Server(registrations, args.host, args.port, args.ns_host, args.ns_port).run()


if __name__ == "__main__":
    cli.run(main)
