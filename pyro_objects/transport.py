"""Pyro4's thread-pool server, with connections that cannot starve the pool.

Pyro4 gives each client connection a worker thread for as long as the connection lives, and
refuses a new one when all THREADPOOL_SIZE threads are taken: a thousand idle (or hostile,
silent) connections deny everyone else. This server keeps Pyro4's model and adds:

- a handshake deadline: a connection that has not completed Pyro's handshake (and, with TLS,
  the TLS one) within HANDSHAKE_SECONDS of being accepted is closed;
- an I/O deadline instead of a socket timeout: a connection stalled inside a request (part
  of it received) or in a send for longer than COMMTIMEOUT is closed, by a reaper thread, so
  the sockets can stay blocking (a socket timeout costs a poll() on every read). A connection
  idle between requests is not: stock Pyro4 proxies do not reconnect, so a healthy idle
  connection is kept while there is room;
- eviction when full: a new connection that finds every worker taken closes the connections
  that have waited longest for their clients, idle or stalled (never one whose call is
  running), and takes a freed worker. A pyro_objects proxy whose idle connection was closed
  reconnects before its next call (pyro_objects.proxy), so legitimate clients do not notice.
"""

from __future__ import annotations

import logging
import math
import resource
import socket
import struct
import threading
import time

from Pyro4.configuration import config
from Pyro4.errors import ConnectionClosedError
from Pyro4.socketserver import threadpoolserver
from Pyro4.socketserver.threadpool import NoFreeWorkersError
from Pyro4.socketutil import SocketConnection

log = logging.getLogger(__name__)

HANDSHAKE_SECONDS = 5.0
REAP_INTERVAL = 0.25
EVICT_WAIT_SECONDS = 1.0
EVICT_SHARE = 1 / 64
LISTEN_BACKLOG = 1024
FILES_PER_CONNECTION = 1
SPARE_FILES = 64
# A Pyro4 message header (Pyro4.message.Message.header_format): only the sizes of what follows.
HEADER = struct.Struct("!12xi2xH4x")
# Requests are small; replies may be large (a name server's list). PYRO_MAX_MESSAGE_SIZE bounds
# both, as in Pyro4, and a request is refused above the lower of it and this.
MAX_REQUEST_SIZE = 1024 * 1024


class TrackedConnection(SocketConnection):
    """A client connection that records since when it has waited for its client: idle
    (between requests, nothing of the next one received) or stalled (inside a request, or in
    a send)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock)
        self.handshaken = False
        self.accepted = time.monotonic()
        self.idle_since: float | None = None
        self.blocked_since: float | None = self.accepted
        self.unread = 0  # bytes of the current message not received yet

    @property
    def waiting_since(self) -> float | None:
        """Since when this connection has waited for its client, idle or stalled; else None."""
        return self.idle_since if self.idle_since is not None else self.blocked_since

    def recv(self, size: int) -> bytes:
        if self.unread or size != HEADER.size:
            self.unread = max(0, self.unread - size)
            return self._recv_promptly(size)
        # Between messages: waiting for the next request is idle, not a stall. One receive, as
        # Pyro4's; what of the header it did not bring must come promptly.
        self.idle_since, self.blocked_since = time.monotonic(), None
        try:
            header = self.sock.recv(size)
        except OSError as exc:
            raise ConnectionClosedError(f"receiving: connection lost: {exc}") from None
        finally:
            self.idle_since = None
        if not header:
            raise ConnectionClosedError("receiving: connection lost")
        if len(header) < size:
            header += self._recv_promptly(size - len(header))
        data_size, annotations_size = HEADER.unpack(header)
        self.unread = max(0, data_size + annotations_size)
        limit = min(MAX_REQUEST_SIZE, config.MAX_MESSAGE_SIZE or MAX_REQUEST_SIZE)
        if self.unread > limit:
            # Closed unread, as Pyro4 does: answering would mean reading it all first.
            log.warning("refused a request of %d bytes (at most %d)", self.unread, limit)
            raise ConnectionClosedError(f"request of {self.unread} bytes refused "
                                        f"(at most {limit})")
        return header

    def _recv_promptly(self, size: int) -> bytes:
        self.blocked_since = time.monotonic()
        try:
            return super().recv(size)
        finally:
            self.blocked_since = None

    def send(self, data: bytes) -> None:
        self.blocked_since = time.monotonic()
        try:
            super().send(data)
        finally:
            self.blocked_since = None

    def cut(self) -> None:
        """Wake the worker blocked on this connection: its receive or send fails at once."""
        try:
            # socket.socket's shutdown, not the TLS socket's, which is not thread-safe.
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _Job(threadpoolserver.ClientConnectionJob):
    def __init__(self, client_socket, client_address, daemon, connections: set) -> None:
        self.csock = TrackedConnection(client_socket)
        self.caddr = client_address
        self.daemon = daemon
        self.connections = connections
        connections.add(self.csock)

    def __call__(self) -> None:
        try:
            super().__call__()
        finally:
            self.connections.discard(self.csock)

    def handleConnection(self) -> bool:
        if not super().handleConnection():
            return False
        self.csock.handshaken = True
        return True


class GuardedThreadpoolServer(threadpoolserver.SocketServer_Threadpool):
    """Pyro4's SocketServer_Threadpool with handshake and I/O deadlines and eviction when full."""

    def init(self, daemon, host, port, unixsocket=None) -> None:
        super().init(daemon, host, port, unixsocket)
        self.sock.listen(LISTEN_BACKLOG)
        self.connections: set[TrackedConnection] = set()
        self._reaping = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="connection-reaper", daemon=True)
        self._reaper.start()

    def events(self, eventsockets) -> None:
        assert self.sock in eventsockets
        try:
            if self._selector and not self._selector.select(config.POLLTIMEOUT):
                return
            csock, caddr = self.sock.accept()
        except TimeoutError:
            return
        if self.shutting_down:
            csock.close()
            return
        csock.settimeout(None)  # blocking: deadlines are kept by the reaper
        job = _Job(csock, caddr, self.daemon, self.connections)
        try:
            self._process(job)
        except NoFreeWorkersError:
            # Not Pyro4's denyConnection: it reads the client's handshake in this accept thread.
            log.warning("refused a connection from %s: all %d workers have a call running",
                        caddr, config.THREADPOOL_SIZE)
            self.connections.discard(job.csock)
            job.csock.close()

    def _process(self, job: _Job) -> None:
        try:
            self.pool.process(job)
            return
        except NoFreeWorkersError:
            if not self._evict(besides=job.csock):
                raise
        deadline = time.monotonic() + EVICT_WAIT_SECONDS
        while True:
            try:
                self.pool.process(job)
                return
            except NoFreeWorkersError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)  # the evicted connection's worker is finishing

    def _evict(self, besides: TrackedConnection) -> bool:
        """Close the connections blocked longest on their clients; False if none is blocked.

        Several at once (EVICT_SHARE of the pool), so that a burst of new connections does not
        wait for one worker to finish per connection.
        """
        waiting = sorted((since, id(c), c) for c in list(self.connections)
                         if c is not besides and (since := c.waiting_since) is not None)
        if not waiting:
            return False
        victims = waiting[:max(1, int(config.THREADPOOL_SIZE * EVICT_SHARE))]
        log.info("all %d workers taken: closing %d connection(s) idle for %.1fs or more",
                 config.THREADPOOL_SIZE, len(victims), time.monotonic() - victims[-1][0])
        for _, _, victim in victims:
            victim.cut()
        return True

    def _reap(self) -> None:
        while not self._reaping.wait(REAP_INTERVAL):
            now = time.monotonic()
            io_limit = config.COMMTIMEOUT or math.inf
            for connection in list(self.connections):
                if not connection.handshaken and now - connection.accepted > HANDSHAKE_SECONDS:
                    log.debug("closing a connection that did not finish the handshake")
                    connection.cut()
                    continue
                since = connection.blocked_since
                if since is not None and now - since > io_limit:
                    log.debug("closing a connection silent for %.1fs", now - since)
                    connection.cut()

    def close(self) -> None:
        self._reaping.set()
        for connection in list(self.connections):
            connection.cut()
        super().close()


def install() -> None:
    """Make every Pyro4 daemon of this process (thread server type) use GuardedThreadpoolServer."""
    threadpoolserver.SocketServer_Threadpool = GuardedThreadpoolServer
    raise_file_limit()


def raise_file_limit() -> None:
    """Raise the soft open-files limit to the hard one; warn when it cannot cover the pool."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:
            log.debug("could not raise the open-files limit: %s", exc)
    needed = config.THREADPOOL_SIZE * FILES_PER_CONNECTION + SPARE_FILES
    if soft < needed:
        log.warning("the open-files limit is %d, fewer than the %d that %d connections need; "
                    "raise it (ulimit -n %d) or lower PYRO_THREADPOOL_SIZE", soft, needed,
                    config.THREADPOOL_SIZE, needed)
