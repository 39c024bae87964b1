"""How entry points report failures: one `error:` line and a `hint:` line, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from pyro_objects import config, logs
from pyro_objects.errors import Error


def fail(message: str, hint: str = "", code: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    sys.exit(code)


def run(main: Callable[[], None]) -> None:
    """Run an entry point, turning an Error into `fail` and Ctrl-C into a quiet exit."""
    try:
        main()
    except Error as exc:
        fail(str(exc), exc.hint, exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--host, --port, --ns-host, --ns-port and --log-level, as every server takes them."""
    parser.add_argument("--host", help="interface to bind (default $PYRO_HOST or localhost)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument("--ns-host", help="name server host (default $PYRO_NS_HOST)")
    parser.add_argument("--ns-port", type=int, help="name server port (default $PYRO_NS_PORT)")
    add_log_option(parser)


def add_log_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (default $LOG_LEVEL or INFO)")


def setup(args: argparse.Namespace, identity: str = "server") -> None:
    """Logging, Pyro4 configuration and where the name server is, once, at an entry point."""
    logs.setup(args.log_level)
    config.configure(identity)
    config.set_ns_location(getattr(args, "ns_host", None), getattr(args, "ns_port", None))
