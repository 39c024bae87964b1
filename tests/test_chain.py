"""The chain ring: routes, any size, any start order, dead and restarted nodes, limits."""

import signal
import subprocess
import sys
import threading
import time

import pytest

from chain import ring as rules
from chain.ring import node_name
from pyro_objects import names
from pyro_objects.errors import Refused
from pyro_objects.library import Client
from pyro_objects.library.client import hops_of
from pyro_objects.processes import ROOT, python
from tests.support import name_server_of, proxy, run_client

TUTORIAL_CLIENT = """
import Pyro4
obj = Pyro4.core.Proxy("PYRONAME:example.chainTopology.1")
print("Result=%s" % obj.process(["hello"]))
"""
# Ring node 2 as a plain Pyro4 server: with argv[1] "forward", Pyro4's own chain example
# (examples/circular/chain.py: process() only); else a node whose argv[2] method returns the
# Python expression argv[1] (a lie).
FAKE_NODE_2 = """
import sys
import Pyro4

REPLY, METHOD = sys.argv[1], sys.argv[2]


class Chain:
    def process(self, message):
        if REPLY != "forward":
            return eval(REPLY)
        if "2" in message:
            return ["complete at 2"]
        message.append("2")
        with Pyro4.Proxy("PYRONAME:example.chainTopology.3") as successor:
            result = successor.process(message)
        result.insert(0, "passed on from 2")
        return result


Chain = Pyro4.expose(type("Chain", (), {METHOD: Chain.process}))
daemon = Pyro4.Daemon(host="127.0.0.1")
Pyro4.locateNS().register("example.chainTopology.2", daemon.register(Chain()))
daemon.requestLoop()
"""
FULL_CIRCLE = ["passed on from 1", "passed on from 2", "passed on from 3", "complete at 1"]
FAST = ("--hop-timeout", "1")

pytestmark = pytest.mark.timeout(60)  # the slowest takes ~7 s; a lost message fails, not hangs


@pytest.fixture
def ring(system):
    """The shared system's 3-node ring, for tests that kill nothing."""
    return system


def start_fake_node_2(system, reply="forward", method="process"):
    """FAKE_NODE_2 between real nodes 1 and 3 of a 3-ring (system.stop_all ends it by PID)."""
    system.start_nameserver()
    for ident in (1, 3):
        system.start_ring_node(ident, 3, *FAST)
    system.start("fake2", python("-c", FAKE_NODE_2, reply, method),
                 ready=lambda: system.serving(node_name(2)), registers=[node_name(2)])


def chain(system, message="hello", start=1):
    """Client.chain through `system`'s name server."""
    with name_server_of(system):
        return Client(timeout=10.0, ring_timeout=20.0).chain(message, start)


def send(system, message, start=1):
    with proxy(system, node_name(start)) as node:
        return node.process(message)


def test_the_tutorial_client_prints_the_four_hop_route(ring):
    result = subprocess.run([sys.executable, "-c", TUTORIAL_CLIENT], capture_output=True,
                            text=True, timeout=60, env=ring.env)
    assert result.stdout == f"Result={FULL_CIRCLE}\n", result.stderr


@pytest.mark.parametrize("start, order", [(1, "1231"), (2, "2312"), (3, "3123")])
def test_a_message_goes_round_from_any_node(ring, start, order):
    route = send(ring, ["hello"], start)
    assert route == [f"passed on from {n}" for n in order[:3]] + [f"complete at {order[3]}"]


def test_a_five_node_ring_runs_from_the_same_code(own_system):
    own_system.start_nameserver()
    own_system.start_ring(5)
    assert send(own_system, ["hi"]) == [f"passed on from {n}" for n in range(1, 6)] + [
        "complete at 1"]


def test_nodes_may_start_in_any_order(own_system):
    own_system.start_nameserver()
    for ident in (3, 2, 1):
        own_system.start_ring_node(ident, 3)
    assert send(own_system, ["hello"]) == FULL_CIRCLE


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_with_healing_off_a_dead_node_gives_a_clear_error(own_system, how):
    own_system.start_nameserver()
    own_system.start_ring(3, "--no-heal", *FAST)
    getattr(own_system.processes.pop("ring2"), how)()
    with pytest.raises(ConnectionError, match="ring node example.chainTopology.2 could not be "
                                              "reached from node 1"):
        send(own_system, ["hello"])


def test_a_hung_node_is_named_within_the_hop_timeouts(own_system):
    own_system.start_nameserver()
    own_system.start_ring(3, "--no-heal", *FAST)
    hung = own_system.processes["ring3"]
    hung.popen.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(ConnectionError, match="example.chainTopology.3 could not be reached "
                                                  "from node 2: no answer within 2 s"):
            send(own_system, ["hello"])
    finally:
        hung.popen.send_signal(signal.SIGCONT)


def test_a_hung_node_costs_its_timeout_once_then_is_skipped_at_once(own_system):
    own_system.start_nameserver()
    own_system.start_ring(3, *FAST)
    hung = own_system.processes["ring2"]
    hung.popen.send_signal(signal.SIGSTOP)
    try:
        timed = []
        for _ in range(3):
            began = time.monotonic()
            assert send(own_system, ["hello"]) == [
                "passed on from 1", "skipped 2", "passed on from 3", "complete at 1"]
            timed.append(time.monotonic() - began)
        assert timed[0] >= 3  # node 1 waits 1 s per node ahead for node 2 to answer
        assert max(timed[1:]) < 0.5, timed
    finally:
        hung.popen.send_signal(signal.SIGCONT)


def test_with_two_hung_nodes_the_live_node_before_them_is_not_blamed(own_system):
    own_system.start_nameserver()
    own_system.start_ring(5, *FAST)
    hung = [own_system.processes[f"ring{k}"] for k in (3, 4)]
    for process in hung:
        process.popen.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(ConnectionError, match="ring node example.chainTopology.2 answers but "
                                                  "did not return the message from node 1"):
            send(own_system, ["hello"])
    finally:
        for process in hung:
            process.popen.send_signal(signal.SIGCONT)
    # Node 2 was not taken for dead: the next message goes through it.
    assert send(own_system, ["again"])[:2] == ["passed on from 1", "passed on from 2"]


def test_a_ring_too_large_to_answer_within_the_callers_timeout_is_refused(own_system):
    result = subprocess.run(
        [sys.executable, "-m", "chain.server", "--id", "1", "--ring", "64", "--hop-timeout", "2"],
        capture_output=True, text=True, timeout=60, env=own_system.env, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: a ring of 64 nodes with --hop-timeout 2 may take 256 s per message, longer "
        "than callers wait (PYRO_COMMTIMEOUT=30 s)",
        "hint: use --hop-timeout 0.211 or less, or raise PYRO_COMMTIMEOUT for every process"]


def test_a_large_rings_default_hop_timeout_fits_the_callers_timeout(own_system):
    own_system.env["PYRO_COMMTIMEOUT"] = "4"
    own_system.start_nameserver()
    own_system.start_ring(12)
    hung = own_system.processes["ring2"]
    hung.popen.send_signal(signal.SIGSTOP)
    try:  # node 1 gives up on node 2 and routes around it before the caller's 4 s are up
        with proxy(own_system, node_name(1), timeout=4) as node:
            route = node.process(["hello"])
        assert route[:3] == ["passed on from 1", "skipped 2", "passed on from 3"]
    finally:
        hung.popen.send_signal(signal.SIGCONT)


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_with_healing_on_the_ring_routes_around_a_dead_node(own_system, how):
    own_system.start_nameserver()
    own_system.start_ring(3, *FAST)
    getattr(own_system.processes.pop("ring2"), how)()
    assert send(own_system, ["hello"]) == [
        "passed on from 1", "skipped 2", "passed on from 3", "complete at 1"]


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_a_restarted_node_rejoins_the_ring_at_the_next_message(own_system, how):
    own_system.start_nameserver()
    own_system.start_ring(3, *FAST)
    getattr(own_system.processes.pop("ring2"), how)()
    assert "skipped 2" in send(own_system, ["hello"])
    own_system.start_ring_node(2, 3, *FAST)
    assert send(own_system, ["hello"]) == FULL_CIRCLE


def test_a_ring_larger_than_the_hop_limit_is_refused_at_start(own_system):
    result = subprocess.run(
        [sys.executable, "-m", "chain.server", "--id", "1", "--ring", "5", "--max-hops", "3"],
        capture_output=True, text=True, timeout=60, env=own_system.env, cwd=ROOT)
    assert result.returncode == 2
    assert "--ring must be at most --max-hops (got --ring 5, --max-hops 3)" in result.stderr


@pytest.mark.parametrize("message, error, words", [
    ("hello", TypeError, "message must be a list of strings"),
    (None, TypeError, "message must be a list of strings"),
    ([1, 2], TypeError, r"message\[0\] must be a string"),
    ([["nested"]], TypeError, r"message\[0\] must be a string"),
    (["x" * 1001], ValueError, r"message\[0\] must be at most 1000 characters"),
    (["a"] * 257, ValueError, "at most 256 items"),
    ([node_name(9)] * 64, ValueError, "hop limit 64"),
])
def test_bad_messages_get_a_clear_error_and_the_node_keeps_serving(ring, message, error, words):
    with pytest.raises(error, match=words):
        send(ring, message)
    assert send(ring, ["hello"]) == FULL_CIRCLE


def test_50_concurrent_messages_all_complete(ring):
    routes, errors = {}, []

    def client(index: int) -> None:
        try:
            routes[index] = send(ring, [f"message {index}"], start=index % 3 + 1)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(routes) == 50
    for index, route in routes.items():
        start = index % 3 + 1
        assert route[0] == f"passed on from {start}" and route[-1] == f"complete at {start}"
        assert len(route) == 4


def test_the_client_prints_the_route_and_the_round_trip_time(ring):
    result = run_client(ring, "chain", "hello", "--start", "3")
    lines = result.stdout.splitlines()
    assert lines[:4] == ["passed on from 3", "passed on from 1", "passed on from 2",
                         "complete at 3"]
    assert lines[4].startswith("round trip ") and lines[4].endswith(" ms")
    assert result.returncode == 0


@pytest.mark.timeout(60)
def test_a_ring_name_pointing_at_an_object_that_is_no_node_is_routed_around(own_system):
    own_system.start_nameserver()
    own_system.start_ring(3, *FAST)
    own_system.processes.pop("ring2").kill()
    with own_system.ns() as ns:  # the name server's own URI: alive, never pruned, no process()
        ns.register(node_name(2), ns._pyroUri)
    assert send(own_system, ["hello"]) == [
        "passed on from 1", "skipped 2", "passed on from 3", "complete at 1"]


@pytest.mark.parametrize(("name", "ident"), [
    ("example.chainTopology.1", 1), ("example.chainTopology.1000000", 10**6),
    ("example.chainTopology.²", None), ("example.chainTopology.١", None),
    ("example.chainTopology.01", None), ("example.chainTopology.0", None),
    ("example.chainTopology.1000001", None), ("example.chainTopology.9" + "9" * 5000, None),
    ("example.chainTopology.-1", None), ("example.chainTopology. 1", None),
    ("example.chainTopology.1.x", None), ("example.chainTopology.", None),
    ("example.chainTopology1", None), ("other.1", None),
])
def test_ring_names_are_parsed_strictly(name, ident):
    assert names.ring_node_id(name) == ident
    assert names.is_invalid(name) == (name.startswith(names.RING_PREFIX) and ident is None)


def test_a_node_with_only_process_is_a_ring_node_not_a_dead_one(own_system):
    """Pyro4's own chain example (or a node from before trace()) as node 2."""
    start_fake_node_2(own_system)
    assert send(own_system, ["hello"]) == FULL_CIRCLE
    trip = chain(own_system)
    assert trip.route == FULL_CIRCLE
    assert [(h.step, h.node) for h in trip.hops] == [
        ("passed", 1), ("passed", 2), ("passed", 3), ("complete", 1)]
    assert trip.hops[0].ms > 0 and [h.ms for h in trip.hops[1:]] == [None, None, None]
    from_2 = chain(own_system, start=2)  # the library falls back on process() as nodes do
    assert from_2.route == ["passed on from 2", "passed on from 3", "passed on from 1",
                            "complete at 2"]
    assert [h.ms for h in from_2.hops] == [None] * 4


def test_a_route_given_as_lines_that_are_no_hops_is_refused():
    with pytest.raises(Refused, match=r"malformed route: route\[1\] must be a route line"):
        hops_of(["passed on from 1", "went for a walk", "complete at 1"], lines=True)


HUGE = "[{'step': 'passed', 'node': 'x' * 2**20, 'ms': 1.0}] * 29 + [" \
       "{'step': 'complete', 'node': 1, 'ms': 0.0}]"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("reply", "method"), [
    ("['passed on from 2', 'complete at 1']", "trace"),  # strings where hops are expected
    ("[{'step': 'bogus', 'node': 2, 'ms': 1.0}]", "trace"),
    ("{'step': 'complete', 'node': 2, 'ms': 1.0}", "trace"),  # no list
    ("'complete at 1'", "trace"),
    ("[{'step': 'complete', 'node': 1, 'ms': -1.0}]", "trace"),
    pytest.param(HUGE, "trace", id="30 hops of 1 MB names"),
    ("[{'step': 'complete', 'node': 1, 'ms': 0.0}] * 100000", "trace"),
    ("['passed on from 2', 'went for a walk', 'complete at 1']", "process"),
    ("[{'step': 'complete', 'node': 1, 'ms': 0.0}]", "process"),
    ("None", "process"),
])
def test_a_node_returning_a_bad_route_is_routed_around_and_the_ring_serves_on(
        own_system, reply, method):
    start_fake_node_2(own_system, reply, method)
    routed_around = ["passed on from 1", "skipped 2", "passed on from 3", "complete at 1"]
    assert send(own_system, ["hello"]) == routed_around
    assert chain(own_system).route == routed_around
    assert "example.chainTopology.2 returned a malformed route" in \
        own_system.processes["ring1"].log()
    assert send(own_system, ["again"]) == routed_around


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_a_skipped_node_has_the_time_spent_trying_it_or_none_if_not_tried(own_system, how):
    own_system.start_nameserver()
    own_system.start_ring(3, *FAST)
    getattr(own_system.processes.pop("ring2"), how)()
    first, second = chain(own_system).hops[1], chain(own_system).hops[1]
    assert (first.step, first.node, second.step, second.node) == ("skipped", 2, "skipped", 2)
    if how == "stop":  # unregistered: never tried
        assert first.ms is None
    else:  # still registered: tried once (a refused connection), then known dead
        assert isinstance(first.ms, float) and first.ms > 0
    assert second.ms is None


GOOD = [{"step": "passed", "node": 1, "ms": 1.5}, {"step": "skipped", "node": 2, "ms": None},
        {"step": "passed", "node": "alpha", "ms": 0}, {"step": "complete", "node": 1, "ms": 0.0}]


def hop(step="complete", node=1, ms=0.0):
    return {"step": step, "node": node, "ms": ms}


def test_a_good_route_is_taken_as_it_is_and_its_lines_parse_back():
    assert rules.check_route(GOOD, 4) == GOOD
    assert [h.text for h in hops_of(GOOD)] == [
        "passed on from 1", "skipped 2", "passed on from alpha", "complete at 1"]
    lines = [rules.hop_text(h) for h in GOOD]
    assert rules.parse_route(lines) == [{**h, "ms": None} for h in GOOD]


@pytest.mark.parametrize(("route", "words"), [
    (None, "route must be a list of hops"),
    ("passed on from 1", "route must be a list of hops"),
    ({"step": "complete", "node": 1, "ms": 0}, "route must be a list of hops"),
    ([], "route must have 1 to"),
    ([hop("passed")] * rules.MAX_ROUTE_HOPS + [hop()], "route must have 1 to 513 hops"),
    (["complete at 1"], r"route\[0\] must be a dict"),
    ([7], r"route\[0\] must be a dict"),
    ([{"step": "complete"}], "must have the keys step, node and ms"),
    ([{**hop(), "x": "y" * 10**6}], "must have the keys step, node and ms"),
    ([hop("bogus")], "step must be one of passed, skipped, complete"),
    ([hop(["complete"])], r"step must be one of .* \(got list\)"),
    ([hop("passed")], "step must be complete at the end of the route"),
    ([hop(), hop()], "step must be complete at the end of the route and only there"),
    ([hop(node=0)], "node must be a node id from 1 to 1000000"),
    ([hop(node=10**6 + 1)], "node must be a node id"),
    ([hop(node=True)], "node must be a node id"),
    ([hop(node=1.0)], "node must be a node id"),
    ([hop(node="")], "or a name of 1 to 64 characters"),
    ([hop(node="x" * 65)], r"a name of 1 to 64 characters \(got str of 65 characters\)"),
    ([hop(node="x" * 2**20)], "a name of 1 to 64 characters"),
    ([hop(ms=-1.0)], "ms must be a finite number >= 0 or None"),
    ([hop(ms=float("nan"))], "ms must be a finite number"),
    ([hop(ms=float("inf"))], "ms must be a finite number"),
    ([hop(ms="1")], "ms must be a finite number"),
    ([hop(ms=True)], "ms must be a finite number"),
])
def test_a_route_that_is_no_list_of_hops_is_refused_not_a_crash(route, words):
    """A ring name served by something else must cost the caller only an error."""
    with pytest.raises((TypeError, ValueError), match=words):
        rules.check_route(route, rules.MAX_ROUTE_HOPS)
    with pytest.raises(Refused, match="a ring node returned a malformed route: .*" + words):
        hops_of(route)


def test_a_node_checks_its_successors_route_against_its_own_hop_limit():
    assert rules.route_limit(64) == 129 and rules.route_limit(10**6) == rules.MAX_ROUTE_HOPS
    with pytest.raises(ValueError, match="route must have 1 to 129 hops"):
        rules.check_route([hop("passed")] * 129 + [hop()], rules.route_limit(64))


@pytest.mark.parametrize(("lines", "error", "words"), [
    (None, TypeError, "route must be a list of route lines"),
    ("complete at 1", TypeError, "route must be a list of route lines"),
    (["went for a walk"], ValueError, r"route\[0\] must be a route line .* 'went for a walk'"),
    (["complete at 1", 1], ValueError, r"route\[1\] must be a route line .* \(got 1\)"),
    (["passed on by 1"], ValueError, "must be a route line"),
    ([{"step": "complete", "node": 1, "ms": 0}], ValueError, r"\(got dict\)"),
])
def test_route_lines_that_are_no_hops_are_refused(lines, error, words):
    with pytest.raises(error, match=words):
        rules.parse_route(lines)
