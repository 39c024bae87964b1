"""A safe evaluator for arithmetic expressions: parsed with `ast`, whitelisted, bounded; no eval."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

from compute.arithmetic import Number, apply, check_number

MAX_LENGTH = 1000
MAX_DEPTH = 200

BINARY_OPERATORS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
    ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow",
}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs, "round": round, "floor": math.floor, "ceil": math.ceil,
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log10": math.log10,
    "sin": math.sin, "cos": math.cos, "tan": math.tan,
}
ALLOWED = (
    "numbers, + - * / // % **, parentheses, the constants "
    + ", ".join(CONSTANTS) + " and the functions " + ", ".join(FUNCTIONS)
)


def evaluate(expression: object) -> Number:
    """The value of an arithmetic expression such as "5 + 3 * (2 - 1)"; ValueError if refused."""
    if not isinstance(expression, str):
        raise TypeError(f"expression must be a string (got {type(expression).__name__})")
    if len(expression) > MAX_LENGTH:
        raise ValueError(f"expression must be at most {MAX_LENGTH} characters "
                         f"(got {len(expression)})")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"expression is not valid arithmetic: {exc.msg} "
                         f"(column {exc.offset})") from None
    except (MemoryError, RecursionError):
        raise ValueError("expression is nested too deeply") from None
    return _Evaluator().visit(tree.body)


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
            raise ValueError(f"unknown name {node.id!r} in expression; "
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
        args = [self.visit(arg) for arg in node.args]
        try:
            result = FUNCTIONS[name](*args)
        except (TypeError, ValueError, OverflowError) as exc:
            call = f"{name}({', '.join(map(repr, args))})"
            raise ValueError(f"{call} in expression: {exc}") from None
        return check_number(f"the result of {name}", result)


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return f"a call to {ast.unparse(node.func)!r}"
    if isinstance(node, ast.Constant):
        return f"the {type(node.value).__name__} {node.value!r}"[:80]
    return f"{type(node).__name__} {ast.unparse(node)!r}"[:80]
