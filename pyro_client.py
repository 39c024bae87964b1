"""Client for the remote objects: an interactive prompt, or one command from the shell.

    python pyro_client.py                 # prompt (help lists the commands)
    python pyro_client.py add 2 3         # one command; prints the bare result
    echo "add 2 3" | python pyro_client.py
"""

from __future__ import annotations

import argparse
import sys

from client.console import Console
from pyrokit import cli, config, logs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Commands: " + ", ".join(Console.commands()),
    )
    parser.add_argument("--ns-host", help="name server host (default $PYRO_NS_HOST)")
    parser.add_argument("--ns-port", type=int, help="name server port (default $PYRO_NS_PORT)")
    parser.add_argument("--debug", action="store_true", help="print remote tracebacks")
    parser.add_argument("--log-level", default="WARNING", help="client log level")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="a command to run, then exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logs.setup(args.log_level)
    config.configure(identity="client")
    console = Console(args.ns_host, args.ns_port, debug=args.debug)
    if sys.stdin.isatty() and not args.command:
        console.interact()
        return
    if args.command:
        console.onecmd(" ".join(args.command))
    else:
        console.run_lines(sys.stdin)
    sys.exit(1 if console.failures else 0)


if __name__ == "__main__":
    cli.run(main)
