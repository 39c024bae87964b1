"""A ring node of any ring size: python -m chain.server --id K --ring N

Registers node K as example.chainTopology.K with successor K+1 (N -> 1).
"""

from __future__ import annotations

import argparse
import sys

import Pyro4

from chain import ring
from chain.node import DEFAULT_HOP_TIMEOUT, ChainNode, budget
from pyro_objects import cli, names
from pyro_objects.errors import SetupError
from pyro_objects.serving import Registration, Server

CALLER_SHARE = 0.9  # of the caller's timeout, for the ring; the rest for the call itself


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", type=int, required=True, help="this node's number, 1..N")
    parser.add_argument("--ring", type=int, default=3, help="how many nodes the ring has (3)")
    parser.add_argument("--next", help="successor's id or name, to wire a ring by hand")
    parser.add_argument("--no-heal", dest="heal", action="store_false",
                        help="fail instead of routing around a dead successor")
    parser.add_argument("--hop-timeout", type=float,
                        help=f"seconds each remaining hop may take (default "
                             f"{DEFAULT_HOP_TIMEOUT:g}, less for rings too large to go round "
                             f"within PYRO_COMMTIMEOUT)")
    parser.add_argument("--max-hops", type=int, default=ring.DEFAULT_MAX_HOPS,
                        help="refuse messages that crossed this many nodes (default 64)")
    cli.add_server_options(parser)
    args = parser.parse_args(argv)
    if args.ring > args.max_hops:
        parser.error(f"--ring must be at most --max-hops (got --ring {args.ring}, "
                     f"--max-hops {args.max_hops}): a message could never go round")
    if not 1 <= args.id <= args.ring:
        parser.error(f"--id must be between 1 and --ring (got --id {args.id}, --ring {args.ring})")
    if args.next and args.next.isdigit():
        args.next = ring.node_name(args.next)
    return args


def hop_timeout(given: float | None, size: int) -> float:
    """The hop timeout for a ring of `size`: what the caller waits (PYRO_COMMTIMEOUT) must
    cover the ring's budget, so that a node, never the caller, reports a failure."""
    caller_waits = Pyro4.config.COMMTIMEOUT
    if given is None:
        return DEFAULT_HOP_TIMEOUT if not caller_waits else min(
            DEFAULT_HOP_TIMEOUT, caller_waits * CALLER_SHARE / budget(size, 1.0))
    if given <= 0:
        raise SetupError(f"--hop-timeout must be > 0 (got {given:g})")
    if caller_waits and budget(size, given) > caller_waits * CALLER_SHARE:
        most = caller_waits * CALLER_SHARE / budget(size, 1.0)
        raise SetupError(
            f"a ring of {size} nodes with --hop-timeout {given:g} may take "
            f"{budget(size, given):g} s per message, longer than callers wait "
            f"(PYRO_COMMTIMEOUT={caller_waits:g} s)",
            f"use --hop-timeout {most:.3g} or less, or raise PYRO_COMMTIMEOUT for every process")
    return given


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cli.setup(args)
    args.hop_timeout = hop_timeout(args.hop_timeout, args.ring)
    node = ChainNode(args.id, args.ring, args.next, args.heal, args.hop_timeout, args.max_hops,
)
    registration = Registration(node.name, node, frozenset({names.RING_KIND}))
    Server([registration], args.host, args.port).run()


def launch(ident: int, size: int = 3) -> None:
    """Entry point of the server_chain_K scripts: node `ident` of a ring of `size`."""
    cli.run(lambda: main(["--id", str(ident), "--ring", str(size), *sys.argv[1:]]))


if __name__ == "__main__":
    cli.run(main)
