"""π throughput: the numpy kernel on one core against a pure-Python loop, and 1 vs 2 workers.

    python -m bench.pi [--terms 4000000000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.timing import median_seconds
from compute.coordinator import run_pi
from compute.kernel import pi_slice
from pyro_objects import config
from pyro_objects.system.local import HOST, LocalSystem

KERNEL_TERMS = 1_000_000_000
PYTHON_TERMS = 5_000_000
WORKER_TERMS = 4_000_000_000



def pi_slice_python(a: int, b: int) -> float:
    """The same sum as a plain Python loop: the reference the kernel is measured against."""
    total = 0.0
    sign = -1.0 if a % 2 else 1.0
    for n in range(a, b):
        total += sign / (2 * n + 1)
        sign = -sign
    return total


def kernel_rates() -> tuple[float, float]:
    """(numpy kernel, pure-Python loop) terms/s on one core, medians of 3 runs."""
    kernel = KERNEL_TERMS / median_seconds(lambda: pi_slice(0, KERNEL_TERMS))
    python = PYTHON_TERMS / median_seconds(lambda: pi_slice_python(0, PYTHON_TERMS))
    return kernel, python


def worker_rates(terms: int = WORKER_TERMS) -> dict[int, float]:
    """{workers: terms/s} for 1 and 2 local worker processes, medians of 3 runs."""
    config.configure()
    rates = {}
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        system.start_nameserver()
        system.start_workers(2)
        config.set_ns_location(HOST, system.ns_port)
        for count in (1, 2):
            seconds = median_seconds(lambda count=count: run_pi(terms, workers=count))
            rates[count] = terms / seconds
    return rates


def table(kernel: float, python: float, workers: dict[int, float],
          terms: int = WORKER_TERMS) -> str:
    return "\n".join([
        "| what | terms/s | ratio |", "|---|---:|---:|",
        f"| pure-Python loop, one core | {python:.3e} | 1 |",
        f"| numpy kernel, one core | {kernel:.3e} | {kernel / python:.0f}x the loop |",
        f"| 1 worker, {terms:.0e} terms | {workers[1]:.3e} | 1 |",
        f"| 2 workers, {terms:.0e} terms | {workers[2]:.3e} | {workers[2] / workers[1]:.2f}x "
        f"1 worker |",
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=WORKER_TERMS)
    args = parser.parse_args()
    print(table(*kernel_rates(), worker_rates(args.terms), args.terms))
