"""Generated bad input fired at every remote method through real proxies.

Each property runs 1000 examples: every bad input must get a clear exception (TypeError,
ValueError or ArithmeticError, never a crash, a stall or an internal error) and the server
must answer a normal call afterwards, with its memory bounded.
"""

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.arithmetic import MAX_INT_DIGITS
from tests.support import proxy

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
CLEAR_ERRORS = (TypeError, ValueError, ArithmeticError)
MAX_RSS_GROWTH_MB = 200

# Whatever the wire can carry: serpent sends ints of up to ~4300 digits.
scalars = (st.none() | st.booleans() | st.integers(-10**4200, 10**4200)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
           | st.binary(max_size=40))
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                        max_leaves=12)


def could_be_a_number(value) -> bool:
    """Finite floats and ints of up to about MAX_INT_DIGITS digits (the border is blurred on
    purpose: only values that are surely bad are generated as bad)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and (
        abs(value) < 10 ** (MAX_INT_DIGITS + 1))


bad_numbers = anything.filter(lambda v: not could_be_a_number(v)) | st.sampled_from(
    [math.nan, math.inf, -math.inf, True, False, 10 ** (MAX_INT_DIGITS + 100), "1", None])
bad_pairs = st.tuples(bad_numbers, anything) | st.tuples(anything, bad_numbers)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
    return int(rss_kb) / 1024


@pytest.fixture(scope="module")
def compute(system):
    with proxy(system, "example.compute") as p:
        p._pyroSerializer = "serpent"  # carries more types than json: more ways to be hostile
        yield p


@pytest.fixture(scope="module")
def greeter(system):
    with proxy(system, "server") as p:
        p._pyroSerializer = "serpent"
        yield p


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
       st.sampled_from(["add", "sub", "mul", "div", "pow", "mod"]))
def test_arithmetic_on_generated_numbers_answers_or_refuses_clearly(compute, a, b, op):
    try:
        getattr(compute, op)(a, b)
    except CLEAR_ERRORS:
        pass


@FUZZ
@given(anything.filter(lambda v: not (isinstance(v, str) and 0 < len(v) <= 200 and v.strip())))
def test_greeting_refuses_every_bad_name_clearly(greeter, name):
    with pytest.raises(CLEAR_ERRORS, match=r"^name must"):
        greeter.welcomeMessage(name)


numbers_text = st.integers(0, 10**6).map(str) | st.floats(0, 1e6).map(repr) | st.sampled_from(
    ["9", "99", "1e308", "0", "pi", "e", "x", "__import__", "''", "[]", "()"])
expressions = st.recursive(numbers_text, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", " if ", ".", ","]),
              inner).map("".join),
    inner.map(lambda e: f"({e})"),
    inner.map(lambda e: f"-{e}"),
    st.tuples(st.sampled_from(["sqrt", "exp", "log", "abs", "round", "eval", "open", "getattr"]),
              inner).map(lambda t: f"{t[0]}({t[1]})"),
), max_leaves=30)


@FUZZ
@given(expressions | st.text(max_size=300) | anything)
def test_calc_answers_or_refuses_every_generated_expression_clearly(compute, expression):
    try:
        result = compute.calc(expression)
    except CLEAR_ERRORS:
        return
    assert isinstance(result, (int, float)) and not isinstance(result, bool)


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
