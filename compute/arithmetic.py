"""Binary arithmetic on ints and floats with every argument and result checked."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

Number = int | float

# Results travel as text (serpent writes ints in decimal) and Python refuses to print ints of
# more than 4300 digits, so integers stay below that; 4000 digits is ~13288 bits.
MAX_INT_DIGITS = 4000
MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))

OPERATIONS: dict[str, Callable[[Number, Number], Number]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
}
DIVISIONS = {"div", "floordiv", "mod"}


def check_number(name: str, value: object) -> Number:
    """`value` if it is a finite int or float of allowed size, else TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be an int or a float (got {type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (got {value!r})")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ValueError(f"{name} must have at most {MAX_INT_DIGITS} digits")
    return value


def apply(op: str, a: object, b: object) -> Number:
    """a <op> b for an op in OPERATIONS; errors name the argument and the rule."""
    a, b = check_number("a", a), check_number("b", b)
    if op in DIVISIONS and b == 0:
        raise ZeroDivisionError(f"b must not be zero for {op} (got a={a!r}, b={b!r})")
    if op == "pow":
        _check_power(a, b)
    try:
        result = OPERATIONS[op](a, b)
    except OverflowError as exc:
        raise ValueError(f"{op}({a!r}, {b!r}) is too large for a float ({exc})") from None
    if isinstance(result, complex):
        raise ValueError(f"pow of a negative a to a fractional b is not a real number "
                         f"(got a={a!r}, b={b!r})")
    try:
        return check_number("result", result)
    except ValueError as exc:
        raise ValueError(f"{op}({a!r}, {b!r}): {exc}") from None


def _check_power(a: Number, b: Number) -> None:
    if a == 0 and b < 0:
        raise ZeroDivisionError(f"b must be >= 0 when a is zero (got b={b!r})")
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        if b * math.log2(abs(a)) > MAX_INT_BITS:
            raise ValueError(f"pow({a}, {b}) would have more than {MAX_INT_DIGITS} digits")
