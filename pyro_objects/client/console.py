"""The client prompt: the library's commands formatted for a terminal, and the prompt's own
(pi, chat, say, help, quit); interactive, one-shot and piped use."""

from __future__ import annotations

import argparse
import cmd
import json
import os
import shlex
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

import Pyro4
import Pyro4.errors
import Pyro4.util

from pyro_objects import __version__
from pyro_objects.client.chat_commands import ChatCommands
from pyro_objects.client.parsing import command
from pyro_objects.client.pi_commands import PiCommands
from pyro_objects.errors import (
    NAMES_TOPIC,
    RING_TOPIC,
    Cancelled,
    Error,
    Refused,
    Unreachable,
    UsageError,
    hint_with,
)
from pyro_objects.library import Client, as_json, text_of
from pyro_objects.library.client import KINDS
from pyro_objects.library.commands import (
    COMMANDS,
    Command,
    evaluate_line,
    first_word,
    is_expression,
    split_words,
    unknown,
)

HISTORY = Path(os.environ.get("PYRO_CLIENT_HISTORY", Path.home() / ".pyro_client_history"))
HISTORY_LENGTH = 1000
# Where the prompt shows more about an error's topic.
POINTERS = {NAMES_TOPIC: "'list' shows what is registered",
            RING_TOPIC: "'list --kind chain.node' shows the live ones"}
JSON_FLAG = "--json"


def columns(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as aligned columns (the last one unpadded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)),
                       row[-1]]).rstrip() for row in rows]


def name_rows(entries) -> list[str]:
    """Registry entries as `pyro4-nsc listmeta` shows them, one aligned row each."""
    if not entries:
        return []
    return columns([("NAME", "KIND", "URI", "METADATA")] + [
        (e.name, e.kind, e.uri, ", ".join(e.metadata) or "-") for e in entries])


def ping_lines(ping) -> list[str]:
    return [f"{ping.name} is up: {ping.ms:.1f} ms ({ping.uri})"]


def check_ping(ping) -> None:
    """A ping that got no answer is a failed command (exit 1), in text and in JSON."""
    if not ping.alive:
        raise Unreachable(f"{ping.name} does not answer at {ping.uri}",
                          "its server has stopped or hangs; start it again and retry")


def round_lines(round_) -> list[str]:
    return [*round_.route, f"round trip {round_.ms:.1f} ms"]


# How the prompt prints each command's result (the rest: the value, bare).
FORMATS: dict[str, Callable[[object], list[str]]] = {
    "list": name_rows,
    "lookup": lambda e: name_rows([e]),
    "ping": ping_lines,
    "chain": round_lines,
    "say": lambda p: [f"{'already posted' if p.duplicate else 'posted'} as #{p.seq}"],
}


# Results that mean the command failed, though the call itself did not.
FAILURES: dict[str, Callable[[object], None]] = {"ping": check_ping}


def _library_command(entry: Command):
    def do(self, line: str) -> None:
        result = entry.run(self.client, entry.parser.parse(line))
        FAILURES.get(entry.name, lambda _: None)(result)
        self.show(entry.name, result)

    do.__name__, do.__doc__, do.parser = f"do_{entry.name}", entry.summary, entry.parser
    return do


class Console(ChatCommands, PiCommands, cmd.Cmd):
    """The remote objects, one command each; `help COMMAND` shows a command's usage."""

    intro = "Pyro objects client: type help for the commands, quit to leave."
    prompt = "pyro> "

    def __init__(self, debug: bool = False, client: Client | None = None) -> None:
        super().__init__()
        self.debug = debug
        self.client = client or Client()
        self.failures = 0
        self.exit_code = 0
        self.json = False  # this command's output as one JSON document

    # --- plumbing shared by every command -------------------------------------------------

    def call(self, name: str, method: str, *args: object) -> object:
        return self.client.call(name, method, *args)

    def resolve(self, name: str) -> Pyro4.URI:
        return self.client.resolve(name)

    def show(self, name: str, result: object) -> None:
        """A command's result: its lines, or one JSON document with --json."""
        if self.json:
            print(json.dumps({"command": name, "result": as_json(result)}),
                  file=self.stdout, flush=True)
            return
        for line in FORMATS.get(name, lambda value: [text_of(value)])(result):
            print(line, file=self.stdout)
        self.stdout.flush()

    def report(self, exc: BaseException) -> None:
        """One `error:` line (plus a hint where there is one); --debug adds the traceback;
        with --json, the error is also the JSON document on stdout."""
        self.failures += 1
        self.exit_code = max(self.exit_code, getattr(exc, "exit_code", 1))
        if isinstance(exc, Cancelled):
            print(str(exc), file=sys.stderr, flush=True)
            return
        message = str(exc) if isinstance(exc, Error) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, UsageError) and self.lastcmd:
            message = f"{message}; usage: {self._usage()}" if self._usage() else message
        hint = hint_with(exc, POINTERS)
        if self.json:
            print(json.dumps({"error": message, "hint": hint,
                              "exit_code": getattr(exc, "exit_code", 1)}), file=self.stdout,
                  flush=True)
        print(f"error: {message}", file=sys.stderr)
        if hint:
            print(f"hint: {hint}", file=sys.stderr)
        if self.debug:
            remote = exc.__cause__ if isinstance(exc, Refused) else exc
            if hasattr(remote, "_pyroTraceback"):
                print("".join(Pyro4.util.getPyroTraceback(type(remote), remote,
                                                          remote.__traceback__)),
                      file=sys.stderr)
            else:
                traceback.print_exception(exc, file=sys.stderr)
        sys.stderr.flush()

    def _usage(self) -> str:
        parser = self._parser(self.lastcmd.split(maxsplit=1)[0]) if self.lastcmd else None
        return parser.usage_line() if parser else ""

    def _parser(self, name: str):
        return getattr(getattr(self, f"do_{name}", None), "parser", None)

    @classmethod
    def commands(cls) -> dict[str, str]:
        """{command: one-line summary}, as typed at the prompt."""
        return {name[3:]: getattr(cls, name).__doc__.splitlines()[0]
                for name in sorted(dir(cls)) if name.startswith("do_") and name != "do_EOF"}

    def onecmd(self, line: str) -> bool:
        self.lastcmd = line.strip()
        self.json = False
        try:
            return bool(super().onecmd(self._take_json_flag(line)))
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - each is reported, once
            if isinstance(exc, KeyboardInterrupt):
                exc = Cancelled("cancelled")
            self.report(exc)
            return False

    def _take_json_flag(self, line: str) -> str:
        """The line without a `--json` typed before any `--` (the output option every command
        takes); self.json says whether it was there."""
        name, rest = first_word(line)
        self.json = JSON_FLAG in rest.split()  # so that even a line that cannot be split
        if not self.json:                      # reports its error as JSON
            return line
        words = split_words(rest)
        end = words.index("--") if "--" in words else len(words)
        self.json = JSON_FLAG in words[:end]
        if not self.json:
            return line
        words.remove(JSON_FLAG)
        return shlex.join([name, *words])

    def parseline(self, line: str) -> tuple[str | None, str | None, str]:
        """(command, arguments, line): the command is the first word, as the library's command
        language reads it (so `pi*2` is an expression, as in the console's calculator)."""
        word, rest = first_word(line)
        if not word:
            return None, None, line
        if word == "?":
            return "help", rest, line.strip()
        if is_expression(line):  # `pi * 2`: the constant, not the command
            return None, None, line.strip()
        return word, rest, line.strip()

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> bool:
        """A line that names no command: an expression (`5 + 3`), or an unknown command."""
        name, result = evaluate_line(self.client, line, allowed=(), known=list(self.commands()),
                                     otherwise="type help for the commands")
        self.show(name, result)
        return False

    # --- running: interactive, piped, one-shot ---------------------------------------------

    def run_lines(self, lines: Iterable[str]) -> None:
        """Run commands one per line without a prompt (blank lines and # comments skipped)."""
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#") and self.onecmd(line):
                break
            if self.exit_code == Cancelled.exit_code:  # Ctrl-C stops the whole script
                break

    def interact(self) -> None:
        """The prompt, with readline history (saved after every command) and completion."""
        try:
            import readline
        except ImportError:  # not on every platform
            readline = None
        if readline is not None:
            readline.set_history_length(HISTORY_LENGTH)
            readline.set_completer_delims(" \t\n")  # so that --kind is one word to complete
            try:
                readline.read_history_file(HISTORY)
            except OSError:
                pass
        self.readline = readline
        intro = self.intro
        while True:
            try:
                self.cmdloop(intro)
                break
            except KeyboardInterrupt:  # at the prompt itself, not in a command
                print("^C (type quit to leave)", file=self.stdout)
                intro = ""

    def postcmd(self, stop: bool, line: str) -> bool:
        readline = getattr(self, "readline", None)
        if readline is not None and line.strip():
            try:
                readline.write_history_file(HISTORY)
            except OSError:
                pass
        return stop

    # --- completion: commands, options, kinds and registered names, each with its space ----

    def completenames(self, text: str, *ignored: object) -> list[str]:
        return [f"{name} " for name in self.commands() if name.startswith(text)]

    def completedefault(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        name = line.split(maxsplit=1)[0]
        before = line[:begidx].split()
        if before[-1:] == ["--kind"]:
            choices = list(KINDS)
        elif text.startswith("-"):
            parser = self._parser(name)
            choices = [*(parser.options() if parser else []), JSON_FLAG]
        elif name in ("lookup", "ping", "list"):
            choices = self._registered(text)
        elif name == "help":
            return self.completenames(text)
        else:
            choices = []
        return [f"{choice} " for choice in choices if choice.startswith(text)]

    def complete_help(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return self.completenames(text)

    def _registered(self, prefix: str) -> list[str]:
        try:
            return [entry.name for entry in self.client.names(prefix=prefix or None)]
        except (Error, Pyro4.errors.PyroError):
            return []

    # --- the prompt's own commands -----------------------------------------------------------

    def do_help(self, line: str) -> None:
        """the commands, or how to use one: its synopsis and each argument (help COMMAND)"""
        name = line.strip()
        if self.json:
            parser = self._parser(name) if name else None
            self.show("help", {"command": name, "usage": parser.usage_line(),
                               "help": parser.format_help()} if parser else self.commands())
            return
        if not name:
            width = max(map(len, self.commands()))
            for command_name, summary in self.commands().items():
                print(f"  {command_name:<{width}}  {summary}", file=self.stdout)
            print(f"\nEvery command takes {JSON_FLAG} (one JSON document on stdout); "
                  f"a line that is no command is an expression (5 + 3).", file=self.stdout)
            return
        method = getattr(self, f"do_{name}", None)
        if method is None or name == "EOF":
            raise unknown(name, self.commands(), "type help for the commands")
        parser = getattr(method, "parser", None)
        print(parser.format_help().strip() if parser else method.__doc__, file=self.stdout)

    @command("the client's version")
    def do_version(self, args: argparse.Namespace) -> None:
        self.show("version", __version__)

    @command("leave the client (also exit, or Ctrl-D)")
    def do_quit(self, args: argparse.Namespace) -> bool:
        return True

    @command("leave the client (also quit, or Ctrl-D)")
    def do_exit(self, args: argparse.Namespace) -> bool:
        return True

    def do_EOF(self, line: str) -> bool:
        """Ctrl-D: leave the client"""
        print(file=self.stdout)
        return True


for _entry in COMMANDS.values():  # greet, calc, add, ..., list, lookup, ping, chain
    setattr(Console, f"do_{_entry.name}", _library_command(_entry))
