"""Fixtures: real name servers and servers as processes on loopback, always stopped."""

from __future__ import annotations

import pytest

from pyrokit import config
from system.local import LocalSystem

config.configure()


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    """One name server and pyro_server.py shared by the tests that only call them."""
    with LocalSystem(tmp_path_factory.mktemp("system")) as shared:
        shared.start_nameserver()
        shared.start_server()
        yield shared


@pytest.fixture
def own_system(tmp_path):
    """A system of this test's own (nothing started yet), for tests that stop or kill things."""
    with LocalSystem(tmp_path) as private:
        yield private
