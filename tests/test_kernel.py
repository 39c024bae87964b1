"""pi_slice: the Leibniz partial sums against exact references."""

import math
import random
from fractions import Fraction

import pytest

from bench.pi import pi_slice_python
from compute.kernel import MAX_TERMS_PER_CALL, pi_slice
from tests.support import proxy

pytestmark = pytest.mark.timeout(60)  # the slowest takes ~3 s; a runaway loop fails fast


def exact(a: int, b: int) -> Fraction:
    return sum((Fraction((-1) ** n, 2 * n + 1) for n in range(a, b)), Fraction(0))


def relative_error(value: float, reference) -> float:
    reference = Fraction(reference)
    return abs(float((Fraction(value) - reference) / reference)) if reference else abs(value)


@pytest.mark.parametrize("a, b", [
    (0, 1), (0, 2), (1, 2), (1, 4), (2, 7), (3, 3), (0, 0), (0, 1000), (5, 1001),
    (999, 3000), (12_345, 14_000), (0, 40_000),
])
def test_pi_slice_matches_the_exact_rational_sum(a, b):
    assert relative_error(pi_slice(a, b), exact(a, b)) <= 1e-15


def fsum_reference(a: int, b: int) -> float:
    """math.fsum of correctly rounded terms; far from 0 the terms cancel, so neighbours are
    paired exactly in integers first: 1/(2n+1) - 1/(2n+3) = 2/((2n+1)(2n+3)) for even n."""
    singles = []
    if a % 2:
        singles, a = [-1 / (2 * a + 1)], a + 1
    if (b - a) % 2:
        singles, b = singles + [1 / (2 * b - 1)], b - 1
    pairs = (2 / ((2 * n + 1) * (2 * n + 3)) for n in range(a, b, 2))
    return math.fsum([*singles, *pairs])


@pytest.mark.parametrize("seed", range(6))
def test_pi_slice_matches_fsum_over_large_random_ranges(seed):
    rng = random.Random(seed)
    a = rng.randrange(0, 10**12)
    b = a + rng.randrange(1, 10**6)
    assert relative_error(pi_slice(a, b), fsum_reference(a, b)) <= 1e-15


def test_pi_slice_sums_split_anywhere_agree():
    whole = pi_slice(0, 10**6)
    parts = [pi_slice(0, 333_333), pi_slice(333_333, 700_001), pi_slice(700_001, 10**6)]
    assert relative_error(math.fsum(parts), whole) <= 1e-15


def test_four_times_the_sum_approaches_pi_within_the_truncation_bound():
    n = 10**7
    assert abs(4 * pi_slice(0, n) - math.pi) <= 1 / n


def test_python_reference_loop_agrees_with_the_kernel():
    assert relative_error(pi_slice_python(10, 20_011), exact(10, 20_011)) <= 1e-13


@pytest.mark.parametrize("a, b, error, words", [
    (1.0, 2, TypeError, "a must be an int"),
    (0, "9", TypeError, "b must be an int"),
    (True, 2, TypeError, "a must be an int .got bool"),
    (None, 2, TypeError, "a must be an int"),
    (-1, 2, ValueError, "a must be >= 0"),
    (10, 2, ValueError, "b must be >= a .got a=10, b=2"),
    (0, 2**60, ValueError, "b must be <= 2\\*\\*50"),
    (0, MAX_TERMS_PER_CALL + 1, ValueError, "split the range"),
])
def test_pi_slice_refuses_bad_ranges_through_the_server(system, a, b, error, words):
    with proxy(system, "example.compute") as compute:
        with pytest.raises(error, match=words):
            compute.pi_slice(a, b)
        assert compute.pi_slice(0, 1) == 1.0
