"""500 clients connected at once: none refused, none given a wrong result."""

from bench.load import run_load
from system.local import HOST


def test_500_concurrent_clients_get_served_without_errors(system):
    result = run_load(clients=500, calls=4, seconds=120, ns=(HOST, system.ns_port))
    assert result.errors == {}
    assert result.calls == 500 * 4
