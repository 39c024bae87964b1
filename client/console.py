"""The client prompt: one `do_<command>` per feature; interactive, one-shot and piped use."""

from __future__ import annotations

import cmd
import os
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path

import Pyro4
import Pyro4.errors
import Pyro4.util

from client.chain_commands import ChainCommands
from client.parsing import UsageError, format_result, parse_int, parse_number, split_args
from client.pi_commands import PiCommands
from pyrokit.config import ns_location
from pyrokit.errors import SetupError
from pyrokit.naming import START_HINT, describe, locate_ns, pyroname
from pyrokit.proxy import Proxy

GREETING = "server"
COMPUTE = "example.compute"
HISTORY = Path(os.environ.get("PYRO_CLIENT_HISTORY", Path.home() / ".pyro_client_history"))
USER_ERRORS = (ValueError, TypeError, ArithmeticError, ConnectionError)


def _arithmetic_command(op: str, symbol: str):
    def command(self, arg: str) -> None:
        a, b = split_args(arg, "A B")
        self.say(self.call(COMPUTE, op, parse_number("A", a), parse_number("B", b)))

    command.__doc__ = f"{op} A B: A {symbol} B, computed by {COMPUTE}"
    return command


def _unreachable_hint(exc: Exception) -> str:
    if "SSL" in str(exc) or "certificate" in str(exc):
        return ("the TLS handshake failed: both sides need TLS_DIR set to certificates from "
                "the same CA (see the README, 'Running on a network safely')")
    return ("its server has stopped or is unreachable; start it again and retry; "
            "'list' shows what is registered")


class Console(ChainCommands, PiCommands, cmd.Cmd):
    """The remote objects, one command each; `help COMMAND` prints a command's docstring."""

    intro = "Pyro objects client: type help for the commands, quit to leave."
    prompt = "pyro> "

    def __init__(self, ns_host: str | None = None, ns_port: int | None = None,
                 debug: bool = False) -> None:
        super().__init__()
        self.ns_host, self.ns_port = ns_host, ns_port  # resolved at each use: see ns_location
        self.debug = debug
        self.failures = 0
        self.proxies: dict[str, Pyro4.Proxy] = {}

    # --- plumbing shared by every command -------------------------------------------------

    def proxy(self, name: str) -> Pyro4.Proxy:
        """A proxy for `name`, looked up once and reused; it reconnects by name when needed."""
        if name not in self.proxies:
            self.proxies[name] = Proxy(pyroname(name, self.ns_host, self.ns_port))
        return self.proxies[name]

    def call(self, name: str, method: str, *args: object) -> object:
        """proxy(name).method(*args), with communication failures turned into SetupErrors."""
        try:
            return getattr(self.proxy(name), method)(*args)
        except Pyro4.errors.NamingError as exc:
            raise self._naming_error(name, exc) from exc
        except Pyro4.errors.TimeoutError as exc:
            raise SetupError(
                f"{name} did not answer within {self.proxy(name)._pyroTimeout:g}s",
                "the server may be busy or stuck; retry, raise PYRO_COMMTIMEOUT, or restart it",
            ) from exc
        except Pyro4.errors.CommunicationError as exc:
            raise SetupError(f"cannot reach {name}: {exc}", _unreachable_hint(exc)) from exc

    def _naming_error(self, name: str, exc: Exception) -> SetupError:
        if "unknown name" in str(exc):
            return SetupError(f"no object named {name!r} is registered in the name server",
                              "start the server that provides it; 'list' shows what is there")
        where = describe(*ns_location(self.ns_host, self.ns_port))
        return SetupError(f"no name server reachable at {where}", START_HINT)

    def say(self, value: object) -> None:
        print(format_result(value), file=self.stdout, flush=True)

    def report(self, exc: BaseException) -> None:
        """One `error:` line (plus a hint where there is one); --debug adds the traceback."""
        self.failures += 1
        if isinstance(exc, (SetupError, UsageError, *USER_ERRORS)):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, UsageError):
            message = f"{message}; usage: {self._usage()}"
        print(f"error: {message}", file=sys.stderr)
        if getattr(exc, "hint", ""):
            print(f"hint: {exc.hint}", file=sys.stderr)
        if self.debug:
            if hasattr(exc, "_pyroTraceback"):
                print("".join(Pyro4.util.getPyroTraceback(type(exc), exc, exc.__traceback__)),
                      file=sys.stderr)
            else:
                traceback.print_exception(exc, file=sys.stderr)
        sys.stderr.flush()

    def _usage(self) -> str:
        command = getattr(self, "do_" + self.lastcmd.split(maxsplit=1)[0], None)
        return (command.__doc__ or "").split(":", 1)[0]

    @classmethod
    def commands(cls) -> list[str]:
        """The command names, as typed at the prompt."""
        return sorted(name[3:] for name in dir(cls) if name.startswith("do_") and name != "do_EOF")

    def onecmd(self, line: str) -> bool:
        self.lastcmd = line.strip()
        try:
            return bool(super().onecmd(line))
        except Exception as exc:  # noqa: BLE001 - every failure becomes one reported line
            self.report(exc)
            return False

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> bool:
        self.failures += 1
        print(f"error: unknown command {line.split()[0]!r}; type help for the list",
              file=sys.stderr)
        return False

    # --- running: interactive, piped, one-shot ---------------------------------------------

    def run_lines(self, lines: Iterable[str]) -> None:
        """Run commands one per line without a prompt (blank lines and # comments skipped)."""
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#") and self.onecmd(line):
                break

    def interact(self) -> None:
        """The prompt, with readline history and tab completion; Ctrl-C cancels a command."""
        try:
            import readline
        except ImportError:  # pragma: no cover - not on every platform
            readline = None
        if readline is not None:
            try:
                readline.read_history_file(HISTORY)
            except OSError:
                pass
        intro = self.intro
        while True:
            try:
                self.cmdloop(intro)
                break
            except KeyboardInterrupt:
                print("^C (type quit to leave)", file=self.stdout)
                intro = ""
        if readline is not None:
            try:
                readline.write_history_file(HISTORY)
            except OSError:
                pass

    # --- commands ----------------------------------------------------------------------------

    def do_greet(self, arg: str) -> None:
        """greet NAME: the greeting object's welcome message for NAME"""
        if not arg.strip():
            raise UsageError("NAME is missing")
        self.say(self.call(GREETING, "welcomeMessage", arg.strip()))

    do_add = _arithmetic_command("add", "+")
    do_sub = _arithmetic_command("sub", "-")
    do_mul = _arithmetic_command("mul", "*")
    do_div = _arithmetic_command("div", "/")
    do_pow = _arithmetic_command("pow", "**")
    do_mod = _arithmetic_command("mod", "%")

    def do_calc(self, arg: str) -> None:
        """calc EXPRESSION: evaluate arithmetic such as 5 + 3 * (2 - 1) on the compute object"""
        if not arg.strip():
            raise UsageError("EXPRESSION is missing")
        self.say(self.call(COMPUTE, "calc", arg.strip()))

    def do_pislice(self, arg: str) -> None:
        """pislice A B: sum of (-1)^n/(2n+1) for n in A..B-1 (4 * pislice 0 N ~ pi)"""
        a, b = split_args(arg, "A B")
        self.say(self.call(COMPUTE, "pi_slice", parse_int("A", a), parse_int("B", b)))

    def do_list(self, arg: str) -> None:
        """list [PREFIX]: the names registered in the name server, with their URIs"""
        with locate_ns(self.ns_host, self.ns_port) as ns:
            names = ns.list(prefix=arg.strip() or None)
        for name in sorted(names):
            print(f"{name}  {names[name]}", file=self.stdout)

    def complete_list(self, text: str, *_: object) -> list[str]:
        try:
            with locate_ns(self.ns_host, self.ns_port) as ns:
                return sorted(ns.list(prefix=text or None))
        except (SetupError, Pyro4.errors.PyroError):
            return []

    def do_quit(self, arg: str) -> bool:
        """quit: leave the client (also exit, or Ctrl-D)"""
        return True

    do_exit = do_quit

    def do_EOF(self, arg: str) -> bool:  # noqa: N802 - the name cmd.Cmd gives Ctrl-D
        """Ctrl-D: leave the client"""
        print(file=self.stdout)
        return True
