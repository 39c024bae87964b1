"""The compute object's arithmetic: checked locally, and called through real proxies."""

import math
import re

import pytest

from compute.arithmetic import MAX_QUOTE, apply, quote
from tests.support import proxy

pytestmark = pytest.mark.timeout(60)  # a missing bound fails in seconds, not at the default

BIGGEST = 10**4000 - 1  # the largest int of 4000 digits


def short_id(value):
    """Test ids that stay readable for 4000-digit parameters."""
    return quote(value)[:40] if isinstance(value, int) else None


@pytest.fixture(scope="module")
def compute(system):
    with proxy(system, "example.compute") as p:
        yield p


@pytest.mark.parametrize("op, a, b, expected", [
    ("add", 2, 3, 5),
    ("add", 0.1, 0.2, 0.1 + 0.2),
    ("add", 2**200, 1, 2**200 + 1),
    ("sub", 10, 4.5, 5.5),
    ("sub", -3, -3, 0),
    ("mul", 6, 7, 42),
    ("mul", -1.5, 4, -6.0),
    ("div", 1, 3, 1 / 3),
    ("div", 10, 4, 2.5),
    ("div", -9, 3, -3.0),
    ("pow", 2, 100, 2**100),
    ("pow", 2, -2, 0.25),
    ("pow", 9.0, 0.5, 3.0),
    ("mod", 17, 5, 2),
    ("mod", -7, 3, 2),
    ("mod", 7.5, 2, 1.5),
])
def test_arithmetic_gives_exact_python_results(compute, op, a, b, expected):
    result = getattr(compute, op)(a, b)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("op, a, b, error, words", [
    ("add", "2", 3, TypeError, "a must be an int or a float"),
    ("add", 2, None, TypeError, "b must be an int or a float"),
    ("mul", True, 2, TypeError, "a must be an int or a float .got bool"),
    ("sub", [1], 2, TypeError, "a must be an int or a float"),
    ("add", math.nan, 1, ValueError, "a must be a finite number"),
    ("mul", 1, math.inf, ValueError, "b must be a finite number"),
    ("add", 2**14000, 1, ValueError, "a must have at most 4000 digits"),
    ("div", 1, 0, ZeroDivisionError, "b must not be zero for div"),
    ("div", 1.0, 0.0, ZeroDivisionError, "b must not be zero for div"),
    ("mod", 5, 0, ZeroDivisionError, "b must not be zero for mod"),
    ("pow", 0, -1, ZeroDivisionError, "b must be >= 0 when a is zero"),
    ("pow", 9, 9**9, ValueError, "would have more than 4000 digits"),
    ("pow", 10.0, 400, ValueError, "too large for a float"),
    ("pow", -8, 0.5, ValueError, "not a real number"),
    ("mul", 1e308, 10, ValueError, "result must be a finite number"),
    ("div", 2**5000, 3, ValueError, "too large for a float"),
    ("add", 10**4000, 0, ValueError, r"^a must have at most 4000 digits \(got 1000000000…"),
    ("sub", 1, -(10**4000), ValueError, r"^b must have at most 4000 digits \(got -1000000000…"),
    ("add", BIGGEST, 1, ValueError, r"result must have at most 4000 digits \(got 1000000000…"),
    ("pow", 10, 4000, ValueError, "result must have at most 4000 digits"),
    ("pow", 2, 10**3999, ValueError, "would have more than 4000 digits"),
], ids=short_id)
def test_bad_arguments_get_a_clear_error_and_the_server_keeps_serving(compute, op, a, b, error,
                                                                      words):
    with pytest.raises(error, match=words):
        getattr(compute, op)(a, b)
    assert compute.add(1, 1) == 2


@pytest.mark.parametrize("op, a, b, expected", [
    ("add", BIGGEST - 1, 1, BIGGEST),
    ("sub", -BIGGEST + 1, 1, -BIGGEST),
    ("mul", BIGGEST, 1, BIGGEST),
    ("mul", BIGGEST, -1, -BIGGEST),
    ("pow", 10, 3999, 10**3999),
    ("pow", 2, 13287, 2**13287),
    ("pow", -1, BIGGEST, -1),
    ("mod", BIGGEST, 10**3999, 10**3999 - 1),
], ids=short_id)
def test_4000_digits_means_4000_digits(compute, op, a, b, expected):
    assert apply(op, a, b) == expected
    assert getattr(compute, op)(a, b) == expected


@pytest.mark.parametrize("op, a, b, rule", [
    ("pow", 9, 9**9, "would have more than"),  # refused before it is computed
    ("pow", 2, 10**3999, "would have more than"),
    ("pow", 10**3999, 2, "would have more than"),
    ("pow", 10, 4000, "result must have at most"),  # computed, then refused: exactly 10**4000
    ("pow", 2, 13288, "would have more than"),
    ("add", BIGGEST, 1, "result must have at most"),
    ("mul", 10**3999, 10**3999, "result must have at most"),
    ("add", 10**4000, 1, "a must have at most"),
], ids=short_id)
def test_ints_over_4000_digits_are_refused(op, a, b, rule):
    with pytest.raises(ValueError, match=f"{rule} 4000 digits"):
        apply(op, a, b)


@pytest.mark.parametrize("op, a, b", [
    ("mul", 10**3999, 10**3999),
    ("div", -(10**3999), 0),
    ("pow", 10**3999, 10**3999),
    ("pow", -(10**3999), 0.5),
    ("pow", 0, -(10**3999)),
    ("add", 10**3999, 1e308),
    ("div", 10**4200, 1),
], ids=short_id)
def test_errors_quote_at_most_100_characters_of_an_operand(compute, op, a, b):
    with pytest.raises((ValueError, ArithmeticError)) as local:
        apply(op, a, b)
    with pytest.raises(type(local.value)) as remote:
        getattr(compute, op)(a, b)
    for message in (str(local.value), str(remote.value)):
        assert not re.search(rf"\d{{{MAX_QUOTE + 1}}}", message), message[:300]
        assert len(message) < 300, message[:300]
