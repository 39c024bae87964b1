"""The remote Compute object: checked arithmetic, `calc` and `pi_slice` behind one Pyro4 object."""

from __future__ import annotations

import os
import socket

import Pyro4

from compute import arithmetic, expression, kernel


def _binary(op: arithmetic.Operation):
    def method(self, a, b):
        return arithmetic.apply(op.name, a, b)

    method.__name__, method.__doc__ = op.name, op.doc
    return Pyro4.expose(method)


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class Compute:
    """Arithmetic on ints and floats, a safe expression evaluator and Leibniz partial sums.

    Every method checks its arguments and raises TypeError/ValueError/ZeroDivisionError naming
    the argument and the rule, so one bad call never affects the next.
    """

    def calc(self, expression_text):
        """The value of an arithmetic expression such as "5 + 3 * (2 - 1)"."""
        return expression.evaluate(expression_text)

    def pi_slice(self, a, b):
        """sum_{n=a}^{b-1} (-1)^n / (2n+1) for ints 0 <= a <= b; 4 * pi_slice(0, N) ~ pi."""
        return kernel.pi_slice(a, b)

    def info(self):
        """Where this object runs: host name and process id."""
        return {"host": socket.gethostname(), "pid": os.getpid()}


for _operation in arithmetic.OPERATIONS.values():  # add(a, b), sub(a, b), ...
    setattr(Compute, _operation.name, _binary(_operation))
