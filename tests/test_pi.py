"""Distributed π over real worker processes: exact combination, failover, errors, output."""

import functools
import json
import math
import operator
import re
import time

import pytest

from compute.coordinator import run_pi
from compute.kernel import pi_slice
from pyro_objects import names
from pyro_objects.errors import NoWorkersError
from tests.support import Terminal, client_command, name_server_of, prompt, run_client

pytestmark = pytest.mark.timeout(90)  # a lost slice or a missing bound fails, never hangs

WORKERS = ["example.compute.worker.1", "example.compute.worker.2"]


def reference(terms: int) -> float:
    """4 * the partial sum, computed here by the kernel in 1e9-term pieces."""
    step = 10**9
    return 4 * math.fsum(pi_slice(a, min(a + step, terms)) for a in range(0, terms, step))


def relative(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def pi_on(system, terms, deadline=60, **options):
    """run_pi against `system`, given up after `deadline` seconds (a bug fails, never hangs)."""
    with name_server_of(system):
        return run_pi(terms, deadline=deadline, **options)


def test_a_run_uses_every_worker_and_matches_the_reference(system):
    run = pi_on(system, 300_000_000)
    assert relative(run.pi, reference(300_000_000)) <= 1e-15
    assert sorted(w.name for w in run.workers) == WORKERS
    assert sum(w.terms for w in run.workers) == 300_000_000
    assert run.error == abs(run.pi - math.pi) <= run.bound == 1 / 300_000_000
    assert run.failed_slices == []


@pytest.mark.parametrize("options", [
    {"workers": 1}, {"workers": 2}, {"slice_terms": 1_234_567}, {"slice_terms": 99_999_989},
    {"workers": 1, "slice_terms": 7_000_003},
])
def test_the_result_does_not_depend_on_worker_count_or_slicing(system, options):
    terms = 123_456_789
    assert relative(pi_on(system, terms, **options).pi, reference(terms)) <= 1e-15


@pytest.mark.timeout(120)
def test_a_worker_killed_mid_run_changes_nothing_but_failed_slices(own_system):
    own_system.start_nameserver()
    own_system.start_workers(2)
    terms = 2_000_000_000

    def kill_worker_2_once_running(done, total, seconds):
        if done and "worker2" in own_system.processes:
            own_system.processes.pop("worker2").kill()

    run = pi_on(own_system, terms, progress=kill_worker_2_once_running)
    assert "worker2" not in own_system.processes  # it was killed during the run
    assert relative(run.pi, reference(terms)) <= 1e-15
    assert len(run.failed_slices) >= 1
    assert {f.worker for f in run.failed_slices} == {"example.compute.worker.2"}
    assert sum(w.terms for w in run.workers) == terms  # re-dispatched terms counted once


def test_all_workers_gone_mid_run_says_how_much_was_done(own_system):
    own_system.start_nameserver()
    own_system.start_workers(2)

    def kill_all(done, total, seconds):
        if done:
            for name in [n for n in own_system.processes if n.startswith("worker")]:
                own_system.processes.pop(name).kill()

    with pytest.raises(NoWorkersError, match=r"all 2 compute workers failed; \d+ of "
                                             r"4000000000 terms were done"):
        pi_on(own_system, 4_000_000_000, progress=kill_all)


def test_no_workers_registered_gives_a_clear_error_with_a_hint(own_system):
    own_system.start_nameserver()
    with pytest.raises(NoWorkersError, match="no compute workers are registered") as caught:
        pi_on(own_system, 1000)
    assert "pyro-objects worker" in caught.value.hint
    result = run_client(own_system, "pi", "1000")
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "error: no compute workers are registered in the name server",
        "hint: start some (pyro-objects worker), on this host or others"]


@pytest.mark.parametrize("terms", [0, -5, 2**51])
def test_a_bad_term_count_is_refused(system, terms):
    with pytest.raises(ValueError, match="terms must be an int from 1 to 2\\*\\*50"):
        pi_on(system, terms)


def test_one_shot_prints_the_run_and_writes_json(system, tmp_path):
    out = tmp_path / "run.json"
    result = run_client(system, "pi", "200000000", "--json-file", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("pi       3.14159")
    assert lines[1].startswith("error    ") and lines[2] == "bound    5.000e-09  (1/N)"
    assert lines[3].startswith("terms    200000000 in ") and lines[4] == "workers  2"
    data = json.loads(out.read_text())
    assert {"terms", "pi", "error", "bound", "seconds", "terms_per_second", "workers",
            "failed_slices"} <= set(data)
    assert data["terms"] == 200_000_000 and data["failed_slices"] == []
    assert relative(data["pi"], reference(200_000_000)) <= 1e-15
    assert sorted(w["name"] for w in data["workers"]) == WORKERS
    assert all({"name", "slices", "terms", "seconds"} <= set(w) for w in data["workers"])


CANCELLED = re.compile(r"pi cancelled after (\S+) of 2e\+12 terms, ([\d.]+) s")


def test_the_prompt_runs_pi_and_ctrl_c_cancels_a_long_run(system, tmp_path):
    with prompt(system, tmp_path) as terminal:
        assert "pi       3.1415" in terminal.run("pi 10000000 --workers 1")
        terminal.type("pi 2e12")  # ~20 minutes of work
        terminal.read_until("pi 2e12")
        terminal.read_until("\r[")  # the progress bar: the run is under way
        terminal.type("\x03")  # Ctrl-C
        done, seconds = CANCELLED.search(terminal.read_until("pyro> ", timeout=10)).groups()
        assert 0 < float(done) < 2e12 and float(seconds) > 0
        # No slice of the cancelled run is left: the workers are free at once for the next.
        began = time.monotonic()
        terminal.type("pi 100000000")
        terminal.read_until("workers  2", timeout=10)
        assert time.monotonic() - began < 5


def test_ctrl_c_during_a_one_shot_pi_says_what_was_done_and_exits_130(system):
    terminal = Terminal(client_command("pi", "2e12"), system.env)
    try:
        terminal.read_until("\r[")  # the progress bar: the run is under way
        terminal.type("\x03")  # Ctrl-C
        assert CANCELLED.search(terminal.read_until(" s\r\n", timeout=10))
        assert terminal.process.wait(timeout=10) == 130
    finally:
        terminal.close()


@pytest.mark.timeout(60)
def test_a_registered_worker_that_is_not_one_is_skipped_like_a_dead_one(own_system):
    """The name server's own URI (never pruned) registered as a worker costs only itself."""
    own_system.start_nameserver()
    own_system.start_workers(2)
    impostor = f"{names.WORKER_PREFIX}0-impostor"  # sorted first: it gets a slice at once
    with own_system.ns() as ns:
        ns.register(impostor, ns._pyroUri, metadata={names.WORKER_KIND})
    run = pi_on(own_system, 50_000_000, deadline=10)
    assert relative(run.pi, reference(50_000_000)) <= 1e-15
    assert sorted(w.name for w in run.workers) == WORKERS
    assert sum(w.terms for w in run.workers) == 50_000_000
    assert [f.worker for f in run.failed_slices] == [impostor]
    assert "pi_slice" in run.failed_slices[0].reason


@pytest.mark.timeout(60)
def test_a_lost_slice_is_re_sent_to_a_live_worker_without_waiting_for_the_deadline(own_system):
    own_system.start_nameserver()
    own_system.start_worker(1)
    with own_system.ns() as ns:  # a worker whose every call fails: its slice is lost
        ns.register(f"{names.WORKER_PREFIX}0-lost", ns._pyroUri, metadata={names.WORKER_KIND})
    began = time.monotonic()
    run = pi_on(own_system, 5_000_000, deadline=10, slice_terms=1_000_000)
    assert time.monotonic() - began < 10
    [lost] = run.failed_slices
    assert lost.stop - lost.start == 1_000_000
    assert [(w.name, w.terms, w.slices) for w in run.workers] == [(WORKERS[0], 5_000_000, 5)]
    assert relative(run.pi, reference(5_000_000)) <= 1e-15


@pytest.mark.timeout(60)
@pytest.mark.parametrize("terms", [1750, 2000, 2500])  # a plain sum in order is off for each
def test_slices_are_combined_exactly_one_term_slices_give_4_fsum_of_the_terms(system, terms):
    """The sums are added with math.fsum: in any order, the correctly rounded total."""
    independent = [(-1) ** n / (2 * n + 1) for n in range(terms)]
    # naive left-to-right addition is off (Python 3.12's sum() compensates, so not sum())
    assert 4 * functools.reduce(operator.add, independent) != 4 * math.fsum(independent)
    run = pi_on(system, terms, slice_terms=1)
    assert run.pi == 4 * math.fsum(independent)
    assert sum(w.slices for w in run.workers) == terms
