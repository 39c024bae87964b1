"""An at-most-once Pyro4 proxy that remakes, by name, a connection the server closed while idle."""

from __future__ import annotations

import select
import socket

import Pyro4

from pyro_objects.config import hmac_key


def peer_closed(sock: socket.socket) -> bool:
    """True when the peer has closed `sock` (end of stream or reset waiting to be read).

    Nothing is consumed: the check peeks at the raw TCP stream (below TLS), and a connection
    with nothing to read is open.
    """
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        # socket.socket.recv, not the TLS socket's: peek at the TCP stream without decrypting.
        return socket.socket.recv(sock, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):  # reset, or already closed on this side
        return True


class Proxy(Pyro4.Proxy):
    """A Pyro4 proxy with at-most-once calls.

    Pyro4's MAX_RETRIES resends a call after a timeout or a dropped connection, when the server
    may already have run it. This proxy never resends (retries are off by default here);
    instead, before each call it checks whether the server closed the idle connection (server
    restarted, idle connection reaped) and, if so, connects again first, looking a PYRONAME:
    URI up again: the request is then sent exactly once, on a live connection.
    """

    def __init__(self, uri) -> None:
        super().__init__(uri)
        self._pyroMaxRetries = 0  # whatever PYRO_MAX_RETRIES says: retries are not at-most-once
        self._pyroHmacKey = hmac_key()

    def _pyroInvoke(self, methodname, vargs, kwargs, flags=0, objectId=None):  # noqa: N803 - Pyro4's signature
        connection = self._pyroConnection
        if connection is not None and peer_closed(connection.sock):
            self._pyroRelease()
        return super()._pyroInvoke(methodname, vargs, kwargs, flags, objectId)
