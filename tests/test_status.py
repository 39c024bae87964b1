"""`pyro-objects status`: a running `up`'s processes, checked (pid alive, names registered and
answering), as a table or JSON; exit 0 all up, 1 something down, 2 no `up` running."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from pyro_objects import names
from pyro_objects.processes import ROOT, wait_until
from tests.supervised import running_up, status_command


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    # A restart delay longer than the tests: a process stopped here stays down.
    with running_up(tmp_path_factory.mktemp("status"), "--restart-delay", "300") as running:
        yield running


@pytest.mark.timeout(60)
def test_status_lists_every_process_alive_with_its_names_answering(up):
    result = status_command(up.env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"up (pid {up.process.pid})")
    assert lines[-1] == "all up"
    for process in up.status()["processes"]:
        (row,) = [line for line in lines if line.split()[0] == process["name"]]
        assert row.split()[1:3] == [str(process["pid"]), "yes"], row
        for name in process["names"]:
            assert name in row and "not" not in row, row
    report = json.loads(status_command(up.env, "--json").stdout)
    assert report["ok"] is True
    chat = next(p for p in report["processes"] if p["name"] == "chat")
    assert chat["names"] == [{"name": names.CHAT, "uri": chat["names"][0]["uri"],
                              "registered": True, "answers": True}]


@pytest.mark.timeout(90)
def test_status_says_which_process_is_down_and_exits_1(up):
    worker = up.process_named("worker2")
    os.kill(worker["pid"], signal.SIGKILL)
    wait_until(lambda: up.process_named("worker2")["state"] == "restarting", 10,
               "up to notice the exit")
    report = wait_until(lambda: (lambda r: not r["ok"] and r)(
        json.loads(status_command(up.env, "--json").stdout)), 20, "status to see it down")
    down = {p["name"]: p for p in report["processes"] if not p["alive"]}
    assert list(down) == ["worker2"]
    assert down["worker2"]["last_exit"] == -signal.SIGKILL
    assert down["worker2"]["names"][0]["answers"] is False
    result = status_command(up.env)
    assert result.returncode == 1
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("worker2 ")]
    assert "restarting" in row and f"{names.WORKER_PREFIX}2 (not" in row, row
    assert result.stdout.splitlines()[-1] == "something is down"


@pytest.mark.timeout(60)
def test_status_without_up_exits_2_with_a_hint(tmp_path):
    env = {**os.environ, "RUN_DIR": str(tmp_path)}
    result = status_command(env)
    assert result.returncode == 2
    assert "error: no pyro-objects up is running" in result.stderr
    assert "hint: start it with make up" in result.stderr
    as_json = status_command(env, "--json")
    assert (as_json.returncode, json.loads(as_json.stdout)["up"]) == (2, None)


@pytest.mark.timeout(200)
def test_status_of_an_up_that_was_killed_is_2_not_a_stale_all_up(tmp_path):
    with running_up(tmp_path) as up:
        up.process.kill()  # no chance to clean up: its status file stays
        up.process.wait(timeout=10)
        result = status_command(up.env)
        assert result.returncode == 2, result.stdout
        assert "which has stopped" in result.stderr


@pytest.mark.timeout(30)
def test_make_status_runs_the_command_with_make_ups_run_directory():
    result = subprocess.run(["make", "-n", "status"], capture_output=True, text=True,
                            timeout=30, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "RUN_DIR=${RUN_DIR:-run}" in result.stdout
    assert "-m pyro_objects status" in result.stdout
