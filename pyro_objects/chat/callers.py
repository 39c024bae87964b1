"""Who is calling the chat server: the identity its per-client caps count against."""

from __future__ import annotations

import Pyro4

from pyro_objects.chat.peers import subject_of

LOCAL = "local"  # this process's own calls, outside any remote call
SHORT_NAMES = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU",
               "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST"}


def caller() -> str:
    """Inside a remote call, the caller's identity: the peer's address, led under TLS by its
    certificate's subject ("O=...,OU=client,CN=...@10.0.0.5"). The address is kept under
    TLS too: every client host presents the same client certificate."""
    connection = Pyro4.current_context.client
    if connection is None:
        return LOCAL
    address = Pyro4.current_context.client_sock_addr
    host = str(address[0]) if address else "?"
    if not Pyro4.config.SSL:
        return host
    try:
        subject = subject_of(connection.sock)
    except (AttributeError, ValueError, OSError):  # closed meanwhile
        subject = {}
    return ",".join(f"{SHORT_NAMES.get(key, key)}={value}"
                    for key, value in subject.items()) + "@" + host
