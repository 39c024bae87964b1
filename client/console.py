"""The client prompt: one `do_<command>` per feature; interactive, one-shot and piped use."""

from __future__ import annotations

import argparse
import cmd
import difflib
import os
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path

import Pyro4
import Pyro4.errors
import Pyro4.util

from pyro_objects.client.chain_commands import ChainCommands
from pyro_objects.client.chat_commands import ChatCommands
from pyro_objects.client.parsing import arg, command, format_result, number, whole_number
from pyro_objects.client.pi_commands import PiCommands
from compute.arithmetic import OPERATIONS
from pyro_objects import names, tls
from pyro_objects.errors import Cancelled, Error, NotRegistered, Refused, Unreachable, UsageError
from pyro_objects.naming import locate_ns, pyroname
from pyro_objects.proxy import Proxy

HISTORY = Path(os.environ.get("PYRO_CLIENT_HISTORY", Path.home() / ".pyro_client_history"))
HISTORY_LENGTH = 1000
UNREACHABLE_HINT = ("its server has stopped or is unreachable; start it again and retry; "
                    "'list' shows what is registered")
# What to do when a remote object raises one of these (others speak for themselves).
REMOTE_HINTS = {
    ConnectionError: "start the ring node named (pyro-objects ring-node --id K --ring N); "
                     "'list --kind chain.node' shows the live ones",
}


def _operation_command(op):
    @command(f"{op.doc}, on {names.COMPUTE}",
             arg("a", metavar="A", type=number), arg("b", metavar="B", type=number),
             name=op.name)
    def do(self, args: argparse.Namespace) -> None:
        self.say(self.call(names.COMPUTE, op.name, args.a, args.b))

    do.__name__ = f"do_{op.name}"
    return do


class Console(ChainCommands, ChatCommands, PiCommands, cmd.Cmd):
    """The remote objects, one command each; `help COMMAND` shows a command's usage."""

    intro = "Pyro objects client: type help for the commands, quit to leave."
    prompt = "pyro> "

    def __init__(self, debug: bool = False) -> None:
        super().__init__()
        self.debug = debug
        self.failures = 0
        self.exit_code = 0
        self.proxies: dict[str, Pyro4.Proxy] = {}

    # --- plumbing shared by every command -------------------------------------------------

    def proxy(self, name: str) -> Pyro4.Proxy:
        """A proxy for `name`, looked up once and reused; it reconnects by name when needed."""
        if name not in self.proxies:
            self.proxies[name] = Proxy(pyroname(name))
        return self.proxies[name]

    def call(self, name: str, method: str, *args: object) -> object:
        """proxy(name).method(*args); every failure becomes one of pyro_objects.errors."""
        try:
            return getattr(self.proxy(name), method)(*args)
        except Pyro4.errors.NamingError as exc:
            self.resolve(name)  # raises NameServerNotFound or NotRegistered
            raise Unreachable(f"cannot find {name}: {exc}", UNREACHABLE_HINT) from exc
        except Pyro4.errors.TimeoutError as exc:
            raise Unreachable(
                f"{name} did not answer within {self.proxy(name)._pyroTimeout:g}s",
                "the server may be busy or stuck; retry, raise PYRO_COMMTIMEOUT, or restart it",
            ) from exc
        except Pyro4.errors.CommunicationError as exc:
            raise Unreachable(f"cannot reach {name}: {exc}", tls.HANDSHAKE_HINT
                              if tls.handshake_failed(exc) else UNREACHABLE_HINT) from exc
        except Pyro4.errors.PyroError:
            raise
        except Exception as exc:
            if not hasattr(exc, "_pyroTraceback"):  # raised here, not by the remote object
                raise
            raise Refused(str(exc), REMOTE_HINTS.get(type(exc), "")) from exc

    def resolve(self, name: str) -> Pyro4.URI:
        """The URI registered for `name`; NameServerNotFound or NotRegistered with a hint."""
        with locate_ns() as ns:
            try:
                return ns.lookup(name)
            except Pyro4.errors.NamingError:
                raise NotRegistered(
                    f"no object named {name!r} is registered in the name server",
                    "start the server that provides it; 'list' shows what is there") from None

    def say(self, value: object) -> None:
        print(format_result(value), file=self.stdout, flush=True)

    def report(self, exc: BaseException) -> None:
        """One `error:` line (plus a hint where there is one); --debug adds the traceback."""
        self.failures += 1
        self.exit_code = max(self.exit_code, getattr(exc, "exit_code", 1))
        if isinstance(exc, Cancelled):
            print(str(exc), file=sys.stderr, flush=True)
            return
        message = str(exc) if isinstance(exc, Error) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, UsageError) and self.lastcmd:
            message = f"{message}; usage: {self._usage()}"
        print(f"error: {message}", file=sys.stderr)
        if getattr(exc, "hint", ""):
            print(f"hint: {exc.hint}", file=sys.stderr)
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
        method = getattr(self, "do_" + self.lastcmd.split(maxsplit=1)[0], None)
        parser = getattr(method, "parser", None)
        return parser.usage_line() if parser else ""

    @classmethod
    def commands(cls) -> dict[str, str]:
        """{command: one-line summary}, as typed at the prompt."""
        return {name[3:]: getattr(cls, name).__doc__.splitlines()[0]
                for name in sorted(dir(cls)) if name.startswith("do_") and name != "do_EOF"}

    def onecmd(self, line: str) -> bool:
        self.lastcmd = line.strip()
        try:
            return bool(super().onecmd(line))
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - each is reported, once
            if isinstance(exc, KeyboardInterrupt):
                exc = Cancelled("cancelled")
            self.report(exc)
            return False

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> bool:
        word = line.split()[0]
        near = difflib.get_close_matches(word, self.commands(), n=1)
        self.lastcmd = ""
        raise UsageError(f"unknown command {word!r}",
                         f"did you mean {near[0]!r}?" if near else "type help for the list")

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

    # --- commands ----------------------------------------------------------------------------

    def do_help(self, line: str) -> None:
        """the commands, or how to use one (help COMMAND)"""
        name = line.strip()
        if not name:
            width = max(map(len, self.commands()))
            for command_name, summary in self.commands().items():
                print(f"  {command_name:<{width}}  {summary}", file=self.stdout)
            return
        method = getattr(self, f"do_{name}", None)
        if method is None or name == "EOF":
            self.default(name)
        parser = getattr(method, "parser", None)
        print(parser.format_help().strip() if parser else method.__doc__, file=self.stdout)

    @command("the greeting object's welcome message for NAME",
             arg("name", metavar="NAME", nargs="+"))
    def do_greet(self, args: argparse.Namespace) -> None:
        self.say(self.call(names.GREETING, "welcomeMessage", " ".join(args.name)))

    @command("evaluate arithmetic such as 5 + 3 * (2 - 1) on the compute object",
             arg("expression", metavar="EXPRESSION", nargs=argparse.REMAINDER))
    def do_calc(self, args: argparse.Namespace) -> None:
        if not args.expression:
            raise UsageError("EXPRESSION is missing")
        self.say(self.call(names.COMPUTE, "calc", " ".join(args.expression)))

    @command("sum of (-1)^n/(2n+1) for n in A..B-1 (4 * pislice 0 N ~ pi)",
             arg("a", metavar="A", type=whole_number), arg("b", metavar="B", type=whole_number))
    def do_pislice(self, args: argparse.Namespace) -> None:
        self.say(self.call(names.COMPUTE, "pi_slice", args.a, args.b))

    @command("the names registered in the name server, with their URIs",
             arg("prefix", metavar="PREFIX", nargs="?"),
             arg("--kind", help="only objects of this kind (metadata), e.g. compute.worker"))
    def do_list(self, args: argparse.Namespace) -> None:
        if args.prefix and args.kind:
            raise UsageError("give PREFIX or --kind, not both")
        with locate_ns() as ns:
            if args.kind:
                listed = ns.list(metadata_all={args.kind})
            else:
                listed = ns.list(prefix=args.prefix or None)
        for name in sorted(listed):
            print(f"{name}  {listed[name]}", file=self.stdout)

    def complete_list(self, text: str, *_: object) -> list[str]:
        try:
            with locate_ns() as ns:
                return sorted(ns.list(prefix=text or None))
        except (Error, Pyro4.errors.PyroError):
            return []

    def completenames(self, text: str, *ignored: object) -> list[str]:
        return [name for name in self.commands() if name.startswith(text)]

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


for _operation in OPERATIONS.values():  # add A B, sub A B, ...: one command per operation
    setattr(Console, f"do_{_operation.name}", _operation_command(_operation))
