"""The prompt's own commands (chat, say, pi, help, ...): argparse parsers from the library's
command language, given to do_<command> methods; the terminal's width."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable

from pyro_objects.library.commands import arg, parser_for

__all__ = ["arg", "command", "terminal_columns"]


def terminal_columns() -> int:
    """The terminal's width; 80 where it reports none (a pseudo-terminal with no size says 0,
    which Python 3.10's shutil passes on)."""
    return shutil.get_terminal_size().columns or 80


def command(summary: str, *arguments: tuple[tuple[str, ...], dict], name: str = ""):
    """Give a do_<name> method an argparse parser: it then receives the parsed arguments.

    `summary` is the one line `help` shows; each argument is arg(*flags, **keywords).
    """
    def wrap(method: Callable) -> Callable:
        parser = parser_for(name or method.__name__.removeprefix("do_"), summary, arguments)

        @functools.wraps(method)
        def do(self, line: str):
            return method(self, parser.parse(line))

        do.__doc__, do.parser = summary, parser
        return do

    return wrap
