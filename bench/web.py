"""The web console under load: a big registry, live progress, and many watchers of a π run.

    python -m bench.web [--names 1000] [--watchers 50] [--terms 2e10] [--rounds 5] [--idle 1000]

1. GET /api/names with `--names` extra names registered (the server's own time, from its
   Server-Timing header, and the time the client waited); goal: server time <= 300 ms.
2. Progress updates a live stream (/api/pi/events) delivers per second during a π run;
   goal: >= 4 per second.
3. A π run watched by `--watchers` live streams against the same run watched by none, in
   turns; goal: it slows by less than 5 %. Each watcher connects from its own loopback
   address (127.0.0.2, ...), as browsers on as many machines: one address has a share of 8.
4. GET / for a new visitor while `--idle` silent connections are held open; goal: <= 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import Pyro4

from bench.timing import Rate
from pyro_objects import config
from pyro_objects.library.commands import whole_number
from pyro_objects.processes import wait_until
from pyro_objects.system.local import HOST, LocalSystem

OVERVIEW_GOAL_MS = 300.0
UPDATES_GOAL = 4.0
SLOWDOWN_GOAL = 0.05
IDLE_GOAL_MS = 1000.0
REQUESTS = 30
# Kinds for the extra names: not compute.worker, which the coordinator would give slices to.
KINDS = ["greeting", "compute", "chain.node", "bench.other"]


class Console:
    """An HTTP client of the console: JSON calls with a session's CSRF token."""

    def __init__(self, url: str) -> None:
        self.host, self.port = url.removeprefix("http://").strip("/").split(":")
        self.cookie = ""
        self.token = self.call("GET", "/api/session")[0]["csrf_token"]

    def call(self, method: str, path: str, body: object = None) -> tuple[dict, float, float]:
        """(JSON, server ms from Server-Timing, client ms)."""
        connection = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        headers = {"Content-Type": "application/json", "Cookie": self.cookie}
        if method != "GET":
            headers["X-CSRF-Token"] = self.token
        began = time.perf_counter()
        connection.request(method, path, json.dumps(body) if body is not None else None,
                           headers)
        response = connection.getresponse()
        data = response.read()
        waited = (time.perf_counter() - began) * 1e3
        self.cookie = (response.getheader("Set-Cookie") or self.cookie).split(";")[0]
        server = float(response.getheader("Server-Timing", "app;dur=nan").split("dur=")[1])
        connection.close()
        return json.loads(data), server, waited

    def run(self, terms: int) -> dict:
        """Submit a π run and wait for its result."""
        run_id = self.call("POST", "/api/pi/runs", {"terms": terms})[0]["id"]
        done = wait_until(lambda: (r := self.call("GET", f"/api/pi/runs/{run_id}")[0])[
            "state"] not in ("queued", "running") and r, 600, f"pi run {run_id}")
        if done["state"] != "done":
            raise RuntimeError(f"pi run {run_id} {done['state']}: {done['error']}")
        return done["result"]


class Watcher(threading.Thread):
    """One live stream, read as a browser would; counts the progress values it sees."""

    def __init__(self, url: str, parse: bool = True, source: str = "127.0.0.2") -> None:
        super().__init__(daemon=True)
        self.parse = parse  # False: only read, as a browser on another machine costs us no CPU
        host, port = url.removeprefix("http://").strip("/").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60,
                                                     source_address=(source, 0))
        self.connection.request("GET", "/api/pi/events")
        self.sock = self.connection.sock  # the response takes it over
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            raise RuntimeError(f"stream refused: {self.response.status}")
        self.seen: list[tuple[float, int]] = []  # (when, terms done) of each new value
        self.stopping = False

    def run(self) -> None:
        try:
            for line in self.response:
                if self.stopping:
                    return
                if line.startswith(b"data: ") and not self.parse:
                    self.seen.append((0.0, len(self.seen)))
                elif line.startswith(b"data: "):
                    current = json.loads(line[6:])["current"]
                    if current and (not self.seen or self.seen[-1][1] != current["done"]):
                        self.seen.append((time.perf_counter(), current["done"]))
        except (OSError, ValueError):
            return

    def close(self) -> None:
        """Hang up, as a closed tab does (the reading thread then ends)."""
        self.stopping = True
        self.sock.shutdown(socket.SHUT_RDWR)
        self.join(timeout=10)


@Pyro4.expose
class Thing:
    """An object to register many times over."""

    def ping(self) -> bool:
        return True


def register_names(system: LocalSystem, count: int) -> Pyro4.Daemon:
    """`count` live objects in a daemon of this process, registered with assorted kinds."""
    daemon = Pyro4.Daemon(host=HOST)
    with system.ns() as ns:
        for index in range(count):
            uri = daemon.register(Thing(), f"bench.web.{index}")
            ns.register(f"bench.web.{index:04d}", uri,
                        metadata={KINDS[index % len(KINDS)]})
    threading.Thread(target=daemon.requestLoop, daemon=True).start()
    return daemon


def overview(url: str, count: int) -> tuple[Rate, Rate, float, float]:
    """(server time, client wait) of GET /api/names, the server time of the first look (it
    waits for a first listing), and seconds until every name was probed."""
    console = Console(url)
    began = time.perf_counter()
    first = console.call("GET", "/api/names")[1]
    wait_until(lambda: (b := console.call("GET", "/api/names")[0])["updated"] and len(
        b["names"]) >= count and all(e["state"] != "probing" for e in b["names"]), 120,
        "every name probed")
    first_round = time.perf_counter() - began
    server, client = [], []
    for _ in range(REQUESTS):
        _, server_ms, client_ms = console.call("GET", "/api/names")
        server.append(server_ms)
        client.append(client_ms)
    return percentiles(server), percentiles(client), first, first_round


def percentiles(values: list[float]) -> Rate:
    values = sorted(values)
    return Rate(0.0, statistics.median(values), values[min(len(values) - 1,
                                                           int(len(values) * 0.95))])


def update_rate(url: str, terms: int) -> tuple[float, int, float]:
    """(progress values per second one stream saw, how many, run seconds)."""
    watcher = Watcher(url)
    watcher.start()
    result = Console(url).run(terms)
    watcher.close()
    times = [when for when, _ in watcher.seen]
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return (len(times) - 1) / span, len(times), result["seconds"]


def watched_runs(url: str, terms: int, watchers: int,
                 rounds: int) -> tuple[list[float], list[float]]:
    """Run seconds with no stream open and with `watchers` streams open, taking turns."""
    console = Console(url)
    alone, watched = [], []
    for _ in range(rounds):
        alone.append(console.run(terms)["seconds"])
        streams = [Watcher(url, parse=index == 0, source=f"127.0.0.{index + 2}")
                   for index in range(watchers)]
        for stream in streams:
            stream.start()
        watched.append(console.run(terms)["seconds"])
        if any(len(stream.seen) < 2 for stream in streams):
            raise RuntimeError("a stream saw no progress")
        for stream in streams:
            stream.close()
    return alone, watched


def idle_flood(url: str, count: int) -> Rate:
    """Milliseconds a new visitor waits for GET / while `count` silent connections are held."""
    host, port = url.removeprefix("http://").strip("/").split(":")
    idle = []
    try:
        for _ in range(count):
            idle.append(socket.create_connection((host, int(port)), timeout=10))
        waited = []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                raise RuntimeError(f"GET / answered {response.status}")
            waited.append((time.perf_counter() - began) * 1e3)
    finally:
        for connection in idle:
            connection.close()
    return percentiles(waited)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--terms", type=whole_number, default=2 * 10**10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    config.configure(identity="client")
    print(report(args))


def report(args: argparse.Namespace | None = None) -> str:
    """The table of every web measurement (`args` as main's parser gives them, else its
    defaults)."""
    args = args or argparse.Namespace(names=1000, watchers=50, terms=2 * 10**10, rounds=5,
                                      idle=1000)
    with tempfile.TemporaryDirectory() as workdir, LocalSystem(Path(workdir)) as system:
        system.start_nameserver()
        system.start_server()
        system.start_ring()
        system.start_workers(2)
        url = system.start_web().url
        flood = idle_flood(url, args.idle)
        daemon = register_names(system, args.names)
        try:
            server, client, first, first_round = overview(url, args.names)
        finally:
            with system.ns() as ns:  # the runs are timed without the extra names' probes
                ns.remove(prefix="bench.web.")
            daemon.shutdown()
        rate, updates, seconds = update_rate(url, args.terms)
        alone, watched = watched_runs(url, args.terms, args.watchers, args.rounds)
    slowdown = statistics.median(watched) / statistics.median(alone) - 1
    rows = [
        (f"GET /api/names, {args.names} extra names: server ms (p50 / p95)",
         f"{server.p50_ms:.1f} / {server.p99_ms:.1f}", f"<= {OVERVIEW_GOAL_MS:g}",
         server.p99_ms <= OVERVIEW_GOAL_MS),
        ("  the same, as the client waited (p50 / p95)",
         f"{client.p50_ms:.1f} / {client.p99_ms:.1f}", "", None),
        ("  the first look (waits for a first listing), server ms", f"{first:.1f}",
         f"<= {OVERVIEW_GOAL_MS:g}", first <= OVERVIEW_GOAL_MS),
        ("  until every name was probed, s", f"{first_round:.2f}", "", None),
        (f"progress updates per second on a live stream ({updates} in a "
         f"{seconds:.1f} s run of {args.terms:.0e} terms)", f"{rate:.1f}",
         f">= {UPDATES_GOAL:g}", rate >= UPDATES_GOAL),
        (f"pi run of {args.terms:.0e} terms, s: alone / with {args.watchers} live streams "
         f"(medians of {args.rounds}; ranges {min(alone):.2f}-{max(alone):.2f} / "
         f"{min(watched):.2f}-{max(watched):.2f})",
         f"{statistics.median(alone):.2f} / {statistics.median(watched):.2f}", "", None),
        ("  slowdown with the streams open", f"{slowdown:+.1%}", f"< {SLOWDOWN_GOAL:.0%}",
         slowdown < SLOWDOWN_GOAL),
        (f"GET / for a new visitor, {args.idle} idle connections held: ms (p50 / p95)",
         f"{flood.p50_ms:.1f} / {flood.p99_ms:.1f}", f"<= {IDLE_GOAL_MS:g}",
         flood.p99_ms <= IDLE_GOAL_MS),
    ]
    lines = ["| what | measured | goal | met |", "|---|---:|---:|:---:|"]
    lines += [f"| {what} | {measured} | {goal} | {'' if met is None else 'yes' if met else 'no'} |"
              for what, measured, goal, met in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
