"""Command arguments: argparse parsers that raise UsageError, number parsing, result formatting."""

from __future__ import annotations

import argparse
import decimal
import functools
import shlex
from collections.abc import Callable

from compute.expression import evaluate
from pyro_objects.errors import UsageError

MAX_EXACT_FLOAT = 2**53  # a float above this may not be the integer the user meant
MAX_DIGITS = 100  # of a whole number typed as a decimal literal


class CommandParser(argparse.ArgumentParser):
    """An argparse parser for one prompt command: errors raise UsageError, nothing exits."""

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(prog=name, description=summary, add_help=False, exit_on_error=False,
                         allow_abbrev=False)

    def error(self, message: str):
        raise UsageError(message)

    def parse(self, line: str) -> argparse.Namespace:
        """The arguments typed after the command (shell quoting rules)."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"cannot split the arguments: {exc}") from None
        try:
            return self.parse_args(words)
        except argparse.ArgumentError as exc:
            raise UsageError(str(exc)) from None

    def usage_line(self) -> str:
        return self.format_usage().removeprefix("usage: ").strip()


def command(summary: str, *arguments: tuple[tuple[str, ...], dict], name: str = ""):
    """Give a do_<name> method an argparse parser: it then receives the parsed arguments.

    `summary` is the one line `help` shows; each argument is arg(*flags, **keywords).
    """
    def wrap(method: Callable) -> Callable:
        parser = CommandParser(name or method.__name__.removeprefix("do_"), summary)
        for flags, options in arguments:
            parser.add_argument(*flags, **options)

        @functools.wraps(method)
        def do(self, line: str):
            return method(self, parser.parse(line))

        do.__doc__, do.parser = summary, parser
        return do

    return wrap


def arg(*flags: str, **options: object) -> tuple[tuple[str, ...], dict]:
    """One argument of a command, as argparse's add_argument takes it."""
    return flags, options


def number(text: str) -> int | float:
    """An int if `text` is one, else a float (argparse type)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"must be a number (got {text!r})")


def whole_number(text: str) -> int:
    """An integer written as 2000000000, 2_000_000_000, 2e9 or 2*10**9 (argparse type);
    refused unless the value is exactly an integer."""
    bad = argparse.ArgumentTypeError(f"must be a whole number (got {text!r})")
    try:  # a decimal literal is exact however it is written
        value = decimal.Decimal(text.replace("_", ""))
        if not value.is_finite() or value.adjusted() > MAX_DIGITS:
            raise bad
    except decimal.InvalidOperation:
        try:  # an expression such as 2*10**9
            value = evaluate(text)
        except (TypeError, ValueError, ArithmeticError):
            raise bad from None
        if isinstance(value, float) and abs(value) > MAX_EXACT_FLOAT:
            raise bad from None
    if value != int(value):
        raise bad
    return int(value)


def format_result(value: object) -> str:
    """Floats in full precision (repr), everything else as str."""
    return repr(value) if isinstance(value, float) else str(value)
