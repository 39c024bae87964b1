"""TLS for callbacks: the chat server connects to subscribers, whose daemons present the
client certificate.

Pyro4 checks a server's certificate against the host it connects to. A subscriber is not a
server host: it runs wherever a client runs, and every client host holds the same client
certificate (certs/client/). So the chat server's connections to subscribers check the chain
(our CA only) and the certificate's role (OU=client or OU=server) instead of the host name;
every other connection of the process keeps Pyro4's usual checks.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import Pyro4
import Pyro4.socketutil

from pyro_objects import tls

_calling_back = threading.local()


@contextmanager
def calling_back() -> Iterator[None]:
    """Connections this thread makes inside the block go to subscribers' callback daemons."""
    _calling_back.active = True
    try:
        yield
    finally:
        _calling_back.active = False


def subject_of(sock: ssl.SSLSocket) -> dict[str, str]:
    """The subject fields of the certificate the peer presented on `sock`."""
    certificate = sock.getpeercert() or {}
    return dict(field for rdn in certificate.get("subject", ()) for field in rdn)


class _SubscriberSocket(ssl.SSLSocket):
    """A connection to a subscriber: after the handshake, its certificate must have a role."""

    def do_handshake(self, block=False):
        super().do_handshake(block)
        role = subject_of(self).get("organizationalUnitName")
        if role not in tls.ROLES:
            raise ssl.SSLError(f"the subscriber's certificate has no role (OU={role})")


class _ClientContext(ssl.SSLContext):
    """Pyro4's client context, which hands connections made while calling back to `peers`."""

    peers: ssl.SSLContext

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True,
                    suppress_ragged_eofs=True, server_hostname=None, session=None):
        context = self
        if not server_side and getattr(_calling_back, "active", False):
            context, server_hostname = self.peers, None
        return ssl.SSLContext.wrap_socket(context, sock, server_side, do_handshake_on_connect,
                                          suppress_ragged_eofs, server_hostname, session)


def _context(kind: type[ssl.SSLContext]) -> ssl.SSLContext:
    context = kind(ssl.PROTOCOL_TLS_CLIENT)
    context.load_cert_chain(Pyro4.config.SSL_CLIENTCERT, Pyro4.config.SSL_CLIENTKEY)
    context.load_verify_locations(cafile=Pyro4.config.SSL_CACERTS)
    return context


def call_back_over_tls() -> None:
    """In the chat server, after tls.configure: connections made inside `calling_back()`
    accept a subscriber presenting our CA's client certificate at any address."""
    if not Pyro4.config.SSL:
        return
    client = _context(_ClientContext)
    client.load_default_certs(ssl.Purpose.SERVER_AUTH)  # as Pyro4's own client context does
    client.peers = _context(ssl.SSLContext)
    client.peers.check_hostname = False  # the role is checked instead; the chain still is
    client.peers.sslsocket_class = _SubscriberSocket
    setattr(Pyro4.socketutil, "__ssl_client_context", client)


def serve_callbacks_over_tls() -> None:
    """In a subscriber, after tls.configure("client"): its callback daemon presents the client
    certificate and accepts only callers holding one of our CA's certificates."""
    if not Pyro4.config.SSL:
        return
    Pyro4.config.SSL_SERVERCERT = Pyro4.config.SSL_CLIENTCERT
    Pyro4.config.SSL_SERVERKEY = Pyro4.config.SSL_CLIENTKEY
    # pyro_objects.tls's server context, which runs the handshake in the connection's worker thread.
    tls.install_server_context(Path(Pyro4.config.SSL_CLIENTCERT),
                                Path(Pyro4.config.SSL_CLIENTKEY), Path(Pyro4.config.SSL_CACERTS))
