"""A one-line progress bar with ETA, drawn on a terminal only for runs longer than a second;
log lines that come meanwhile are printed above it, never inside it."""

from __future__ import annotations

import sys
from typing import TextIO

from pyro_objects import logs

WIDTH = 30
SHOW_AFTER_SECONDS = 1.0


class ProgressBar:
    """Callable as a coordinator's progress callback: (done, total, seconds). Use it as a
    context manager: on leaving, the bar's line is cleared."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.line = ""  # what is drawn now
        self._aside = logs.stepping_aside(self.clear, self.redraw)

    def __enter__(self) -> ProgressBar:
        self._aside.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._aside.__exit__(*exc_info)
        self.finish()

    def __call__(self, done: int, total: int, seconds: float) -> None:
        if not self.enabled or seconds < SHOW_AFTER_SECONDS or not total:
            return
        share = done / total
        eta = f"ETA {seconds * (1 - share) / share:5.1f}s" if done else "ETA    ?"
        filled = int(WIDTH * share)
        with logs.TerminalHandler.owner_lock:
            self.line = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {share:6.1%} {eta}"
            self.redraw()

    def clear(self) -> None:
        """Take the bar off its line (the cursor at the line's start)."""
        if self.line:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def redraw(self) -> None:
        if self.line:
            self.stream.write(f"\r{self.line}")
            self.stream.flush()

    def finish(self) -> None:
        """Clear the bar's line for good."""
        with logs.TerminalHandler.owner_lock:
            self.clear()
            self.line = ""
