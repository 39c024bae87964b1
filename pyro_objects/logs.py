"""Logging set-up, done once by each entry point."""

from __future__ import annotations

import logging
import os

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def setup(level: str | None = None) -> None:
    """Log to stderr at `level`, else $LOG_LEVEL, else INFO."""
    chosen = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=chosen, format=FORMAT)
    # Pyro4 logs every connection at INFO and every refused connect at ERROR, though callers
    # here handle those; show them only when asked for DEBUG.
    if chosen == "DEBUG":  # Pyro4 silences itself on import unless PYRO_LOGLEVEL is set
        logging.getLogger("Pyro4").setLevel(logging.DEBUG)
    else:
        logging.getLogger("Pyro4").setLevel(logging.WARNING)
        logging.getLogger("Pyro4.core").setLevel(logging.CRITICAL)
