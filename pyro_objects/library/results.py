"""What the library's calls return: plain dataclasses, and one way to make JSON and text of
them, so that every front end shows the same values."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class NameEntry:
    """A registered name: its URI, metadata (sorted), kind label, and whether the name breaks
    its kind's rules (a ring name without a node id)."""

    name: str
    uri: str
    metadata: tuple[str, ...]
    kind: str
    invalid: bool = False


@dataclass(frozen=True)
class Ping:
    """Whether the object registered as `name` answers a handshake, and in how many ms."""

    name: str
    uri: str
    alive: bool
    ms: float | None


@dataclass(frozen=True)
class Hop:
    """One step of a message round the ring: `step` is passed, skipped or complete; `ms` the
    time from the message reaching `node` to its answer leaving it, which holds the time of
    every node after it (for a skipped node: the time spent trying it; None if it was not
    tried, or if the node has only the tutorial's process())."""

    step: str
    node: int | str
    ms: float | None
    text: str  # the tutorial's route line: "passed on from 1"


@dataclass(frozen=True)
class Round:
    """A message's trip round the ring: the tutorial's route lines, the hops, and the round
    trip as the caller measured it."""

    start: int
    message: str
    route: list[str]
    hops: list[Hop]
    ms: float


@dataclass(frozen=True)
class Posted:
    """A chat message posted: its number in the room; `duplicate` if its id had been posted
    before (then nothing was posted, and `seq` is the first post's number)."""

    room: str
    seq: int
    duplicate: bool


def as_json(value: object) -> object:
    """`value` as JSON-ready data: dataclasses become dicts (also nested), the rest as is;
    a PiRun gives the keys of `pi --json`."""
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    return value


def text_of(value: object) -> str:
    """A result as both front ends show it: floats in full precision (repr), the rest as str."""
    return repr(value) if isinstance(value, float) else str(value)


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 slice`, `2 slices` (`many` for irregular plurals)."""
    return f"{count} {word if count == 1 else many or word + 's'}"
