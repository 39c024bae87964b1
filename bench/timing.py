"""Timing helpers shared by the benchmarks: rates and latency percentiles, medians of runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Rate:
    """Calls per second with per-call latency percentiles (milliseconds)."""

    per_second: float
    p50_ms: float
    p99_ms: float


def time_calls(call: Callable[[], object], count: int) -> Rate:
    """Time `count` sequential calls of `call`."""
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    latencies.sort()
    return Rate(count / elapsed, latencies[len(latencies) // 2] * 1e3,
                latencies[min(count - 1, int(count * 0.99))] * 1e3)


def median_rate(call: Callable[[], object], count: int, runs: int = 3,
                warmup: int = 50) -> Rate:
    """The run with the median rate among `runs` runs of `count` calls, after a warm-up."""
    for _ in range(warmup):
        call()
    rates = sorted((time_calls(call, count) for _ in range(runs)), key=lambda r: r.per_second)
    return rates[len(rates) // 2]


def median_seconds(action: Callable[[], object], runs: int = 3) -> float:
    """The median wall time of `runs` runs of `action`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_rates(calls: dict[str, Callable[[], object]], count: int, rounds: int = 5,
                      warmup: int = 50) -> dict[str, Rate]:
    """Each contender's median-rate run over `rounds` rounds, the contenders taking turns
    within each round in a rotating order, so that neither drift in the machine's speed nor
    the position in a round favours any of them."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    runs: dict[str, list[Rate]] = {label: [] for label in calls}
    order = list(calls)
    for round_index in range(rounds):
        # Each round starts with the next contender: no one always follows the same other.
        shift = round_index % len(order)
        for label in order[shift:] + order[:shift]:
            runs[label].append(time_calls(calls[label], count))
    return {label: sorted(rates, key=lambda r: r.per_second)[len(rates) // 2]
            for label, rates in runs.items()}
