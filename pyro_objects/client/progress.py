"""A one-line progress bar with ETA, drawn on a terminal only for runs longer than a second."""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30
SHOW_AFTER_SECONDS = 1.0


class ProgressBar:
    """Callable as a coordinator's progress callback: (done, total, seconds)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.drawn = False

    def __call__(self, done: int, total: int, seconds: float) -> None:
        if not self.enabled or seconds < SHOW_AFTER_SECONDS or not total:
            return
        share = done / total
        eta = f"ETA {seconds * (1 - share) / share:5.1f}s" if done else "ETA    ?"
        filled = int(WIDTH * share)
        self.stream.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {share:6.1%} {eta}")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        """Clear the bar's line, if one was drawn."""
        if self.drawn:
            self.stream.write("\r" + " " * (WIDTH + 24) + "\r")
            self.stream.flush()
