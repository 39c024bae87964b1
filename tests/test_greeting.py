"""The greeting object, as Pyro4's tutorial client uses it."""

import subprocess
import sys

import pytest

from tests.support import proxy

TUTORIAL_CLIENT = """
import Pyro4
name = input("What is your name? ").strip()
greeting_maker = Pyro4.Proxy("PYRONAME:server")    # use name server object lookup uri shortcut
print(greeting_maker.welcomeMessage(name))
"""


def test_tutorial_client_works_unchanged(system):
    result = subprocess.run([sys.executable, "-c", TUTORIAL_CLIENT], input="Ana\n", text=True,
                            capture_output=True, timeout=60, env=system.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("Hi welcome Ana\n")


def test_welcome_message_greets_by_name(system):
    with proxy(system, "server") as greeter:
        assert greeter.welcomeMessage("Bob Smith") == "Hi welcome Bob Smith"


@pytest.mark.parametrize("bad, error, words", [
    (42, TypeError, "name must be a string"),
    (None, TypeError, "name must be a string"),
    ("", ValueError, "not blank"),
    ("   ", ValueError, "not blank"),
    ("x" * 201, ValueError, "1 to 200 characters"),
])
def test_welcome_message_refuses_bad_names_and_keeps_serving(system, bad, error, words):
    with proxy(system, "server") as greeter:
        with pytest.raises(error, match=words):
            greeter.welcomeMessage(bad)
        assert greeter.welcomeMessage("Ana") == "Hi welcome Ana"
