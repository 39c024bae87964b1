"""A safe evaluator for arithmetic expressions: parsed with `ast`, whitelisted, bounded; no eval."""

from __future__ import annotations

import ast
import gc
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from compute.arithmetic import MAX_INT_DIGITS, OPERATIONS, Number, apply, check_number, quote

MAX_LENGTH = 1000
MAX_DEPTH = 200
FLOAT_MAX = sys.float_info.max
MAX_EXP = math.log(FLOAT_MAX)  # the largest x whose exp(x) is a finite float
# CPython 3.11 counts the depth of the ast it builds per interpreter, not per thread: when a
# finalizer run by the garbage collector lets another thread parse (calc, or serpent reading a
# request) in the middle of a parse, the first fails with "SystemError: AST constructor
# recursion depth mismatch". So calc parses with the collector paused, one thread at a time.
_PARSE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Param:
    """A parameter of a calc function and the values it takes, beyond what every number obeys
    (finite, at most MAX_INT_DIGITS digits): low (excluded if `above`) to high, both optional."""

    name: str
    low: Number | None = None
    high: Number | None = None
    above: bool = False
    integer: bool = False
    excluded: tuple[Number, ...] = ()
    optional: bool = False

    @property
    def rule(self) -> str:
        """What the parameter takes, e.g. "an int from -4000 to 4000"."""
        words = ["an int" if self.integer else "a number"]
        if self.low is not None and self.high is not None and not self.above:
            words.append(f"from {self.low!r} to {self.high!r}")
        else:
            if self.low is not None:
                words.append(f"{'>' if self.above else '>='} {self.low!r}")
            if self.high is not None:
                words.append(f"{'and ' if self.low is not None else ''}<= {self.high!r}")
        if self.excluded:
            words.append("other than " + " or ".join(map(repr, self.excluded)))
        return " ".join(words)

    def check(self, function: str, value: Number) -> None:
        """TypeError/ValueError naming the function, the parameter and the rule."""
        if self.integer and not isinstance(value, int):
            raise TypeError(self._refusal(function, value))
        if (self.low is not None and (value <= self.low if self.above else value < self.low)
                or self.high is not None and value > self.high or value in self.excluded):
            raise ValueError(self._refusal(function, value))

    def _refusal(self, function: str, value: Number) -> str:
        return f"{function}: {self.name} must be {self.rule} (got {quote(value)})"


@dataclass(frozen=True)
class Function:
    """A function calc may call: its name, what runs, its parameters in order, one line of help.

    Every argument is checked against its Param before `run` is called, so no call can cost
    more than the bounds allow (round(1, -10**30) would build a 10**30-digit number).
    """

    name: str
    run: Callable[..., Number]
    params: tuple[Param, ...]
    doc: str

    @property
    def signature(self) -> str:
        """e.g. "round(x[, ndigits])"."""
        text = ""
        for param in self.params:
            separator = ", " if text else ""
            text += f"[{separator}{param.name}]" if param.optional else separator + param.name
        return f"{self.name}({text})"

    def call(self, args: list[Number]) -> Number:
        """run(*args) once every argument obeys its parameter's rule; the result checked."""
        self._check_arity(len(args))
        for param, value in zip(self.params, args, strict=False):  # optional ones may be left
            param.check(self.name, value)
        try:
            result = self.run(*args)
        except (ArithmeticError, TypeError, ValueError) as exc:
            shown = ", ".join(map(quote, args))
            raise ValueError(f"{self.name}({shown}) in expression: {exc}") from None
        return check_number(f"the result of {self.name}", result)

    def _check_arity(self, count: int) -> None:
        required = sum(not param.optional for param in self.params)
        if not required <= count <= len(self.params):
            expected = (f"{required}" if required == len(self.params)
                        else f"{required} or {len(self.params)}")
            raise TypeError(f"{self.name} takes {expected} argument"
                            f"{'' if expected == '1' else 's'}: {self.signature} (got {count})")


def _real(name: str, low: Number = -FLOAT_MAX, high: Number = FLOAT_MAX) -> Param:
    """A parameter of a function computed in floating point: at most what a float holds."""
    return Param(name, low=low, high=high)


def _positive(name: str, **rules: object) -> Param:
    return Param(name, low=0, above=True, **rules)


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("abs", abs, (Param("x"),), "the absolute value of x"),
    Function("round", round, (
        Param("x"),
        Param("ndigits", low=-MAX_INT_DIGITS, high=MAX_INT_DIGITS, integer=True, optional=True),
    ), "x rounded to ndigits decimal places (default 0: an int)"),
    Function("floor", math.floor, (Param("x"),), "the largest int <= x"),
    Function("ceil", math.ceil, (Param("x"),), "the smallest int >= x"),
    Function("sqrt", math.sqrt, (_real("x", low=0),), "the square root of x"),
    Function("exp", math.exp, (_real("x", high=MAX_EXP),), "e ** x"),
    # math.log takes ints of any size, so x and base need no float bound.
    Function("log", math.log, (
        _positive("x"),
        _positive("base", excluded=(1,), optional=True),
    ), "the logarithm of x to base (default e)"),
    Function("log10", math.log10, (_positive("x"),), "the base-10 logarithm of x"),
    Function("sin", math.sin, (_real("x"),), "the sine of x radians"),
    Function("cos", math.cos, (_real("x"),), "the cosine of x radians"),
    Function("tan", math.tan, (_real("x"),), "the tangent of x radians"),
)}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
# Each operation's symbol as Python parses it.
BINARY_OPERATORS = {type(ast.parse(f"1 {op.symbol} 1", mode="eval").body.op): op.name
                    for op in OPERATIONS.values()}
ALLOWED = (
    "numbers, + - * / // % **, parentheses, the constants "
    + ", ".join(CONSTANTS) + " and the functions " + ", ".join(FUNCTIONS)
)


def describe_functions() -> list[str]:
    """One line per function: signature, what it gives, the rule of each bounded parameter."""
    lines = []
    for function in FUNCTIONS.values():
        rules = [f"{p.name} {p.rule}" for p in function.params if p.rule != "a number"]
        lines.append(f"{function.signature}: {function.doc}"
                     + (f"; {', '.join(rules)}" if rules else ""))
    return lines


def evaluate(expression: object) -> Number:
    """The value of an arithmetic expression such as "5 + 3 * (2 - 1)".

    TypeError, ValueError or ZeroDivisionError, naming the rule, if it is refused.
    """
    if not isinstance(expression, str):
        raise TypeError(f"expression must be a string (got {type(expression).__name__})")
    if len(expression) > MAX_LENGTH:
        raise ValueError(f"expression must be at most {MAX_LENGTH} characters "
                         f"(got {len(expression)})")
    try:
        tree = _parse(expression.strip())
    except SyntaxError as exc:
        raise ValueError(f"expression is not valid arithmetic: {exc.msg} "
                         f"(column {exc.offset})") from None
    except (MemoryError, RecursionError):
        raise ValueError("expression is nested too deeply") from None
    return _Evaluator().visit(tree.body)


def parses(expression: str) -> bool:
    """Whether `expression` is a syntactically valid expression within the length limit (its
    names and operators are not checked)."""
    if len(expression) > MAX_LENGTH:
        return False
    try:
        _parse(expression.strip())
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _parse(text: str) -> ast.Expression:
    with _PARSE_LOCK:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return ast.parse(text, mode="eval")
        finally:
            if collecting:
                gc.enable()


class _Evaluator:
    def __init__(self) -> None:
        self.depth = 0

    def visit(self, node: ast.AST) -> Number:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError(f"expression must nest at most {MAX_DEPTH} levels deep")
        try:
            method = getattr(self, "visit_" + type(node).__name__, None)
            if method is None:
                raise ValueError(f"expression may only use {ALLOWED} "
                                 f"(found {_describe(node)})")
            return method(node)
        finally:
            self.depth -= 1

    def visit_Constant(self, node: ast.Constant) -> Number:
        try:
            return check_number("a number in the expression", node.value)
        except TypeError:
            raise ValueError(f"expression may only use {ALLOWED} "
                             f"(found {_describe(node)})") from None

    def visit_Name(self, node: ast.Name) -> Number:
        if node.id not in CONSTANTS:
            raise ValueError(f"unknown name {quote(node.id)} in expression; "
                             f"known constants: {', '.join(CONSTANTS)}")
        return CONSTANTS[node.id]

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Number:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise ValueError(f"expression may only use {ALLOWED} (found {_describe(node)})")

    def visit_BinOp(self, node: ast.BinOp) -> Number:
        op = BINARY_OPERATORS.get(type(node.op))
        if op is None:
            raise ValueError(f"expression may only use {ALLOWED} (found {_describe(node)})")
        return apply(op, self.visit(node.left), self.visit(node.right))

    def visit_Call(self, node: ast.Call) -> Number:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            raise ValueError(f"expression may only use {ALLOWED} (found {_describe(node)})")
        return FUNCTIONS[name].call([self.visit(arg) for arg in node.args])


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return f"a call to {quote(ast.unparse(node.func))}"
    if isinstance(node, ast.Constant):
        return f"the {type(node.value).__name__} {quote(node.value)}"
    return f"{type(node).__name__} {quote(ast.unparse(node))}"
