"""Chat fan-out: deliveries per second and delivery latency for 1 to 200 subscribers.

    python -m bench.chat [--subscribers 1,10,100,200] [--burst 200] [--paced 100]

For each count, a name server and a chat server on loopback, the subscribers in chat.crowd
processes (50 each), and one poster: a burst of messages posted back to back (deliveries per
second from the first post to the last delivery, and the latency of each delivery: receipt
minus the chat server's time stamp), then messages paced at PACE a second (latency without
queueing). Then the issue's goal: 200 subscribers and one more taking 5 s per message, paced.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pyro_objects import config, names
from pyro_objects.processes import python, wait_until
from pyro_objects.proxy import Proxy
from pyro_objects.system.local import HOST, LocalSystem

PER_PROCESS = 50
PACE = 20.0                # paced messages per second
SLOW_SECONDS = 5.0
WAIT = 300.0
COUNTS = (1, 10, 100, 200)
BURST, PACED = 200, 100    # messages posted back to back, then at PACE a second
ROOM = "bench"


@dataclass
class FanOut:
    subscribers: int
    burst: int
    deliveries_per_second: float
    burst_p50_ms: float
    burst_p99_ms: float
    paced_p50_ms: float
    paced_p99_ms: float

    def row(self) -> str:
        return (f"| {self.subscribers} | {self.burst * self.subscribers:,} | "
                f"{self.deliveries_per_second:,.0f} | {self.burst_p50_ms:.1f} | "
                f"{self.burst_p99_ms:.1f} | {self.paced_p50_ms:.1f} | {self.paced_p99_ms:.1f} |")


HEADER = ("| subscribers | burst deliveries | deliveries/s | burst p50 ms | burst p99 ms | "
          "paced p50 ms | paced p99 ms |\n|---:|---:|---:|---:|---:|---:|---:|")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class Bench:
    """A chat server with `count` subscribers in crowd processes (and `slow` slow ones)."""

    def __init__(self, system: LocalSystem, count: int, slow: int = 0) -> None:
        self.system, self.count = system, count
        system.start_nameserver()
        system.start_chat()
        nicks = [f"s{i}" for i in range(count)]
        groups = [(nicks[i:i + PER_PROCESS], ()) for i in range(0, count, PER_PROCESS)]
        groups += [([f"slow{i}"], ("--slow", str(SLOW_SECONDS))) for i in range(slow)]
        self.healthy: list[Path] = []
        for index, (group, extra) in enumerate(groups):
            report = system.workdir / f"crowd{index}.json"
            process = system.start(f"crowd{index}", python(
                "-m", "pyro_objects.chat.crowd", "--nicks", ",".join(group), "--room", ROOM,
                "--report", str(report), "--summary", *extra))
            joined = f"joined {len(group)}"
            system.wait_ready(process, lambda process=process, joined=joined:
                              joined in process.log())
            if not extra:
                self.healthy.append(report)
        self.chat = Proxy(f"PYRONAME:{names.CHAT}@{HOST}:{system.ns_port}")
        self.posted = 0

    def totals(self) -> tuple[int, float]:
        """(messages the healthy subscribers received in all, when the last one arrived)."""
        reports = [json.loads(path.read_text()) for path in self.healthy]
        return sum(r["received"] for r in reports), max(r["last_at"] for r in reports)

    def post(self, count: int, pace: float | None = None) -> None:
        for _ in range(count):
            self.chat.post(ROOM, "poster", f"message {self.posted}", uuid.uuid4().hex)
            self.posted += 1
            if pace:
                time.sleep(1 / pace)

    def delivered(self) -> float:
        """Wait until every healthy subscriber has every message; the time of the last."""
        expected = self.posted * self.count
        wait_until(lambda: self.totals()[0] >= expected, WAIT, f"{expected} deliveries")
        return self.totals()[1]

    def latencies(self) -> dict[int, list[float]]:
        """{seq: delivery latencies to the healthy subscribers}, from their full reports
        (written as the crowds stop)."""
        for label in [name for name in self.system.processes if name.startswith("crowd")]:
            self.system.stop(label)
        self.chat._pyroRelease()
        result: dict[int, list[float]] = {}
        for path in self.healthy:
            for record in json.loads(path.read_text())["subscribers"].values():
                for seq, ms in zip(record["seqs"], record["latency_ms"], strict=True):
                    result.setdefault(seq, []).append(ms)
        return result


def between(latencies: dict[int, list[float]], first: int, last: int) -> list[float]:
    """The latencies of messages first..last (sequence numbers)."""
    return [ms for seq in range(first, last + 1) for ms in latencies.get(seq, [])]


def fan_out(count: int, burst: int = BURST, paced: int = PACED, warm_up: int = 5) -> FanOut:
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        bench = Bench(system, count)
        bench.post(warm_up)  # connections made, threads running
        bench.delivered()
        began = time.time()
        bench.post(burst)
        ended = bench.delivered()
        bench.post(paced, PACE)
        bench.delivered()
        latencies = bench.latencies()
        burst_ms = between(latencies, warm_up + 1, warm_up + burst)
        paced_ms = between(latencies, warm_up + burst + 1, bench.posted)
        return FanOut(count, burst, burst * count / (ended - began),
                      percentile(burst_ms, 0.5), percentile(burst_ms, 0.99),
                      percentile(paced_ms, 0.5), percentile(paced_ms, 0.99))


def with_a_slow_one(count: int = 200, paced: int = PACED) -> tuple[float, float]:
    """(p50, p99) ms to `count` healthy subscribers, paced, while one more takes 5 s per
    message."""
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        bench = Bench(system, count, slow=1)
        bench.post(paced, PACE)
        bench.delivered()
        latencies = between(bench.latencies(), 1, bench.posted)
        return percentile(latencies, 0.5), percentile(latencies, 0.99)


def table(rows: list[FanOut]) -> str:
    return "\n".join([HEADER, *(row.row() for row in rows)])


DESCRIPTION = (
    f"`bench/chat.py`: a chat server on loopback, its subscribers in `chat.crowd` processes "
    f"({PER_PROCESS} each), one poster. A burst of {BURST} messages posted back to back "
    f"(deliveries/s from the first post to the last delivery), then {PACED} at {PACE:g} a "
    f"second; latency is a subscriber's receipt time minus the chat server's time stamp.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", default=",".join(map(str, COUNTS)))
    parser.add_argument("--burst", type=int, default=BURST, help="messages posted back to back")
    parser.add_argument("--paced", type=int, default=PACED, help=f"messages at {PACE:g} a second")
    args = parser.parse_args()
    config.configure()
    rows = []
    print(HEADER, flush=True)
    for count in map(int, args.subscribers.split(",")):
        rows.append(fan_out(count, args.burst, args.paced))
        print(rows[-1].row(), flush=True)
    p50, p99 = with_a_slow_one()
    print(f"\n200 subscribers and one taking {SLOW_SECONDS:g} s per message, paced: "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
