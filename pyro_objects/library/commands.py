"""The command language: `add 2 3`, `greet Ana`, `chain hi --start 2`, or an expression
(`5 + 3 * 2`). Parsed here once, so the prompt and the console's calculator take the same lines
and refuse them with the same errors.

    command, args = parse("add 2 3")     # (COMMANDS["add"], Namespace(a=2, b=3))
    command.run(client, args)            # 5
    evaluate_line(client, "5 + 3")       # ("calc", 8)
"""

from __future__ import annotations

import argparse
import decimal
import difflib
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from compute.arithmetic import OPERATIONS
from compute.expression import CONSTANTS, FUNCTIONS, evaluate, parses
from pyro_objects.errors import UsageError
from pyro_objects.library.client import KINDS, Client, check_kind

MAX_EXACT_FLOAT = 2**53  # a float above this may not be the integer the user meant
MAX_DIGITS = 100  # of a whole number typed as a decimal literal
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what a command name looks like
EVALUATOR_NAMES = {*CONSTANTS, *FUNCTIONS}     # names an expression may start with


class CommandParser(argparse.ArgumentParser):
    """An argparse parser for one command: errors raise UsageError, nothing exits."""

    def __init__(self, name: str, summary: str, width: int = 78) -> None:
        super().__init__(prog=name, description=summary, add_help=False, exit_on_error=False,
                         allow_abbrev=False,
                         formatter_class=lambda prog: argparse.HelpFormatter(prog, width=width))

    def error(self, message: str):
        raise UsageError(message)

    def parse(self, line: str) -> argparse.Namespace:
        """The arguments typed after the command (shell quoting rules)."""
        return self.parse_words(split_words(line))

    def parse_words(self, words: list[str]) -> argparse.Namespace:
        try:
            return self.parse_args(words)
        except argparse.ArgumentError as exc:
            raise UsageError(str(exc)) from None

    def usage_line(self) -> str:
        return self.format_usage().removeprefix("usage: ").strip()

    def options(self) -> list[str]:
        """The option strings it takes (`--start`, ...), for completion."""
        return sorted(flag for action in self._actions for flag in action.option_strings)


def split_words(line: str) -> list[str]:
    """`line` split as a shell splits it; a UsageError that says what is wrong."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        if "quotation" in str(exc):  # shlex says only "No closing quotation"
            raise UsageError(f"a quote ({open_quote(line)}) is not closed",
                             "close it, or put a backslash before a quote meant as text; "
                             "double quotes keep an apostrophe: \"don't\"") from None
        raise UsageError(f"cannot split the arguments: {exc}") from None


def open_quote(line: str) -> str:
    """The quote character left open in `line` (as a POSIX shell reads quotes)."""
    quote, escaped = "", False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote and char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote = char
    return quote or "'"


def arg(*flags: str, **options: object) -> tuple[tuple[str, ...], dict]:
    """One argument of a command, as argparse's add_argument takes it."""
    return flags, options


def number(text: str) -> int | float:
    """An int if `text` is one, else a float (argparse type); ASCII digits only (int() reads
    ٣ as 3)."""
    for kind in (int, float) if text.isascii() else ():
        try:
            return kind(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"must be a number (got {text!r})")


def whole_number(text: str) -> int:
    """An integer written as 2000000000, 2_000_000_000, 2e9 or 2*10**9 (argparse type);
    refused unless the value is exactly an integer."""
    bad = argparse.ArgumentTypeError(f"must be a whole number (got {text!r})")
    if not text.isascii():  # Decimal() reads ٢ as 2
        raise bad
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


def kind(text: str) -> str:
    """One of the metadata kinds (argparse type)."""
    try:
        return check_kind(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(frozen=True)
class Command:
    """A command of the language: its parser, and what it runs (a typed result)."""

    name: str
    summary: str
    parser: CommandParser
    run: Callable[[Client, argparse.Namespace], object]


COMMANDS: dict[str, Command] = {}
# The commands the console's calculator takes; a line that is none of them is an expression.
CALCULATOR = ("calc", "greet", "pislice", *OPERATIONS)


def parser_for(name: str, summary: str, arguments) -> CommandParser:
    parser = CommandParser(name, summary)
    for flags, options in arguments:
        parser.add_argument(*flags, **options)
    return parser


def define(summary: str, *arguments: tuple[tuple[str, ...], dict], name: str = ""):
    """Make a function `(client, args) -> result` the command `name` (the function's)."""
    def wrap(function: Callable) -> Callable:
        command_name = name or function.__name__.rstrip("_")
        COMMANDS[command_name] = Command(command_name, summary,
                                         parser_for(command_name, summary, arguments), function)
        return function

    return wrap


@define("the greeting object's welcome message for NAME",
        arg("name", metavar="NAME", nargs="+", help="who to welcome (several words: one name)"))
def greet(client: Client, args: argparse.Namespace) -> str:
    return client.greet(" ".join(args.name))


@define("evaluate arithmetic such as 5 + 3 * (2 - 1) on the compute object",
        arg("expression", metavar="EXPRESSION", nargs=argparse.REMAINDER,
            help="numbers, + - * / // %% **, parentheses, pi e tau, "
                 + " ".join(FUNCTIONS)))
def calc(client: Client, args: argparse.Namespace) -> int | float:
    if not args.expression:
        raise UsageError("EXPRESSION is missing")
    return client.calc(" ".join(args.expression))


@define("sum of (-1)^n/(2n+1) for n in A..B-1 (4 * pislice 0 N ~ pi)",
        arg("a", metavar="A", type=whole_number, help="the first n (a whole number >= 0)"),
        arg("b", metavar="B", type=whole_number, help="one past the last n (>= A)"))
def pislice(client: Client, args: argparse.Namespace) -> float:
    return client.pislice(args.a, args.b)


def _operation(op) -> None:
    def run(client: Client, args: argparse.Namespace) -> int | float:
        return client.operate(op.name, args.a, args.b)

    define(f"{op.doc}, on the compute object",
           arg("a", metavar="A", type=number, help="a number: an int (any size) or a float"),
           arg("b", metavar="B", type=number, help="a number: an int (any size) or a float"),
           name=op.name)(run)


for _op in OPERATIONS.values():  # add A B, sub A B, ...: one command per operation
    _operation(_op)


@define("the names registered in the name server: kind, address and metadata",
        arg("prefix", metavar="PREFIX", nargs="?", help="only names that start with PREFIX"),
        arg("--kind", metavar="KIND", type=kind,
            help=f"only objects of this kind (metadata): {', '.join(KINDS)}"))
def list_(client: Client, args: argparse.Namespace):
    return client.names(prefix=args.prefix, kind=args.kind)


@define("the name server's entry for NAME: its address and metadata",
        arg("name", metavar="NAME", help="a registered name, e.g. example.compute"))
def lookup(client: Client, args: argparse.Namespace):
    return client.lookup(args.name)


@define("whether NAME's object answers (a handshake, no call), and in how many ms",
        arg("name", metavar="NAME", help="a registered name, e.g. server"))
def ping(client: Client, args: argparse.Namespace):
    return client.ping(args.name)


@define("send MESSAGE round the ring from node K; the route, hop by hop, and the round trip",
        arg("message", metavar="MESSAGE", nargs="*",
            help="the text to send (default: hello), at most 1000 characters"),
        arg("--start", metavar="K", type=whole_number, default=1,
            help="the node to send it to first (default: 1)"))
def chain(client: Client, args: argparse.Namespace):
    return client.chain(" ".join(args.message) or "hello", args.start)


def unknown(word: str, known: Mapping[str, object] | list[str], otherwise: str = "") -> UsageError:
    """The error for a command nobody defined, with the nearest known one (or `otherwise`)."""
    near = difflib.get_close_matches(word, list(known), n=1)
    return UsageError(f"unknown command {word!r}",
                      f"did you mean {near[0]!r}?" if near else
                      otherwise or f"the commands are: {', '.join(sorted(known))}")


def first_word(line: str) -> tuple[str, str]:
    """(the command word, the rest of the line)."""
    parts = line.strip().split(maxsplit=1)
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


def is_command_word(word: str) -> bool:
    """Whether `word` reads as a command name rather than the start of an expression (which
    starts with a number, a parenthesis, a sign, or a name the evaluator knows)."""
    name = WORD.match(word)
    return name is not None and name.group() not in EVALUATOR_NAMES


def is_expression(line: str) -> bool:
    """Whether a line that starts with a name the evaluator knows is an expression: `pi * 2`
    and `pi` are (the constant), `pi 1000` is not (the command)."""
    word = WORD.match(line.strip())
    return (word is not None and word.group() in EVALUATOR_NAMES
            and parses(" ".join(split_words(line))))


def parse(line: str,
          commands: Mapping[str, Command] = COMMANDS) -> tuple[Command, argparse.Namespace]:
    """The command a line names and its parsed arguments; UsageError otherwise."""
    word, rest = first_word(line)
    if word not in commands:
        raise unknown(word, commands)
    command = commands[word]
    return command, command.parser.parse(rest)


def evaluate_line(client: Client, line: str, allowed: tuple[str, ...] = tuple(COMMANDS),
                  known: list[str] | None = None, otherwise: str = "") -> tuple[str, object]:
    """Run a line of the language: one of the `allowed` commands, or else an expression;
    (the command's name, its result). A word that names no command and starts no expression
    is an unknown command, with the nearest of `known` (default: `allowed`)."""
    word, _ = first_word(line)
    if word in allowed and not is_expression(line):
        command, args = parse(line)
        return command.name, command.run(client, args)
    if is_command_word(word):
        raise unknown(word, known or list(allowed), otherwise)
    return "calc", client.calc(" ".join(split_words(line)))
