"""How entry points take options and report failures: argparse types that refuse bad values,
and one `error:` line and a `hint:` line, never a traceback."""

from __future__ import annotations

import argparse
import math
import os
import re
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


SUBCOMMAND_PREFIX = "pyro-objects "


class Parser(argparse.ArgumentParser):
    """argparse for an entry point: a bad option or value gives one `error:` line, a `hint:`
    line and exit 2 (argparse's own would print the usage and `PROG: error:`).

    Run as a `pyro-objects` subcommand, it is named so (the command puts that name in argv[0]).
    """

    def __init__(self, *args, prog: str | None = None, **kwargs) -> None:
        if sys.argv and sys.argv[0].startswith(SUBCOMMAND_PREFIX):
            prog = sys.argv[0]
        super().__init__(*args, prog=prog, **kwargs)

    def error(self, message: str) -> NoReturn:
        fail(message, f"{self.prog} --help lists the options")


WHOLE = re.compile(r"-?[0-9]{1,20}")


def whole(low: int, high: int) -> Callable[[str], int]:
    """argparse type: an int from `low` to `high`."""
    def parse(text: str) -> int:
        value = int(text) if WHOLE.fullmatch(text) else None  # int() takes '١' and '1_0' too
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high} (got {text!r})")
        return value

    return parse


def real(above: float | None = None, at_least: float | None = None) -> Callable[[str], float]:
    """argparse type: a finite number > `above` (or >= `at_least`)."""
    rule = f"> {above:g}" if above is not None else f">= {at_least:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (value <= above if above is not None
                                        else value < at_least):
            raise argparse.ArgumentTypeError(f"must be a finite number {rule} (got {text!r})")
        return value

    return parse


positive = real(above=0)
non_negative = real(at_least=0)
port = whole(1, 65535)
bind_port = whole(0, 65535)  # 0: any free port
NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")


def name(text: str) -> str:
    """argparse type: a name to register: 1 to 200 ASCII letters, digits, '.', '-' or '_'."""
    if not NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"must be 1 to 200 ASCII letters, digits, '.', '-' or '_' (got {text!r})")
    return text


def log_level(text: str) -> str:
    """argparse type: one of logs.LEVELS, in any case."""
    if text.upper() not in logs.LEVELS:
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(logs.LEVELS)} (got {text!r})")
    return text.upper()


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--host, --port, --ns-host, --ns-port and --log-level, as every server takes them."""
    parser.add_argument("--host", help="interface to bind (default $PYRO_HOST or localhost)")
    parser.add_argument("--port", type=bind_port, default=0,
                        help="port to bind (default: any free)")
    add_ns_options(parser)
    add_log_option(parser)


def add_ns_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ns-host", help="name server host (default $PYRO_NS_HOST)")
    parser.add_argument("--ns-port", type=port, help="name server port (default $PYRO_NS_PORT)")


def add_log_option(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    # A string default goes through `type` too: a bad $LOG_LEVEL is refused the same way.
    parser.add_argument("--log-level", type=log_level,
                        default=default or os.environ.get("LOG_LEVEL") or "INFO",
                        help=f"{', '.join(logs.LEVELS)} (default $LOG_LEVEL or "
                             f"{default or 'INFO'})")


def setup(args: argparse.Namespace, identity: str = "server") -> None:
    """Logging, Pyro4 configuration and where the name server is, once, at an entry point."""
    logs.setup(args.log_level)
    config.configure(identity)
    config.set_ns_location(getattr(args, "ns_host", None), getattr(args, "ns_port", None))
