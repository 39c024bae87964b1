"""The project's errors: each carries a hint saying what to do next and the exit code it means.

Remote objects raise Python's own exceptions (TypeError, ValueError, ...) at their boundary, as
any Pyro4 client expects; these are for the programs around them.
"""

from __future__ import annotations


def caused_by(exc: BaseException | None, kinds: type | tuple[type, ...]) -> bool:
    """Whether `exc`, or an exception it was raised from or while handling, is of `kinds`."""
    while exc is not None:
        if isinstance(exc, kinds):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class Error(Exception):
    """Base of the project's errors; `hint` says what to do next, in words that fit every
    front end; `topic` names what a front end can point to for more (TOPICS)."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "", topic: str = "") -> None:
        super().__init__(message)
        self.hint = hint
        self.topic = topic


# What an error's `topic` may name: each front end says where its user sees it.
NAMES_TOPIC = "names"    # what is registered, and whether it answers
RING_TOPIC = "ring"      # the ring's nodes
TOPICS = (NAMES_TOPIC, RING_TOPIC)


def hint_with(exc: BaseException, pointers: dict[str, str]) -> str:
    """`exc`'s hint, followed by where this front end shows more on its topic (`pointers`)."""
    hint = getattr(exc, "hint", "")
    pointer = pointers.get(getattr(exc, "topic", ""), "")
    return "; ".join(part for part in (hint, pointer) if part)


class UsageError(Error):
    """A command or option was given wrongly."""

    exit_code = 2


class SetupError(Error):
    """Something outside the program is missing or misconfigured."""

    exit_code = 2


class NameServerNotFound(SetupError):
    """No Pyro4 name server answers at the configured location."""


class NotRegistered(SetupError):
    """No object is registered under the name asked for."""


class NoWorkersError(SetupError):
    """No compute worker answers, or every one failed during the run."""


class StartError(SetupError):
    """A process of the system did not come up."""


class Unreachable(Error):
    """A remote object did not answer: stopped, cut off, or too slow."""


class NotAWorker(Error):
    """An object registered as a compute worker does not speak the worker protocol."""


class Refused(Error):
    """A remote object refused the call (bad arguments) or failed it; `__cause__` is its error."""


class TimedOut(Error):
    """Work did not finish within its deadline."""


class Cancelled(Error):
    """The user interrupted the work (Ctrl-C); the message says what was done."""

    exit_code = 130
