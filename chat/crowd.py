"""Many subscribers in one process, for tests and benchmarks: they join, record what they
receive, and write it to a report file.

    python -m pyro_objects.chat.crowd --nicks s1,s2,s3 --room R --report FILE [--slow SECONDS]

The report (JSON, rewritten at most every REPORT_EVERY seconds while it changes, and at exit):
{"joined": N, "received": messages received in all, "last_at": the time of the last one,
"subscribers": {nick: {"seqs": [...], "latency_ms": [...], "entered": E, "gaps": [...]}}}:
each message's sequence number in the order received, its delivery latency (receipt time
minus the chat server's time stamp), how many times it (re)joined, and the gap events. With
--summary, "subscribers" is written at exit only (cheap to write while measuring). SIGTERM
leaves the room and writes the report once more.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyro_objects.chat.subscriber import CallbackDaemon, Subscriber
from pyro_objects import cli, names

REPORT_EVERY = 0.2
JOINS_AT_ONCE = 8


class Record:
    """What one subscriber received."""

    def __init__(self, slow: float = 0.0) -> None:
        self.seqs: list[int] = []
        self.latency_ms: list[float] = []
        self.last_at = 0.0
        self.entered = 0
        self.gaps: list[dict] = []
        self.slow = slow

    def __call__(self, event: dict) -> None:
        kind = event["kind"]
        if kind == "message":
            self.last_at = time.time()
            self.latency_ms.append((self.last_at - event["time"]) * 1e3)
            self.seqs.append(event["seq"])
            if self.slow:
                time.sleep(self.slow)  # inside the callback: the chat server's sender waits
        elif kind == "entered":
            self.entered += 1
        elif kind == "gap":
            self.gaps.append(event)

    def as_dict(self) -> dict:
        return {"seqs": list(self.seqs), "latency_ms": list(self.latency_ms),
                "entered": self.entered, "gaps": list(self.gaps)}


def write_report(path: Path, records: dict[str, Record], joined: int, full: bool = True) -> None:
    report = {"joined": joined, "received": sum(len(r.seqs) for r in records.values()),
              "last_at": max((r.last_at for r in records.values()), default=0.0)}
    if full:
        report["subscribers"] = {nick: r.as_dict() for nick, r in records.items()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report))
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nicks", required=True, help="comma-separated nicks, one subscriber each")
    parser.add_argument("--room", default="lobby")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--slow", type=float, default=0.0,
                        help="seconds each subscriber spends on every message it receives")
    parser.add_argument("--server", default=names.CHAT, help="the chat server's name")
    parser.add_argument("--summary", action="store_true",
                        help="while running, report the totals only (for benchmarks)")
    cli.add_log_option(parser)
    args = parser.parse_args(argv)
    cli.setup(args, identity="client")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    daemon = CallbackDaemon()
    records = {nick: Record(args.slow) for nick in args.nicks.split(",")}
    subscribers = [Subscriber(args.room, nick, record, args.server, daemon)
                   for nick, record in records.items()]
    with ThreadPoolExecutor(JOINS_AT_ONCE) as pool:
        list(pool.map(Subscriber.join, subscribers))
    write_report(args.report, records, len(subscribers))
    print(f"joined {len(subscribers)}", flush=True)
    written = None
    while not stop.wait(REPORT_EVERY):
        state = sum(len(r.seqs) + r.entered for r in records.values())
        if state != written:
            write_report(args.report, records, len(subscribers), full=not args.summary)
            written = state
    with ThreadPoolExecutor(JOINS_AT_ONCE) as pool:
        list(pool.map(Subscriber.leave, subscribers))
    write_report(args.report, records, len(subscribers))
    daemon.close()


if __name__ == "__main__":
    cli.run(main)
