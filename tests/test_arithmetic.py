"""The compute object's arithmetic, called through real proxies."""

import math

import pytest

from tests.support import proxy


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
])
def test_bad_arguments_get_a_clear_error_and_the_server_keeps_serving(compute, op, a, b, error,
                                                                      words):
    with pytest.raises(error, match=words):
        getattr(compute, op)(a, b)
    assert compute.add(1, 1) == 2
