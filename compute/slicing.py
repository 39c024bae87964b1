"""Cutting [0, N) into slices for workers: sizes that adapt to each worker's speed."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from compute.kernel import MAX_TERMS_PER_CALL

FIRST_SLICE = 10_000_000      # a first measurement of a worker's speed, cheaply
MIN_SLICE = 1_000_000
TARGET_SECONDS = 0.25         # a round trip is then a small share of a slice; Ctrl-C waits
                              # for at most one slice per worker
MAX_SLICES = 10_000           # a fixed slice size may cut a run into at most this many: each
                              # slice is a round trip, and one run blocks the console's queue


@dataclass(frozen=True)
class Slice:
    """Terms start..stop-1 of the series."""

    start: int
    stop: int

    @property
    def terms(self) -> int:
        return self.stop - self.start


def next_size(terms_per_second: float | None, fixed: int | None = None) -> int:
    """How many terms the next slice of a worker running at `terms_per_second` gets."""
    if fixed:
        return fixed
    if not terms_per_second:
        return FIRST_SLICE
    return int(min(MAX_TERMS_PER_CALL, max(MIN_SLICE, terms_per_second * TARGET_SECONDS)))


def check_slice(terms: int, slice_terms: int | None) -> None:
    """Refuse a fixed slice size that would cut `terms` into more than MAX_SLICES slices."""
    least = -(-terms // MAX_SLICES)
    if slice_terms is not None and slice_terms < least:
        raise ValueError(f"slice must be at least {least} for {terms} terms: at most "
                         f"{MAX_SLICES} slices a run (got {slice_terms})")


class SliceQueue:
    """Hands out slices of [0, terms) in order; slices given back are handed out first."""

    def __init__(self, terms: int) -> None:
        self.terms = terms
        self._next = 0
        self._returned: deque[Slice] = deque()
        self._lock = threading.Lock()

    def take(self, size: int) -> Slice | None:
        """The next slice of at most `size` new terms, or None when all are handed out."""
        with self._lock:
            if self._returned:
                return self._returned.popleft()
            if self._next >= self.terms:
                return None
            piece = Slice(self._next, min(self.terms, self._next + size))
            self._next = piece.stop
            return piece

    def give_back(self, piece: Slice) -> None:
        """Return a slice whose worker failed, to be handed out again."""
        with self._lock:
            self._returned.append(piece)
