"""Parsing command arguments and formatting results, shared by every client command."""

from __future__ import annotations

import shlex


class UsageError(Exception):
    """A command was typed with the wrong arguments."""


def parse_number(name: str, text: str) -> int | float:
    """An int if `text` is one, else a float; UsageError naming the argument otherwise."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    raise UsageError(f"{name} must be a number (got {text!r})")


def parse_int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{name} must be a whole number (got {text!r})") from None


def split_args(arg: str, names: str) -> list[str]:
    """Exactly the arguments listed in `names` (e.g. "A B"), else a usage error."""
    words, wanted = shlex.split(arg), names.split()
    if len(words) != len(wanted):
        raise UsageError(f"expected {len(wanted)} argument(s): {names} (got {len(words)})")
    return words


def pop_option(words: list[str], option: str) -> str | None:
    """Remove `option VALUE` from `words` and return VALUE (None when absent)."""
    if option not in words:
        return None
    index = words.index(option)
    if index + 1 >= len(words):
        raise UsageError(f"{option} needs a value")
    value = words[index + 1]
    del words[index:index + 2]
    return value


def format_result(value: object) -> str:
    """Floats in full precision (repr), everything else as str."""
    return repr(value) if isinstance(value, float) else str(value)
