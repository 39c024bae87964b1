"""The console's calls into the system: the prompt's own commands, from web threads.

Each web thread has its own prompt (client.console.Console), so its own proxies (a Pyro4 proxy
serialises calls, and must not be shared across threads), and every call waits at most a
short timeout. Results and errors read exactly as the prompt prints them.
"""

from __future__ import annotations

import cmd
import io
import re
import threading
import time
from dataclasses import dataclass

import Pyro4
import Pyro4.errors

from chain.ring import node_name
from compute.arithmetic import OPERATIONS
from pyro_objects import names
from pyro_objects.client.console import Console
from pyro_objects.errors import Error, Refused, SetupError, Unreachable, UsageError
from pyro_objects.web.metrics import observed

CALL_TIMEOUT = 5.0        # seconds any call from the console waits
RING_TIMEOUT = 15.0       # a message round the ring: a 3-node ring gives up within 12 s
# The prompt's commands the calculator takes; anything else typed is a `calc` expression.
COMMANDS = ("calc", "greet", "pislice", *OPERATIONS)
MAX_INPUT = 1100          # characters: `calc ` and the evaluator's own limit of 1000, with room


class WebConsole(Console):
    """The prompt, for one web thread: output captured, each call with a short timeout."""

    def proxy(self, name: str) -> Pyro4.Proxy:
        if name not in self.proxies:
            proxy = super().proxy(name)
            proxy._pyroTimeout = RING_TIMEOUT if name.startswith(names.RING_PREFIX) \
                else CALL_TIMEOUT
        return self.proxies[name]


class Prompts:
    """One prompt per thread (so one set of proxies per thread), for one console app."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self) -> WebConsole:
        if not hasattr(self._local, "console"):
            self._local.console = WebConsole()
        return self._local.console


@dataclass(frozen=True)
class Outcome:
    """What a command gave: `output` is the result, or the error as the prompt prints it
    (without `error: `); `status` is the HTTP status that goes with it."""

    ok: bool
    output: str
    hint: str = ""
    status: int = 200


def failure(exc: BaseException, usage: str = "") -> Outcome:
    """A failed call as the prompt reports it; raises what is not a failure of the call."""
    if isinstance(exc, UsageError):
        return Outcome(False, f"{exc}; usage: {usage}" if usage else str(exc), exc.hint, 400)
    if isinstance(exc, Refused):
        return Outcome(False, str(exc), exc.hint, 422)
    if isinstance(exc, (SetupError, Unreachable)):
        return Outcome(False, str(exc), exc.hint, 503)
    if isinstance(exc, Error):
        return Outcome(False, str(exc), exc.hint, 502)
    if isinstance(exc, Pyro4.errors.PyroError):
        return Outcome(False, f"{type(exc).__name__}: {exc}", "", 502)
    if isinstance(exc, OSError):  # e.g. no network to look for a name server on
        return Outcome(False, f"{type(exc).__name__}: {exc}", "", 503)
    raise exc


@observed  # TEMPORARY: the client library will call metrics.observe_call for every call
def run_command(prompt: WebConsole, text: str) -> Outcome:
    """Run one calculator line: `add 2 3`, `greet Ana`, `calc 5 + 3`, or a bare expression."""
    prompt.stdout = io.StringIO()
    words = text.split(maxsplit=1)
    command = words[0] if words and words[0] in COMMANDS else None
    expression = text if command is None else (words[1] if len(words) > 1 else "")
    try:
        if command is None or (command == "calc" and expression):
            # The expression as typed (the prompt would re-join it from shell words).
            prompt.say(prompt.call(names.COMPUTE, "calc", expression))
        else:
            cmd.Cmd.onecmd(prompt, text)
    except Exception as exc:  # noqa: BLE001 - failure() re-raises what is not the call's
        parser = getattr(getattr(prompt, f"do_{command}", None), "parser", None)
        return failure(exc, parser.usage_line() if parser else "")
    return Outcome(True, prompt.stdout.getvalue().rstrip("\n"))


HOP = re.compile(r"(passed on from|skipped|complete at) (\S+)")
STEPS = {"passed on from": "passed", "skipped": "skipped", "complete at": "complete"}


@dataclass(frozen=True)
class Round:
    """A message's trip round the ring: the route as the nodes wrote it, each hop parsed."""

    route: list[str]
    hops: list[dict]
    ms: float


def hop(text: str) -> dict:
    """{"step": passed|skipped|complete|other, "node": K} of one route line."""
    match = HOP.fullmatch(text)
    if match is None:
        return {"step": "other", "node": None, "text": text}
    node = match.group(2)
    number = names.node_number(node)
    return {"step": STEPS[match.group(1)], "node": node if number is None else number,
            "text": text}


def send_round(prompt: WebConsole, start: int, message: str) -> Round | Outcome:
    """`message` round the ring from node `start`; an Outcome when it failed."""
    began = time.perf_counter()
    try:
        route = prompt.call(node_name(start), "process", [message])
    except Exception as exc:  # noqa: BLE001 - failure() re-raises what is not the call's
        return failure(exc)
    ms = (time.perf_counter() - began) * 1e3
    route = [str(item) for item in route] if isinstance(route, list) else [str(route)]
    return Round(route, [hop(item) for item in route], round(ms, 3))
