"""`make bench`: every benchmark on loopback, written to bench/RESULTS.md.

    python -m bench.run_all [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

import Pyro4

from bench import chat, load, machine, pi, ring, rpc, web
from bench.timing import Rate

LOAD_CLIENTS = (1, 8, 64, 500)
IDLE_HELD = 2000
README = Path(__file__).resolve().parent.parent / "README.md"
Goal = tuple[str, "float | None", str, float]  # (what, measured, ">=" or "<=", target)


def rate_of(rows: list[tuple[str, Rate]], label: str) -> Rate | None:
    return next((r for name, r in rows if name == label), None)


def ratio(a: Rate | float | None, b: Rate | float | None) -> float | None:
    a = a.per_second if isinstance(a, Rate) else a
    b = b.per_second if isinstance(b, Rate) else b
    return a / b if a is not None and b else None


def goal_table(goals: list[Goal]) -> str:
    """Goal rows with whether each was met."""
    lines = ["| goal | measured | target | met |", "|---|---:|---:|:---:|"]
    for text, measured, direction, target in goals:
        if measured is None:
            lines.append(f"| {text} | not measured | {direction} {target:g} | - |")
            continue
        met = measured >= target if direction == ">=" else measured <= target
        lines.append(f"| {text} | {measured:.2f} | {direction} {target:g} | "
                     f"{'yes' if met else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS.md")))
    args = parser.parse_args()

    rows, notes = rpc.measure()
    project_cpu, bare_cpu = rpc.server_cpu_per_call()
    default = rate_of(rows, rpc.project_label(Pyro4.config.SERIALIZER))
    rings = ring.round_trips()
    kernel, python = pi.kernel_rates()
    workers = pi.worker_rates()
    loads = [load.run_load_on_own_system(n, calls=20, seconds=60) for n in LOAD_CLIENTS]
    idle = load.first_call_with_idle_connections(IDLE_HELD)
    fan_outs = [chat.fan_out(count) for count in chat.COUNTS]
    web_table = web.report()
    slow_p50, slow_p99 = chat.with_a_slow_one()

    goals: list[Goal] = [
        ("project add / bare Pyro4 add, json",
         ratio(rate_of(rows, rpc.project_label("json")), rate_of(rows, "bare Pyro4 add (json)")),
         ">=", 0.95),
        ("project add / bare Pyro4 add, serpent",
         ratio(rate_of(rows, rpc.project_label("serpent")),
               rate_of(rows, "bare Pyro4 add (serpent)")),
         ">=", 0.95),
        ("bare Pyro4 / project server CPU per add, serpent", bare_cpu / project_cpu, ">=", 0.95),
        ("project default / Pyro5, calls/s", ratio(default, rate_of(rows, "Pyro5 add (serpent)")),
         ">=", 1.4),
        ("project default / RPyC, calls/s", ratio(default, rate_of(rows, "RPyC add")), ">=", 2.5),
        ("batched add / raw TCP single calls, calls/s",
         ratio(rate_of(rows, f"project add, Pyro4.batch of {rpc.BATCH} (json)"),
               rate_of(rows, "raw TCP echo (the limit)")), ">=", 2.5),
        ("3-node ring round trip / one call, time", ratio(default, rings[3]), "<=", 4.5),
        ("numpy kernel / pure-Python loop, terms/s", kernel / python, ">=", 100),
        ("one worker, million terms/s", workers[1] / 1e6, ">=", 500),
        ("2 workers / 1 worker, terms/s", workers[2] / workers[1], ">=", 1.7),
        ("500 clients: errors", float(loads[-1].error_count), "<=", 0),
        (f"new client's first call, {IDLE_HELD} idle connections held, worst of "
         f"{len(idle)}, s", max(idle), "<=", 1.0),
        (f"chat p99 to 200 subscribers, one taking {chat.SLOW_SECONDS:g} s per message, ms",
         slow_p99, "<=", 100),
    ]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join([
        "# Benchmark results", "",
        f"Made by `make bench` on {stamp}, everything on loopback.", "",
        f"Machine: {machine.describe()}.", "",
        "## Goals", "",
        "Ratios of rates measured in this same run; a goal is met when the ratio is on the "
        "target's side.", "",
        goal_table(goals), "",
        "## Single-proxy calls", "",
        f"{rpc.CALLS} sequential `add(1, 2)` calls on one proxy after a warm-up, the median of "
        f"{rpc.ROUNDS} runs taken in turns with the other contenders; the project's server "
        "validates arguments and guards its connections (pyro_objects/transport.py), the bare one "
        "is a stock Pyro4 daemon.", "",
        rpc.table(rows), *[f"- {note}" for note in notes], "",
        "## Chain ring", "", ring.table(rings, default), "",
        "## Distributed pi", "", pi.table(kernel, python, workers), "",
        "## Concurrent clients", "",
        "`bench/load.py`: each client a thread with its own proxy and connection, all connected "
        "before the first call, 20 checked calls each (the clients share one Python process).",
        "", load.HEADER, *[result.row() for result in loads], "",
        "## Web console", "", "`bench/web.py`: the console against the running system, "
        "measured through its own JSON API and live streams.", "", web_table, "",
        "## Chat fan-out", "", chat.DESCRIPTION, "", chat.table(fan_outs), "",
        f"200 subscribers and one more taking {chat.SLOW_SECONDS:g} s per message, "
        f"{chat.PACED} messages at {chat.PACE:g} a second: p50 {slow_p50:.1f} ms, p99 "
        f"{slow_p99:.1f} ms to the 200.", "",
    ])
    Path(args.out).write_text(report)
    update_readme(report)
    print(report)


def update_readme(report: str) -> None:
    """Put the report's goals and single-call tables between the README's bench markers."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    readme = README.read_text()
    if start not in readme or end not in readme:
        return
    machine_line = next(line for line in report.splitlines() if line.startswith("Machine:"))
    tables = "## Goals" + report.split("## Goals", 1)[1]
    body = f"{start}\n{machine_line}\n\n{tables.replace('## ', '#### ')}{end}"
    README.write_text(readme.split(start)[0] + body + readme.split(end, 1)[1])


if __name__ == "__main__":
    main()
