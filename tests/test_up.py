"""`pyro-objects up` supervises: a process that exits is restarted with backoff, and the status
file and the console's Overview say so; Ctrl-C stops everything, also during a backoff."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from pyro_objects import names
from pyro_objects.errors import SetupError
from pyro_objects.naming import answering, locate_ns
from pyro_objects.processes import pid_alive, python, wait_until
from pyro_objects.system.local import HOST
from pyro_objects.system.supervisor import Supervisor
from tests.supervised import running_up
from tests.web.support import (  # noqa: F401 - fixtures
    PHONE,
    browser,
    layout_problems,
    playwright,
    watched_page,
)


def chat_uri(up) -> str | None:
    with locate_ns(HOST, up.status()["nameserver"]["port"]) as ns:
        return str(ns.list().get(names.CHAT) or "") or None


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    with running_up(tmp_path_factory.mktemp("up")) as running:
        yield running


@pytest.mark.timeout(120)
def test_a_killed_chat_server_is_restarted_registered_and_counted(up):
    before = up.process_named("chat")
    uri_before = chat_uri(up)
    os.kill(before["pid"], signal.SIGKILL)

    def back():
        chat = up.process_named("chat")
        uri = chat_uri(up)
        return (chat["pid"] != before["pid"] and chat["state"] == "up" and uri != uri_before
                and answering({names.CHAT: uri}) and chat)

    chat = wait_until(back, 60, "the chat server to be back, registered anew")
    assert pid_alive(chat["pid"]) and not pid_alive(before["pid"])
    assert (chat["restarts"], chat["last_exit"]) == (1, -signal.SIGKILL)
    assert "chat (pid" in up.log() and "restarted" in up.log()
    others = [p for p in up.status()["processes"] if p["name"] != "chat"]
    assert all(p["restarts"] == 0 and pid_alive(p["pid"]) for p in others)


@pytest.mark.timeout(120)
def test_the_overview_shows_each_process_and_its_restarts(up, browser):  # noqa: F811
    if up.process_named("chat")["restarts"] == 0:  # run alone: make the restart to show
        os.kill(up.process_named("chat")["pid"], signal.SIGKILL)
        wait_until(lambda: up.process_named("chat")["restarts"] == 1, 60, "a restart")
    url = up.status()["web"]
    with watched_page(browser, url) as tab:
        tab.page.goto(url)
        row = tab.page.locator('#processes tr[data-name="chat"]')
        row.wait_for(timeout=10_000)
        wait_until(lambda: row.locator(".restarts").inner_text() == "1", 10,
                   "the card to show the restart")
        chat = up.process_named("chat")
        assert str(chat["pid"]) in row.inner_text()
        assert row.locator(".last-exit").inner_text() == str(-signal.SIGKILL)
        shown = set(tab.page.locator("#processes tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.name)"))
        assert shown == {p["name"] for p in up.status()["processes"]}
        assert tab.errors == []
    with watched_page(browser, url, viewport=PHONE) as phone:  # the card fits a phone too
        phone.page.goto(url)
        phone.page.locator('#processes tr[data-name="chat"]').wait_for(timeout=10_000)
        assert layout_problems(phone.page) == []


@pytest.mark.timeout(120)
def test_the_name_server_restarts_with_its_registrations(up):
    before = up.process_named("nameserver")
    os.kill(before["pid"], signal.SIGKILL)
    wait_until(lambda: up.process_named("nameserver")["pid"] != before["pid"], 30,
               "the name server to restart")
    port = up.status()["nameserver"]["port"]

    def listing():
        try:
            with locate_ns(HOST, port) as ns:
                return ns.list()
        except SetupError:  # not up yet
            return None

    # Its first listing already has them: kept in its storage, not registered again
    # (servers re-register missing names only every RECHECK_SECONDS).
    first = wait_until(listing, 30, "the restarted name server to answer")
    assert {names.GREETING, names.COMPUTE, names.CHAT} <= set(first)


@pytest.mark.timeout(180)
def test_ctrl_c_during_a_backoff_stops_everything(tmp_path):
    with running_up(tmp_path, "--restart-delay", "60") as up:
        pids = [p["pid"] for p in up.status()["processes"]]
        os.kill(up.process_named("worker1")["pid"], signal.SIGKILL)
        wait_until(lambda: up.process_named("worker1")["state"] == "restarting", 10,
                   "up to notice the exit")
        assert up.interrupt(timeout=30) == 0, up.log()
        assert "stopped." in up.log()
        assert not [pid for pid in pids if pid_alive(pid)]
        assert not (up.run_dir / "status.json").exists()


@pytest.mark.timeout(60)
def test_the_backoff_doubles_at_each_exit_up_to_its_cap_and_resets_once_steady(own_system):
    own_system.start("sleeper", python("-c", "import time; time.sleep(600)"))
    supervisor = Supervisor(own_system, own_system.workdir / "status.json", first_delay=0.2,
                            max_delay=0.4, steady=1.5)
    watched = supervisor.watched["sleeper"]
    scheduled, waited = [], []
    for restarts in range(3):
        own_system.processes["sleeper"].kill()
        exited = time.monotonic()
        wait_until(lambda: supervisor.check() or watched.state == "restarting", 10, "the exit")
        scheduled.append(watched.restart_at - time.time())
        wait_until(lambda: supervisor.check() or watched.restarts > restarts,  # noqa: B023
                   10, "a restart")
        waited.append(time.monotonic() - exited)
    assert scheduled == pytest.approx([0.2, 0.4, 0.4], abs=0.15)  # doubled, then capped
    assert all(w >= d for w, d in zip(waited, [0.2, 0.4, 0.4], strict=True)), waited
    wait_until(lambda: supervisor.check() or supervisor.watched["sleeper"].delay == 0.2, 10,
               "the delay to reset after a steady run")
    written = json.loads((own_system.workdir / "status.json").read_text())
    assert [(p["name"], p["restarts"], p["pid"]) for p in written["processes"]] == [
        ("sleeper", 3, own_system.processes["sleeper"].pid)]
