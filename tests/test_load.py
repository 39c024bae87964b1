"""500 clients connected at once: none refused, none given a wrong result."""

import threading

from bench.load import run_load
from pyro_objects.system.local import HOST
from tests.support import proxy


def test_500_concurrent_clients_get_served_without_errors_and_the_ring_keeps_working(system):
    results = []
    load = threading.Thread(target=lambda: results.append(
        run_load(clients=500, calls=4, seconds=120, ns=(HOST, system.ns_port))))
    load.start()
    routes = []
    with proxy(system, "example.chainTopology.1") as ring:
        while load.is_alive() and len(routes) < 200:
            routes.append(ring.process(["under load"]))
    load.join(timeout=300)
    assert results[0].errors == {}
    assert results[0].calls == 500 * 4
    assert routes and all(route[-1] == "complete at 1" and len(route) == 4 for route in routes)
