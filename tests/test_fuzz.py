"""Generated bad input fired at every remote method through real proxies.

Each property runs 1000 examples: every bad input must get a clear exception (TypeError,
ValueError or ArithmeticError, never a crash, a stall or an internal error) and the server
must answer a normal call afterwards, with its memory bounded.
"""

import math
import operator
import re
from pathlib import Path

import Pyro4.errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.arithmetic import MAX_INT_DIGITS, MAX_QUOTE, quote
from compute.expression import FUNCTIONS, evaluate
from tests.support import proxy

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
CLEAR_ERRORS = (TypeError, ValueError, ArithmeticError)
MAX_RSS_GROWTH_MB = 200
CALL_TIMEOUT = 10.0  # every answer takes milliseconds
PYTHON = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow, "mod": operator.mod}

# Whatever the wire can carry: serpent sends ints of up to ~4300 digits.
scalars = (st.none() | st.booleans() | st.integers(-10**4200, 10**4200)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
           | st.binary(max_size=40))
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                        max_leaves=12)


def is_a_number(value) -> bool:
    """Finite floats and ints of at most MAX_INT_DIGITS digits."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and (
        abs(value) < 10**MAX_INT_DIGITS)


bad_numbers = anything.filter(lambda v: not is_a_number(v)) | st.sampled_from(
    [math.nan, math.inf, -math.inf, True, False, 10**MAX_INT_DIGITS, -(10**MAX_INT_DIGITS),
     10 ** (MAX_INT_DIGITS + 100), "1", None])
bad_pairs = st.tuples(bad_numbers, anything) | st.tuples(anything, bad_numbers)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
    return int(rss_kb) / 1024


class ServerStuck(AssertionError):
    """A call got no answer; every later call fails at once with the same message."""


class Breaker:
    """A proxy that fails at once after a call went unanswered, so that a stuck server ends
    a property in seconds: Hypothesis replays and shrinks, CALL_TIMEOUT per call otherwise."""

    def __init__(self, proxy) -> None:
        self._proxy, self._stuck = proxy, ""

    def __getattr__(self, name: str):
        method = getattr(self._proxy, name)

        def call(*args):
            if not self._stuck:
                try:
                    return method(*args)
                except Pyro4.errors.CommunicationError as exc:
                    self._stuck = f"{name}({', '.join(map(quote, args))}) got no answer: {exc}"
            raise ServerStuck(self._stuck)

        return call


@pytest.fixture(scope="module")
def compute(system):
    with proxy(system, "example.compute", timeout=CALL_TIMEOUT) as p:
        p._pyroSerializer = "serpent"  # carries more types than json: more ways to be hostile
        yield Breaker(p)


@pytest.fixture(scope="module")
def greeter(system):
    with proxy(system, "server", timeout=CALL_TIMEOUT) as p:
        p._pyroSerializer = "serpent"
        yield Breaker(p)


@pytest.fixture(autouse=True)
def server_stays_healthy(system, compute):
    pid = system.processes["pyro_server"].pid
    before = rss_mb(pid)
    yield
    assert compute.add(2, 3) == 5
    assert rss_mb(pid) - before < MAX_RSS_GROWTH_MB


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "mod"])
def test_arithmetic_refuses_every_bad_argument_clearly(compute, op):
    @FUZZ
    @given(bad_pairs)
    def fire(pair):
        with pytest.raises(CLEAR_ERRORS, match=r"^(a|b) must"):
            getattr(compute, op)(*pair)

    fire()


@FUZZ
@given(st.integers(-10**30, 10**30) | st.floats(allow_nan=False, allow_infinity=False),
       st.integers(-10**30, 10**30) | st.floats(allow_nan=False, allow_infinity=False),
       st.sampled_from(sorted(PYTHON)))
def test_arithmetic_on_generated_numbers_answers_or_refuses_clearly(compute, a, b, op):
    try:
        result = getattr(compute, op)(a, b)
    except CLEAR_ERRORS:
        return
    expected = PYTHON[op](a, b)  # safe to compute here: the server did, within its bounds
    assert type(result) is type(expected)
    if isinstance(expected, float):
        assert math.isclose(result, expected, rel_tol=1e-15), (result, expected)
    else:
        assert result == expected


@FUZZ
@given(anything.filter(lambda v: not (isinstance(v, str) and 0 < len(v) <= 200 and v.strip())))
def test_greeting_refuses_every_bad_name_clearly(greeter, name):
    with pytest.raises(CLEAR_ERRORS, match=r"^name must"):
        greeter.welcomeMessage(name)


# Numbers at and beyond every bound: the digit limit, what a float holds, exp's and round's.
numbers_text = st.one_of(
    st.sampled_from([
        "9", "99", "0", "1", "-1", "2.5", "0.5", "1e308", "-1e308", "1.7976931348623157e308",
        "5e-324", "709.78", "710", "4000", "-4000", "4001", "-10**4", "-10**30", "10**30",
        "10**400", "-10**400", "10**3999", "-10**3999", "9**4000", "10**4000", "10**4000 - 1",
        "9 * 10**3999 + (10**3999 - 1)", "2**13287", "2**13288", "9**9**9", "2**1024",
        "1" * 4001, str(-(10**4000)), "pi", "e", "tau", "x", "__import__", "''", "[]", "()",
        "1j", "True", "None",
    ]),
    st.integers(-(10**6), 10**6).map(str),
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-4100, 4100).map(lambda n: f"10**{n}" if n >= 0 else f"-10**{-n}"),
)
function_names = st.sampled_from([*FUNCTIONS, "eval", "open", "getattr", "pow", "max", "exec"])


def calls(arguments):
    """f(x) and f(x, y) for every function calc knows and a few it must not."""
    return (st.tuples(function_names, arguments).map(lambda t: f"{t[0]}({t[1]})")
            | st.tuples(function_names, arguments, arguments).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"))


expressions = calls(numbers_text) | st.recursive(
    numbers_text | calls(numbers_text), lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", " if ", ".", ","]),
                  inner).map("".join),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"-{e}"),
        calls(inner),
    ), max_leaves=30)


def answers_or_refuses_clearly(compute, expression) -> None:
    """calc answers with what the evaluator gives here, or refuses with a clear error that
    quotes no operand at length."""
    try:
        result = compute.calc(expression)
    except CLEAR_ERRORS as exc:
        message = str(exc)
        assert not re.search(rf"\d{{{MAX_QUOTE + 1}}}", message), message[:300]
        return
    assert is_a_number(result)
    expected = evaluate(expression)  # the same evaluator, here: the answer travelled intact
    assert type(result) is type(expected)
    assert result == expected or math.isclose(result, expected, rel_tol=1e-15)


@FUZZ
@given(expressions | st.text(max_size=300) | anything)
def test_calc_answers_or_refuses_every_generated_expression_clearly(compute, expression):
    answers_or_refuses_clearly(compute, expression)


# Every bound the FUNCTIONS table declares, a step either side, and hostile values.
BOUNDS_TEXT = sorted({
    repr(value) for function in FUNCTIONS.values() for param in function.params
    for edge in (param.low, param.high, *param.excluded) if edge is not None
    for value in (edge, math.floor(edge) - 1, math.floor(edge) + 1)
} | {"0", "-0.0", "0.5", "2.5", "-1e308", "1e308", "10**30", "-10**30", "10**3999",
     "-10**3999", "9**4000", "-9**4000", "10**4000", "pi"})


@FUZZ
@given(st.sampled_from(sorted(FUNCTIONS)),
       st.lists(st.sampled_from(BOUNDS_TEXT), min_size=1, max_size=2))
def test_calc_answers_or_refuses_every_function_at_its_bounds_clearly(compute, name, arguments):
    answers_or_refuses_clearly(compute, f"{name}({', '.join(arguments)})")


@FUZZ
@given(anything | st.lists(st.text(max_size=1100), max_size=300))
def test_ring_nodes_answer_or_refuse_every_generated_message_clearly(system, message):
    with proxy(system, "example.chainTopology.1") as node:
        node._pyroSerializer = "serpent"
        try:
            route = node.process(message)
        except CLEAR_ERRORS:
            return
    assert route[0] == "passed on from 1" or route == ["complete at 1"]


bad_ranges = st.one_of(
    bad_pairs,
    st.tuples(st.integers(max_value=-1), st.integers()),
    st.tuples(st.integers(1, 2**60), st.integers(0, 2**60)).filter(lambda p: p[1] < p[0]),
    st.tuples(st.integers(0, 2**49), st.integers(2_000_000_001, 2**52)).filter(
        lambda p: p[1] - p[0] > 2_000_000_000),
    st.tuples(st.integers(0, 10), st.floats()),
)


@FUZZ
@given(bad_ranges)
def test_pi_slice_refuses_every_bad_range_clearly(compute, pair):
    with pytest.raises(CLEAR_ERRORS, match=r"^(a|b|b - a) must"):
        compute.pi_slice(*pair)
