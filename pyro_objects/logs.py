"""Logging set-up, done once by each entry point."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def setup(level: str | None = None) -> None:
    """Log to stderr at `level`, else $LOG_LEVEL, else INFO."""
    chosen = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=chosen, format=FORMAT, handlers=[TerminalHandler()])
    # Pyro4 logs every connection at INFO and every refused connect at ERROR, though callers
    # here handle those; show them only when asked for DEBUG.
    if chosen == "DEBUG":  # Pyro4 silences itself on import unless PYRO_LOGLEVEL is set
        logging.getLogger("Pyro4").setLevel(logging.DEBUG)
    else:
        logging.getLogger("Pyro4").setLevel(logging.WARNING)
        logging.getLogger("Pyro4.core").setLevel(logging.CRITICAL)


class TerminalHandler(logging.StreamHandler):
    """A stderr handler that lets a line being drawn on the terminal (a progress bar, a chat
    prompt) step aside for each record: cleared before it, drawn again after it."""

    owner: tuple[Callable[[], None], Callable[[], None]] | None = None
    owner_lock = threading.RLock()  # held by the owner while it draws, and around a record

    def emit(self, record: logging.LogRecord) -> None:
        with self.owner_lock:
            owner = TerminalHandler.owner
            if owner is not None:
                owner[0]()
            super().emit(record)
            if owner is not None:
                owner[1]()


@contextlib.contextmanager
def stepping_aside(clear: Callable[[], None], redraw: Callable[[], None]) -> Iterator[None]:
    """While the block runs, a log record first calls `clear()` (take the drawn line off),
    then `redraw()` (put it back). Draw under TerminalHandler.owner_lock."""
    with TerminalHandler.owner_lock:
        TerminalHandler.owner = (clear, redraw)
    try:
        yield
    finally:
        with TerminalHandler.owner_lock:
            TerminalHandler.owner = None
