"""The console's /metrics: the system in Prometheus' text format (prometheus_client), read
from the console's own state and the chat server at each scrape.

Open from this machine (127.0.0.1, ::1: a Prometheus beside the console) and to a logged-in
user; from elsewhere, when the console requires a login, it needs one too.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterator

import Pyro4.errors
from flask import Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pyro_objects import names
from pyro_objects.errors import Error
from pyro_objects.library import Client
from pyro_objects.web import auth
from pyro_objects.web.errors import ApiError

PREFIX = "pyro_objects"
CHAT_TIMEOUT = 2.0        # seconds a scrape waits for the chat server's stats()
LOCAL_SCRAPERS = frozenset({"127.0.0.1", "::1"})
COMMAND = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_COMMANDS = 64         # distinct command labels; more are counted as "other"

# The calls of every console in this process (the client library reports each one).
CALLS = Counter(f"{PREFIX}_calls", "Calls the console made into the system, by command",
                ["command"], registry=None)
CALL_ERRORS = Counter(f"{PREFIX}_call_errors", "Of those, the calls that failed, by command",
                      ["command"], registry=None)
CALL_SECONDS = Histogram(f"{PREFIX}_call_seconds", "How long calls took, by command",
                         ["command"], registry=None,
                         buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15))
_commands: set[str] = set()
_commands_lock = threading.Lock()


def command_label(command: str) -> str:
    """`command` as a label, or "other": labels stay few whatever callers send."""
    if not isinstance(command, str) or not COMMAND.fullmatch(command):
        return "other"
    with _commands_lock:
        if command not in _commands and len(_commands) >= MAX_COMMANDS:
            return "other"
        _commands.add(command)
    return command


def observe_call(command: str, ok: bool, seconds: float) -> None:
    """Count one call of `command` into the system: whether it succeeded, how long it took."""
    label = command_label(command)
    CALLS.labels(label).inc()
    if not ok:
        CALL_ERRORS.labels(label).inc()
    CALL_SECONDS.labels(label).observe(max(0.0, seconds))


# The scrapes' own client: not observed, so scraping adds no calls to the calls it counts.
SCRAPER = Client(timeout=CHAT_TIMEOUT)


def chat_stats() -> dict | None:
    """The chat server's stats() ({rooms, subscribers, delivered}), or None when it does not
    answer (or answers something else)."""
    try:
        stats = SCRAPER.call(names.CHAT, "stats")
    except (Error, Pyro4.errors.PyroError, OSError, AttributeError):
        return None
    wanted = ("rooms", "subscribers", "delivered")
    if not isinstance(stats, dict) or not all(isinstance(stats.get(key), int)
                                              for key in wanted):
        return None
    return stats


def gauge(name: str, documentation: str, value: float | None = None,
          labels: dict[str, float] | None = None, label: str = "kind") -> GaugeMetricFamily:
    if labels is None:
        return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=[label])
    for key, amount in sorted(labels.items()):
        family.add_metric([key], amount)
    return family


class SystemCollector(Collector):
    """The console's live state, read at scrape time: the registry snapshot, the π runs, the
    live streams and the chat server."""

    def __init__(self, app: Flask, chat: Callable[[], dict | None] = chat_stats) -> None:
        self.app, self.chat = app, chat

    def collect(self) -> Iterator[Metric]:
        services = self.app.extensions["console"]
        yield from self.registry(services.registry.snapshot())
        yield from self.pi(json.loads(services.jobs.live()[1]))
        yield gauge("live_streams", "Live progress streams open (π page)",
                    services.streams.held.total())
        yield from self.chat_metrics(self.chat())

    @staticmethod
    def registry(snapshot) -> Iterator[Metric]:
        found = snapshot.error is None and snapshot.nameserver_uri is not None
        yield gauge("nameserver_up", "Whether the name server answered its last listing",
                    int(found))
        if not found:  # the names' states are not known
            return
        present = [entry for entry in snapshot.entries if entry.state != "gone"]
        yield gauge("names", "Names registered in the name server, by kind",
                    labels=Tally(entry.kind for entry in present))
        up = Tally({entry.kind: 0 for entry in present})
        up.update(entry.kind for entry in present if entry.state == "up")
        yield gauge("names_up", "Registered names whose objects answer, by kind", labels=up)

    @staticmethod
    def pi(live: dict) -> Iterator[Metric]:
        current = live.get("current")
        yield gauge("pi_running", "Whether a π run is going on", int(current is not None))
        yield gauge("pi_terms_per_second", "Terms per second of the π run going on (0: none)",
                    current["rate"] if current else 0.0)
        yield gauge("pi_queue_length", "π runs waiting in the queue", len(live["queued"]))

    @staticmethod
    def chat_metrics(stats: dict | None) -> Iterator[Metric]:
        yield gauge("chat_up", "Whether the chat server answered stats()", int(stats is not None))
        if stats is None:
            return
        yield gauge("chat_rooms", "Chat rooms with someone in them", stats["rooms"])
        yield gauge("chat_subscribers", "Chat subscribers joined", stats["subscribers"])
        yield CounterMetricFamily(f"{PREFIX}_chat_deliveries",
                                  "Events the chat server delivered to subscribers (rate() "
                                  "gives deliveries per second)", value=stats["delivered"])


def scrape() -> Response:
    if (current_app.config["LOGIN_REQUIRED"] and auth.current_user() is None
            and request.remote_addr not in LOCAL_SCRAPERS):
        raise ApiError(401, "login required for /metrics from another machine",
                       "scrape from the console's machine, or log in")
    registry = current_app.extensions["metrics"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """/metrics, from a registry of this app's own (prometheus_client's global one holds
    nothing of ours)."""
    registry = CollectorRegistry()
    for collector in (CALLS, CALL_ERRORS, CALL_SECONDS, SystemCollector(app)):
        registry.register(collector)
    app.extensions["metrics"] = registry
    app.add_url_rule("/metrics", "metrics", scrape)
