"""The console's calls into the system: the client library's, with the console's timeouts,
their results and errors made into what the JSON API answers."""

from __future__ import annotations

from dataclasses import dataclass

import Pyro4.errors

from pyro_objects.errors import (
    NAMES_TOPIC,
    RING_TOPIC,
    Error,
    Refused,
    SetupError,
    Unreachable,
    UsageError,
    hint_with,
)
from pyro_objects.library import Client, text_of
from pyro_objects.library.client import Observer
from pyro_objects.library.commands import (
    CALCULATOR,
    COMMANDS,
    evaluate_line,
    first_word,
    is_expression,
)

CALL_TIMEOUT = 5.0        # seconds any call from the console waits
RING_TIMEOUT = 15.0       # a message round the ring: a 3-node ring gives up within 12 s
MAX_INPUT = 1100          # characters: `calc ` and the evaluator's own limit of 1000, with room
# Where the console shows more about an error's topic.
POINTERS = {NAMES_TOPIC: "the Overview page shows what is registered and what answers",
            RING_TOPIC: "the Ring page shows which nodes are up"}
# The language's commands that are not the calculator's, and the page that does their work.
ELSEWHERE = {"list": "the Overview page lists the names", "lookup": "the Overview page",
             "ping": "the Overview page shows whether each name answers",
             "chain": "the Ring page sends a message round the ring",
             "pi": "the π page runs π over the workers", "chat": "the Chat page",
             "say": "the Chat page posts to a room"}
CALCULATOR_HINT = f"type an expression such as 5 + 3 * 2, or one of: {', '.join(CALCULATOR)}"


def console_client(observer: Observer | None = None) -> Client:
    """The console's client: proxies per web thread, every call bounded."""
    return Client(timeout=CALL_TIMEOUT, ring_timeout=RING_TIMEOUT, observer=observer)


@dataclass(frozen=True)
class Outcome:
    """What a command gave: `output` is the result as text, or the error's message; `status`
    the HTTP status that goes with it."""

    ok: bool
    output: str
    hint: str = ""
    status: int = 200


def failure(exc: BaseException, usage: str = "") -> Outcome:
    """A failed call as the console reports it; raises what is not a failure of the call."""
    hint = hint_with(exc, POINTERS)
    if isinstance(exc, UsageError):
        return Outcome(False, f"{exc}; usage: {usage}" if usage else str(exc), hint, 400)
    if isinstance(exc, Refused):
        return Outcome(False, str(exc), hint, 422)
    if isinstance(exc, (SetupError, Unreachable)):
        return Outcome(False, str(exc), hint, 503)
    if isinstance(exc, Error):
        return Outcome(False, str(exc), hint, 502)
    if isinstance(exc, Pyro4.errors.PyroError):
        return Outcome(False, f"{type(exc).__name__}: {exc}", "", 502)
    if isinstance(exc, OSError):  # e.g. no network to look for a name server on
        return Outcome(False, f"{type(exc).__name__}: {exc}", "", 503)
    raise exc


def calculate(client: Client, text: str) -> Outcome:
    """Run one calculator line: `add 2 3`, `greet Ana`, `calc 5 + 3`, or a bare expression,
    as the prompt would."""
    word, _ = first_word(text)
    try:
        if word in ELSEWHERE and not is_expression(text):
            raise UsageError(f"{word!r} is not a calculator command", ELSEWHERE[word])
        _, value = evaluate_line(client, text, allowed=CALCULATOR, otherwise=CALCULATOR_HINT)
    except Exception as exc:  # noqa: BLE001 - failure() re-raises what is not the call's
        usage = COMMANDS[word].parser.usage_line() if word in CALCULATOR else ""
        return failure(exc, usage)
    return Outcome(True, text_of(value))
