"""Delivery to one subscriber: its own bounded queue and sender thread, oneway callbacks.

A subscriber that is slow, stalled or gone holds up only its own sender: every other
subscriber's events go out from their own threads. Its queue is bounded, and so is what the
kernel buffers for it (SEND_BUFFER), so a stalled one soon overflows and is dropped.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

import Pyro4
import Pyro4.errors
import Pyro4.message

from pyro_objects.chat.peers import calling_back
from pyro_objects.proxy import Proxy

log = logging.getLogger(__name__)

BATCH = 64                  # events per callback at most
SEND_BUFFER = 64 * 1024     # bytes the kernel may hold for one subscriber
RETRY_SECONDS = 0.25        # between attempts while a subscriber's callbacks fail
CALLBACK_METHOD = "deliver"


class CallbackProxy(Proxy):
    """An at-most-once proxy to a subscriber's callback object whose `deliver` is always
    oneway, whatever the subscriber's metadata says: its sender never waits for an answer."""

    def _pyroInvoke(self, methodname, vargs, kwargs, flags=0, objectId=None):  # noqa: N803 - Pyro4's signature
        if methodname == CALLBACK_METHOD:
            flags |= Pyro4.message.FLAGS_ONEWAY
        return super()._pyroInvoke(methodname, vargs, kwargs, flags, objectId)


class Outbox:
    """Events for one subscriber, sent in order as `deliver(first, events)`, where `first`
    numbers the batch's first event (1, 2, ... per subscriber), so that a batch sent again
    after a failure is recognised by the subscriber.

    A subscriber whose callbacks fail for `grace` seconds is given up: `on_drop(reason)`.
    """

    def __init__(self, uri: str | Pyro4.URI, label: str, limit: int, grace: float,
                 on_drop: Callable[[str], None]) -> None:
        self.uri, self.label, self.limit, self.grace = uri, label, limit, grace
        self.on_drop = on_drop
        self.proxy = CallbackProxy(uri)
        self.queue: deque[dict] = deque()
        self.sent = 0
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"outbox {label}", daemon=True)

    def connect(self, timeout: float) -> None:
        """Connect to the callback object (raises as Pyro4 does); TypeError if it has no
        `deliver` method."""
        self.proxy._pyroTimeout = timeout
        with calling_back():
            self.proxy._pyroBind()
        sock = self.proxy._pyroConnection.sock
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        # Oneway sends follow each other unanswered: without this, Nagle's algorithm holds
        # each one back until the previous is acknowledged (up to 40 ms of delayed ACK).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.proxy._pyroTimeout = self.grace  # a send blocked this long is a failure
        if CALLBACK_METHOD not in self.proxy._pyroMethods:
            self.proxy._pyroRelease()
            raise TypeError(f"callback must be a Pyro4 object with a {CALLBACK_METHOD}(first, "
                            f"events) method (the object at {self.uri} has none)")

    def start(self) -> None:
        self._thread.start()

    def put(self, event: dict) -> bool:
        """Queue `event` (shared with other outboxes: never changed); False if the queue is
        full, and the subscriber is to be dropped."""
        if len(self.queue) >= self.limit:
            return False
        self.queue.append(event)
        self._wake.set()
        return True

    def close(self) -> None:
        """Stop sending; what is queued is discarded, and a send blocked on a stalled
        subscriber fails at once."""
        self._closed.set()
        self._wake.set()
        connection = self.proxy._pyroConnection
        if connection is not None and self._thread.is_alive():
            try:  # socket.socket's shutdown, not the TLS socket's, which is not thread-safe
                socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                self._wake.wait()
                self._wake.clear()
                while self.queue and not self._closed.is_set():
                    batch = [self.queue.popleft() for _ in range(min(BATCH, len(self.queue)))]
                    if not self._send(batch):
                        return
        except Exception:  # a broken sender must drop its subscriber, not hang it
            log.exception("sending to %s failed", self.label)
            self.on_drop("its sender failed")
        finally:
            self.proxy._pyroRelease()

    def _send(self, batch: list[dict]) -> bool:
        """Deliver `batch`, connecting again after failures for up to `grace` seconds; False
        when the subscriber was dropped or the outbox closed."""
        failing_since = None
        while not self._closed.is_set():
            started = time.monotonic()
            try:
                if self.proxy._pyroConnection is None:
                    self.connect(self.grace)
                with calling_back():
                    self.proxy.deliver(self.sent + 1, batch)
                self.sent += len(batch)
                return True
            except Pyro4.errors.CommunicationError as exc:
                self.proxy._pyroRelease()
                failing_since = failing_since or started
                failed_for = time.monotonic() - failing_since
                log.debug("delivery to %s failed (for %.1f s): %s", self.label, failed_for, exc)
                if failed_for >= self.grace:
                    self.on_drop(f"its callbacks failed for {failed_for:.1f} s: {exc}")
                    return False
                self._closed.wait(RETRY_SECONDS)
        return False
