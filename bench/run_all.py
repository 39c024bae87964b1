"""`make bench`: every benchmark on loopback, written to bench/RESULTS.md.

    python -m bench.run_all [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from bench import load, machine, rpc
from bench.timing import Rate

LOAD_CLIENTS = (1, 8, 64, 500)


def rate_of(rows: list[tuple[str, Rate]], label: str) -> float | None:
    return next((r.per_second for name, r in rows if name == label), None)


def goal_rows(goals: list[tuple[str, float | None, float]]) -> str:
    """A table of (goal, measured ratio, target) with whether each was met."""
    lines = ["| goal | measured | target | met |", "|---|---:|---:|:---:|"]
    for text, measured, target in goals:
        if measured is None:
            lines.append(f"| {text} | not measured | {target:g} | - |")
        else:
            met = "yes" if measured >= target else "no"
            lines.append(f"| {text} | {measured:.2f} | {target:g} | {met} |")
    return "\n".join(lines)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def rpc_section() -> tuple[str, list[tuple[str, float | None, float]]]:
    rows, notes = rpc.measure()
    default = rate_of(rows, "project add (json, default)")
    goals = [
        ("project add / bare Pyro4 add, json", ratio(rate_of(rows, "project add (json)"),
                                                     rate_of(rows, "bare Pyro4 add (json)")), 0.95),
        ("project add / bare Pyro4 add, serpent",
         ratio(rate_of(rows, "project add (serpent)"), rate_of(rows, "bare Pyro4 add (serpent)")),
         0.95),
        ("project default / Pyro5", ratio(default, rate_of(rows, "Pyro5 add (serpent)")), 1.4),
        ("project default / RPyC", ratio(default, rate_of(rows, "RPyC add")), 2.5),
        ("batched add / raw TCP single calls",
         ratio(rate_of(rows, f"project add, Pyro4.batch of {rpc.BATCH} (json)"),
               rate_of(rows, "raw TCP echo (the limit)")), 2.5),
    ]
    text = (f"## Single-proxy calls\n\nMedian of 3 runs of {rpc.CALLS} sequential calls of "
            f"`add(1, 2)` on one proxy, after a warm-up.\n\n{rpc.table(rows)}\n")
    text += "".join(f"\n- {note}" for note in notes)
    return text, goals


def load_section() -> str:
    rows = []
    for clients in LOAD_CLIENTS:
        result = load.run_load_on_own_system(clients, calls=20, seconds=60)
        rows.append(result.row())
    return ("## Concurrent clients\n\n`bench/load.py`: each client a thread with its own proxy "
            "and connection, all connected before the first call, 20 checked calls each.\n\n"
            + load.HEADER + "\n" + "\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    args = parser.parse_args()
    sections, goals = [], []
    for run in (rpc_section,):
        text, section_goals = run()
        sections.append(text)
        goals += section_goals
    sections.append(load_section())
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = (f"# Benchmark results\n\nMade by `make bench` on {stamp}.\n\n"
              f"Machine: {machine.describe()}.\n\n## Goals\n\nRatios of rates measured in this "
              f"same run.\n\n{goal_rows(goals)}\n\n" + "\n".join(sections))
    Path(args.out).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
