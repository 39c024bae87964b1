"""Shares of the console's bounded pools (live streams, chat conversations): so many in all,
and at most a share of them for any one user, or, without a login, any one address."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from flask import Response, request

from pyro_objects.web import auth
from pyro_objects.web.errors import ApiError

MAX_STREAMS = 64            # live progress streams open at once (each holds a server thread)
STREAMS_PER_OWNER = 8       # of those, one user's or one address's


def owner() -> str:
    """Whose share a request uses: its user's when logged in, else its address's."""
    user = auth.current_user()
    return f"user:{user}" if user else f"addr:{request.remote_addr}"


def _whose(owner_key: str) -> str:
    return "this user" if owner_key.startswith("user:") else "this address"


class Pool:
    """At most `limit` `what` at once, at most `share` of them one owner's: 503 when the pool
    is full, 429 when the owner's share is."""

    def __init__(self, what: str, limit: int, share: int, hint: str) -> None:
        self.what, self.limit, self.share, self.hint = what, limit, share, hint
        self.held: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, owner_key: str) -> None:
        with self._lock:
            if self.held[owner_key] >= self.share:
                raise ApiError(429, f"{self.share} {self.what} from {_whose(owner_key)} are "
                                    f"open already", self.hint)
            if self.held.total() >= self.limit:
                raise ApiError(503, f"{self.limit} {self.what} are open already", self.hint)
            self.held[owner_key] += 1

    def give_back(self, owner_key: str) -> None:
        with self._lock:
            self.held[owner_key] -= 1
            if self.held[owner_key] <= 0:
                del self.held[owner_key]

    def stream(self, events: Iterable[str], owner_key: str) -> Response:
        """Server-sent `events`, holding one of `owner_key`'s places until the stream closes."""
        self.take(owner_key)
        response = Response(events, mimetype="text/event-stream",
                            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        response.call_on_close(lambda: self.give_back(owner_key))
        return response
