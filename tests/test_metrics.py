"""The console's /metrics: Prometheus' text format, its values read live, moving with the work
the system does (calls, a π run, chat deliveries, a worker killed)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pyro_objects import names
from pyro_objects.chat.subscriber import Subscriber
from pyro_objects.processes import wait_until
from pyro_objects.system.local import LocalSystem
from tests.support import name_server_of, proxy
from tests.web.support import Session, add_user

ROOM = "metrics"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with LocalSystem(tmp_path_factory.mktemp("metrics")) as system:
        system.start_nameserver()
        system.start_server()
        system.start_workers(3)
        system.start_chat()
        system.start_web()
        yield system


def scrape(session: Session) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape, parsed by prometheus_client."""
    status, text, headers = session.get("/metrics")
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(metrics: dict, name: str, **labels: str) -> float | None:
    return metrics.get((name, tuple(sorted(labels.items()))))


@pytest.mark.timeout(180)
def test_the_metrics_move_with_calls_pi_runs_chat_and_a_killed_worker(stack):
    console = Session(stack.web_url())
    before = wait_until(lambda: (lambda m: value(m, "pyro_objects_names_up", kind="worker") == 3
                                 and m)(scrape(console)), 20, "every worker probed up")
    assert value(before, "pyro_objects_nameserver_up") == 1
    assert value(before, "pyro_objects_names", kind="worker") == 3
    assert value(before, "pyro_objects_names", kind="greeting") == 1
    assert value(before, "pyro_objects_chat_up") == 1
    assert value(before, "pyro_objects_pi_running") == 0
    calls = value(before, "pyro_objects_calls_total", command="add") or 0
    errors = value(before, "pyro_objects_call_errors_total", command="div") or 0

    for line in ("add 2 3", "add 4 5", "div 1 0"):
        console.post("/api/calc", {"input": line})
    status, first, _ = console.post("/api/pi/runs", {"terms": "1e12"})
    assert status == 202, first
    status, second, _ = console.post("/api/pi/runs", {"terms": "1e12"})
    assert status == 202, second
    delivered = []
    with name_server_of(stack):
        subscriber = Subscriber(ROOM, "watcher", delivered.append)
        subscriber.join()
        try:
            with proxy(stack, names.CHAT) as chat:
                seqs = [chat.post(ROOM, "poster", f"hello {n}", f"metrics-{n}") for n in range(5)]
            assert subscriber.wait_for(seqs[-1], 10)
            stream = console.stream("/api/pi/events")
            try:
                during = wait_until(
                    lambda: (lambda m: (value(m, "pyro_objects_pi_terms_per_second") or 0) > 0
                             and m)(scrape(console)), 30, "the π run to report its rate")
            finally:
                stream.close()
        finally:
            subscriber.leave()

    assert value(during, "pyro_objects_calls_total", command="add") == calls + 2
    assert value(during, "pyro_objects_call_errors_total", command="div") == errors + 1
    assert value(during, "pyro_objects_call_errors_total", command="add") in (None, 0)
    assert value(during, "pyro_objects_call_seconds_count", command="add") == calls + 2
    assert value(during, "pyro_objects_pi_running") == 1
    assert value(during, "pyro_objects_pi_queue_length") == 1
    assert value(during, "pyro_objects_live_streams") == 1
    assert value(during, "pyro_objects_chat_subscribers") == 1
    assert value(during, "pyro_objects_chat_rooms") == 1
    assert value(during, "pyro_objects_chat_deliveries_total") >= value(
        before, "pyro_objects_chat_deliveries_total") + 5

    for run in (second, first):
        console.post(f"/api/pi/runs/{run['id']}/cancel")
    stack.processes["worker3"].kill()
    after = wait_until(lambda: (lambda m: value(m, "pyro_objects_names_up", kind="worker") == 2
                                and value(m, "pyro_objects_pi_running") == 0 and m)(
        scrape(console)), 30, "the killed worker to show down, the runs to end")
    assert value(after, "pyro_objects_names", kind="worker") == 3  # registered, not answering
    assert value(after, "pyro_objects_pi_queue_length") == 0
    assert value(after, "pyro_objects_live_streams") == 0
    assert value(after, "pyro_objects_chat_subscribers") == 0
    # a counter never goes down: the subscriber's deliveries stay counted after it left
    assert value(after, "pyro_objects_chat_deliveries_total") >= value(
        during, "pyro_objects_chat_deliveries_total")


@pytest.mark.timeout(120)
def test_an_unreachable_chat_server_is_chat_up_0_and_its_gauges_absent(stack):
    console = Session(stack.web_url())
    stack.stop("chat")
    try:
        metrics = scrape(console)
        assert value(metrics, "pyro_objects_chat_up") == 0
        assert not [key for key in metrics if key[0].startswith("pyro_objects_chat_")
                    and key[0] != "pyro_objects_chat_up"]
        assert value(metrics, "pyro_objects_nameserver_up") == 1  # the rest still served
    finally:
        stack.start_chat()


@pytest.mark.timeout(120)
def test_with_login_required_metrics_are_open_to_this_machine_and_to_logged_in_users(
        tmp_path):
    with LocalSystem(tmp_path) as system:
        system.start_nameserver()
        add_user(tmp_path / "web", "ops", PASSWORD)
        system.start_web("--require-login")
        url = system.web_url()
        assert scrape(Session(url))  # from 127.0.0.1: a Prometheus beside the console
        elsewhere = Session(url, source="127.0.0.2")
        status, body, _ = elsewhere.get("/metrics")
        assert status == 401 and "login required" in body
        assert elsewhere.get("/api/names")[0] == 401  # the rest as before
        elsewhere.log_in("ops", PASSWORD)
        assert value(scrape(elsewhere), "pyro_objects_nameserver_up") == 1
