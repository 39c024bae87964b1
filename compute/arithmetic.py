"""Binary arithmetic on ints and floats with every argument and result checked."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

Number = int | float

# Results travel as text (serpent writes ints in decimal) and Python refuses to print ints of
# more than 4300 digits, so integers stay below that.
MAX_INT_DIGITS = 4000
INT_LIMIT = 10**MAX_INT_DIGITS  # the smallest int with too many digits
MAX_QUOTE = 100  # characters of an operand quoted in an error message
LEAD_DIGITS = 10


@dataclass(frozen=True)
class Operation:
    """A binary operation: its name (the remote method and the client command), its symbol
    (in `calc` expressions) and what it computes."""

    name: str
    symbol: str
    doc: str
    func: Callable[[Number, Number], Number]


OPERATIONS = {op.name: op for op in (
    Operation("add", "+", "a + b", operator.add),
    Operation("sub", "-", "a - b", operator.sub),
    Operation("mul", "*", "a * b", operator.mul),
    Operation("div", "/", "a / b (true division)", operator.truediv),
    Operation("floordiv", "//", "a // b (floor division)", operator.floordiv),
    Operation("mod", "%", "a % b (remainder)", operator.mod),
    Operation("pow", "**", "a ** b", operator.pow),
)}
DIVISIONS = {"div", "floordiv", "mod"}


def quote(value: object) -> str:
    """repr(value) in at most about MAX_QUOTE characters: `1234567890…(4000 digits)`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _quote_int(value)
    text = repr(value)
    if len(text) <= MAX_QUOTE:
        return text
    return f"{text[:MAX_QUOTE - 20]}…({len(text)} characters)"


def _quote_int(value: int) -> str:
    magnitude = abs(value)
    if magnitude.bit_length() <= 300:  # at most 91 digits
        return str(value)
    # Only the leading digits are turned into text: str() of a big int is slow, and refused
    # beyond 4300 digits. magnitude >= 2**(bits - 1) >= 10**estimate.
    estimate = int((magnitude.bit_length() - 1) * math.log10(2))
    dropped = estimate - 2 * LEAD_DIGITS
    lead = str(magnitude // 10**dropped)
    sign = "-" if value < 0 else ""
    return f"{sign}{lead[:LEAD_DIGITS]}…({dropped + len(lead)} digits)"


def check_number(name: str, value: object) -> Number:
    """`value` if it is a finite int or float of allowed size, else TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be an int or a float (got {type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (got {value!r})")
    if isinstance(value, int) and not -INT_LIMIT < value < INT_LIMIT:
        raise ValueError(f"{name} must have at most {MAX_INT_DIGITS} digits "
                         f"(got {quote(value)})")
    return value


def apply(op: str, a: object, b: object) -> Number:
    """a <op> b for an op in OPERATIONS; errors name the argument and the rule."""
    a, b = check_number("a", a), check_number("b", b)
    if op in DIVISIONS and b == 0:
        raise ZeroDivisionError(f"b must not be zero for {op} (got a={quote(a)}, b={quote(b)})")
    if op == "pow":
        _check_power(a, b)
    # With both operands bounded, every operator but pow costs microseconds at most, so the
    # result is computed and then checked.
    try:
        result = OPERATIONS[op].func(a, b)
    except OverflowError as exc:
        raise ValueError(f"{op}({quote(a)}, {quote(b)}) is too large for a float "
                         f"({exc})") from None
    if isinstance(result, complex):
        raise ValueError(f"pow of a negative a to a fractional b is not a real number "
                         f"(got a={quote(a)}, b={quote(b)})")
    try:
        return check_number("result", result)
    except ValueError as exc:
        raise ValueError(f"{op}({quote(a)}, {quote(b)}): {exc}") from None


def _check_power(a: Number, b: Number) -> None:
    """Refuse, before computing it, an int power surely over MAX_INT_DIGITS digits."""
    if a == 0 and b < 0:
        raise ZeroDivisionError(f"b must be >= 0 when a is zero (got b={quote(b)})")
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        # |a|**b >= 2**b, so a b this large is refused without a float product that would
        # overflow; otherwise the estimate has a digit to spare and the exact check follows.
        if b > MAX_INT_DIGITS * math.log2(10) or b * math.log10(abs(a)) > MAX_INT_DIGITS + 1:
            raise ValueError(f"pow({quote(a)}, {quote(b)}) would have more than "
                             f"{MAX_INT_DIGITS} digits")
