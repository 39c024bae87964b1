"""Errors that a command-line entry point reports as one line plus a hint."""

from __future__ import annotations


class SetupError(Exception):
    """Something outside the program is missing or misconfigured; `hint` says what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class NameServerNotFound(SetupError):
    """No Pyro4 name server answers at the configured location."""
