"""Runs Pyro4's own name server with persistent storage and one-line errors (see nameserver.sh)."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from pathlib import Path

import Pyro4
import Pyro4.naming

from pyrokit import cli, tls
from pyrokit.cli import fail


def default_storage(host: str, port: int) -> str:
    """sql:<state dir>/names-<host>-<port>.sqlite, the state dir from $XDG_STATE_HOME."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return f"sql:{state / 'pyro-objects' / f'names-{host}-{port}.sqlite'}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="nameserver.sh", description="Run Pyro4's name server in the foreground."
    )
    parser.add_argument("-n", "--host", default=Pyro4.config.NS_HOST,
                        help="interface to bind (default $PYRO_NS_HOST or localhost)")
    parser.add_argument("-p", "--port", type=int, default=Pyro4.config.NS_PORT,
                        help="port to bind (default $PYRO_NS_PORT or 9090)")
    parser.add_argument("-s", "--storage", default=os.environ.get("NS_STORAGE"),
                        help="'memory', 'sql:FILE' or 'dbm:FILE' (default $NS_STORAGE, else "
                             "sql:$XDG_STATE_HOME/pyro-objects/names-HOST-PORT.sqlite)")
    parser.add_argument("-x", "--no-broadcast", action="store_true",
                        help="do not answer broadcast lookups on the LAN")
    cli.add_log_option(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cli.setup(args)
    storage = args.storage or default_storage(args.host, args.port)
    if storage.startswith(("sql:", "dbm:")):
        Path(storage[4:]).parent.mkdir(parents=True, exist_ok=True)
    print(f"name server storage: {storage}", flush=True)
    tls.warn_if_exposed(args.host)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        Pyro4.naming.startNSloop(args.host, args.port, enableBroadcast=not args.no_broadcast,
                                 storage=storage)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            fail(f"{args.host}:{args.port} is already in use (another name server?)",
                 "stop it, or use another port: ./nameserver.sh -p PORT, and set "
                 "PYRO_NS_PORT=PORT for every other process")
        fail(f"cannot start the name server on {args.host}:{args.port}: {exc}",
             "check -n/--host names an address of this machine")
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    cli.run(main)
