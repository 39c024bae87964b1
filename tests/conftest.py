"""Fixtures: real name servers and servers as processes on loopback, always stopped."""

from __future__ import annotations

import pytest

from pyro_objects import config
from pyro_objects.system.local import LocalSystem

config.configure()


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    """The whole system (name server, pyro_server.py, the 3-node ring) shared by the tests
    that only call it."""
    with LocalSystem(tmp_path_factory.mktemp("system")) as shared:
        shared.start_all()
        yield shared


@pytest.fixture
def own_system(tmp_path):
    """A system of this test's own (nothing started yet), for tests that stop or kill things."""
    with LocalSystem(tmp_path) as private:
        yield private
