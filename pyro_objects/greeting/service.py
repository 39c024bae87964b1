"""The remote greeting object: Pyro4's tutorial `GreetingMaker`, with its input checked."""

from __future__ import annotations

import Pyro4

MAX_NAME_LENGTH = 200


@Pyro4.expose
@Pyro4.behavior(instance_mode="single")
class GreetingMaker:
    """The greeting object of Pyro4's tutorial."""

    def welcomeMessage(self, name):
        """"Hi welcome <name>" for a non-empty name of at most 200 characters."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a string (got {type(name).__name__})")
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"name must be 1 to {MAX_NAME_LENGTH} characters, not blank "
                             f"(got {len(name)} characters)")
        return "Hi welcome " + name
