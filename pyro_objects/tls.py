"""Mutual TLS: the one setting TLS_DIR turns on Pyro4's 2-way SSL for every process."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import sys
from pathlib import Path

import Pyro4
import Pyro4.socketutil

from pyro_objects.errors import SetupError, caused_by

ENV = "TLS_DIR"
MAKE_HINT = "create them with: pyro-objects certs DIR [HOST ...] (or make certs)"
ROLES = ("server", "client")


HANDSHAKE_HINT = ("the TLS handshake failed: both sides need TLS_DIR set to certificates from "
                  "the same CA (see the README, 'Running on a network safely')")


def handshake_failed(exc: BaseException, address: tuple[str, int] | None = None) -> bool:
    """Whether `exc` (a Pyro4 error) came from a failed TLS handshake, directly or not.

    Python 3.13's ssl may report a peer's refusal of our certificate as a plain connection
    error; so with TLS on, a server at `address` that accepts a TCP connection means the
    failure was the handshake's."""
    if caused_by(exc, ssl.SSLError):
        return True
    if address is None or not enabled():
        return False
    try:
        socket.create_connection(address, timeout=1.0).close()
    except OSError:
        return False
    return True


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def configure(identity: str) -> None:
    """Point Pyro4's SSL settings at $TLS_DIR: ca.crt verifies peers, and `<identity>.crt/key`
    ("server" or "client") is what this process presents, to its callers and to those it calls."""
    if identity not in ROLES:
        raise ValueError(f"identity must be one of {', '.join(ROLES)} (got {identity!r})")
    directory = Path(os.environ[ENV])
    ca, cert, key = (directory / name for name in ("ca.crt", f"{identity}.crt", f"{identity}.key"))
    missing = [path.name for path in (ca, cert, key) if not path.is_file()]
    if missing:
        raise SetupError(f"{ENV}={directory} lacks {', '.join(missing)}", MAKE_HINT)
    Pyro4.config.SSL = True
    Pyro4.config.SSL_REQUIRECLIENTCERT = True
    Pyro4.config.SSL_CACERTS = str(ca)
    Pyro4.config.SSL_CLIENTCERT, Pyro4.config.SSL_CLIENTKEY = str(cert), str(key)
    if identity == "server":
        Pyro4.config.SSL_SERVERCERT, Pyro4.config.SSL_SERVERKEY = str(cert), str(key)
        install_server_context(cert, key, ca)
    # Pyro4 builds its client context once per process; a new configuration must replace it.
    setattr(Pyro4.socketutil, "__ssl_client_context", None)


def require_role(role: str, action: str) -> None:
    """Inside a remote call: PermissionError unless the caller's certificate has `role`.

    Does nothing when TLS is off, or outside a remote call (this process's own code)."""
    if not Pyro4.config.SSL:
        return
    connection = Pyro4.current_context.client
    if connection is None:
        return
    try:
        certificate = connection.sock.getpeercert() or {}
    except (AttributeError, ValueError, OSError):  # not TLS, or already closed
        certificate = {}
    subject = dict(field for rdn in certificate.get("subject", ()) for field in rdn)
    if subject.get("organizationalUnitName") != role:
        raise PermissionError(f"{action} needs a {role} certificate "
                              f"(the caller presented {_describe(subject)})")


def _describe(subject: dict[str, str]) -> str:
    if not subject:
        return "no certificate"
    presented = subject.get("organizationalUnitName")
    kind = f"a {presented} certificate" if presented in ROLES else "a certificate without a role"
    return f"{kind}, CN={subject.get('commonName', '?')}"


class _HandshakeInWorkerContext(ssl.SSLContext):
    """Server sockets wrapped by this context defer the TLS handshake to the first read."""

    def wrap_socket(self, sock, server_side=False, **kwargs):
        if server_side:
            kwargs["do_handshake_on_connect"] = False
        return super().wrap_socket(sock, server_side=server_side, **kwargs)


def install_server_context(cert: Path, key: Path, ca: Path) -> None:
    """Make this process's daemons present `cert` and require a peer certificate from `ca`."""
    # Pyro4 wraps its listening socket so that accept() runs the TLS handshake inside the accept
    # loop: one client that connects and stays silent would stall every new connection. Pyro4
    # caches its server context in socketutil; providing it here, with the handshake deferred,
    # moves the handshake into the connection's own worker thread, bounded by COMMTIMEOUT.
    context = _HandshakeInWorkerContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=ca)
    context.verify_mode = ssl.CERT_REQUIRED
    setattr(Pyro4.socketutil, "__ssl_server_context", context)


def is_loopback(host: str | None) -> bool:
    """True for localhost and 127.x/::1; False for all-interfaces ('', 0.0.0.0) and the rest."""
    host = host or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(host: str) -> None:
    """Warn on stderr when serving beyond this machine without TLS."""
    if not Pyro4.config.SSL and not is_loopback(host):
        print(f"warning: serving on {host or 'all interfaces'} without TLS: anyone who can "
              f"reach it can call every object; set {ENV}=DIR (see: make certs) to require "
              f"certificates", file=sys.stderr, flush=True)
