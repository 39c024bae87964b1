"""Slicing [0, N): every term handed out exactly once, failed slices first, sizes adapt."""

import pytest

from compute.kernel import MAX_TERMS_PER_CALL
from compute.slicing import (
    FIRST_SLICE,
    MAX_SLICES,
    MIN_SLICE,
    TARGET_SECONDS,
    SliceQueue,
    check_slice,
    next_size,
)

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


@pytest.mark.parametrize(("terms", "slice_terms"), [
    (10**9, 10**9 // MAX_SLICES), (10**9 + 1, 10**9 // MAX_SLICES + 1), (5, 1), (10**9, None)])
def test_a_fixed_slice_may_cut_a_run_into_at_most_max_slices(terms, slice_terms):
    check_slice(terms, slice_terms)


@pytest.mark.parametrize(("terms", "slice_terms", "least"), [
    (10**9, 1, 100_000), (10**9, 99_999, 100_000), (10**9 + 1, 10**9 // MAX_SLICES, 100_001)])
def test_a_fixed_slice_that_would_cut_a_run_too_fine_is_refused(terms, slice_terms, least):
    with pytest.raises(ValueError) as refused:
        check_slice(terms, slice_terms)
    assert str(refused.value) == (f"slice must be at least {least} for {terms} terms: at most "
                                  f"{MAX_SLICES} slices a run (got {slice_terms})")
