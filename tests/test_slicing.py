"""Slicing [0, N): every term handed out exactly once, failed slices first, sizes adapt."""

import pytest

from compute.kernel import MAX_TERMS_PER_CALL
from compute.slicing import FIRST_SLICE, MIN_SLICE, TARGET_SECONDS, SliceQueue, next_size

pytestmark = pytest.mark.timeout(10)  # a slice lost or handed out forever fails in seconds


def test_slices_cover_the_range_once_in_order():
    queue, pieces = SliceQueue(1000), []
    while (piece := queue.take(300)) is not None:
        pieces.append((piece.start, piece.stop))
    assert pieces == [(0, 300), (300, 600), (600, 900), (900, 1000)]


def test_a_slice_given_back_is_handed_out_next_and_whole():
    queue = SliceQueue(1000)
    first = queue.take(400)
    queue.take(400)
    queue.give_back(first)
    assert queue.take(10) == first
    assert (queue.take(400).start, queue.take(400)) == (800, None)


def test_slice_size_follows_the_measured_rate_within_bounds():
    assert next_size(None) == FIRST_SLICE
    assert next_size(1e9) == int(1e9 * TARGET_SECONDS)
    assert next_size(1.0) == MIN_SLICE
    assert next_size(1e12) == MAX_TERMS_PER_CALL
    assert next_size(1e9, fixed=12345) == 12345
