"""Only safe serializers, bounded messages, malformed bytes, mutual TLS, exposure warnings."""

import os
import pickle
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import Pyro4
import Pyro4.message
import Pyro4.socketutil
import Pyro4.util
import pytest

from pyro_objects import tls, transport
from pyro_objects.processes import ROOT, python, wait_until
from tests.support import closed_by_peer, daemon_address, proxy, run_client


class WritesAFile:
    """Unpickling this creates a file: the proof that a pickle was (not) loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


def raw_message(msg_type: int, data: bytes, serializer_id: int) -> bytes:
    return Pyro4.message.Message(msg_type, data, serializer_id, 0, 1).to_bytes()


def handshake(sock: socket.socket) -> None:
    """Pyro's connect handshake, in serpent, as a proxy does it."""
    serpent = Pyro4.util.get_serializer("serpent")
    hello, _ = serpent.serializeData({"handshake": "hello"})
    sock.sendall(raw_message(Pyro4.message.MSG_CONNECT, hello, serpent.serializer_id))
    reply = Pyro4.message.Message.from_header(sock.recv(Pyro4.message.Message.header_size))
    assert reply.type == Pyro4.message.MSG_CONNECTOK
    sock.recv(reply.data_size + reply.annotations_size)


@pytest.mark.parametrize("msg_type", [Pyro4.message.MSG_CONNECT, Pyro4.message.MSG_INVOKE],
                         ids=["connect", "invoke"])
def test_a_pickled_request_is_refused_and_nothing_runs(system, tmp_path, msg_type):
    marker = tmp_path / "pickle-was-loaded"
    payload = pickle.dumps(WritesAFile(marker))
    pickle_id = Pyro4.util.PickleSerializer.serializer_id
    with socket.create_connection(daemon_address(system, "example.compute"), timeout=10) as sock:
        if msg_type == Pyro4.message.MSG_INVOKE:  # a proper handshake first, then the pickle
            handshake(sock)
        sock.sendall(raw_message(msg_type, payload, pickle_id))
        closed_by_peer(sock, timeout=5)
    assert not marker.exists()
    with proxy(system, "example.compute") as compute:
        assert compute.add(2, 2) == 4


@pytest.mark.parametrize("msg_type", [Pyro4.message.MSG_CONNECT, Pyro4.message.MSG_INVOKE],
                         ids=["connect", "invoke"])
def test_a_marshal_request_is_refused_and_the_server_keeps_serving(system, msg_type):
    marshal = Pyro4.util.get_serializer("marshal")
    with system.ns() as ns:
        uri = ns.lookup("example.compute")
    with socket.create_connection((uri.host, uri.port), timeout=10) as sock:
        if msg_type == Pyro4.message.MSG_INVOKE:
            handshake(sock)
            data, _ = marshal.serializeCall(uri.object, "add", (2, 2), {})
        else:  # what a proxy with _pyroSerializer = "marshal" sends first
            data, _ = marshal.serializeData({"handshake": "hello", "object": uri.object})
        sock.sendall(raw_message(msg_type, data, marshal.serializer_id))
        assert closed_by_peer(sock, timeout=5)  # accepted, the connection would stay open
    with proxy(system, "example.compute") as compute:
        assert compute.add(2, 2) == 4


def test_malformed_bytes_close_only_that_connection(system):
    with proxy(system, "example.compute") as compute:
        assert compute.add(1, 2) == 3
        with socket.create_connection(daemon_address(system, "example.compute"), 10) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)) * 4)
            assert closed_by_peer(sock, timeout=10)
        assert compute.add(3, 4) == 7  # the same, older connection still works


def test_an_oversized_message_is_refused_before_it_is_read(system):
    header = Pyro4.message.Message(Pyro4.message.MSG_CONNECT, b"", 2, 0, 1).to_bytes()
    huge = bytearray(header)
    huge[8:12] = (512 * 1024 * 1024).to_bytes(4, "big")  # data size field: 512 MiB announced
    with socket.create_connection(daemon_address(system, "example.compute"), 10) as sock:
        sock.sendall(bytes(huge[:Pyro4.message.Message.header_size]))
        assert closed_by_peer(sock, timeout=10)
    with proxy(system, "example.compute") as compute:
        assert compute.mul(6, 7) == 42


def test_a_request_over_1_mib_is_refused_and_the_server_keeps_serving(system):
    """Replies may be larger (a name server's list): the bound is on what callers send."""
    with proxy(system, "example.compute") as compute:
        with pytest.raises(Pyro4.errors.CommunicationError):
            compute.calc("1" * (transport.MAX_REQUEST_SIZE + 1))
    with proxy(system, "example.compute") as compute:
        assert compute.mul(6, 7) == 42


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """Our CA's directories (localhost/, client/, 127.0.0.1/), a foreign CA's, and stranger/:
    a client that trusts our CA but holds the foreign CA's client certificate."""
    base = tmp_path_factory.mktemp("certs")
    make_certs(base / "ours")
    make_certs(base / "ours", "127.0.0.1")
    make_certs(base / "foreign")
    (base / "stranger").mkdir()
    shutil.copy(base / "ours" / "client" / "ca.crt", base / "stranger")
    for name in ("client.crt", "client.key"):
        shutil.copy(base / "foreign" / "client" / name, base / "stranger")
    return base


def make_certs(directory: Path, *hosts: str) -> subprocess.CompletedProcess:
    return subprocess.run(python("-m", "pyro_objects.certs", str(directory), *hosts),
                          check=True, capture_output=True, text=True, timeout=60)


SSL_SETTINGS = ("SSL", "SSL_REQUIRECLIENTCERT", "SSL_CACERTS", "SSL_SERVERCERT", "SSL_SERVERKEY",
                "SSL_CLIENTCERT", "SSL_CLIENTKEY")


@pytest.fixture
def speak_tls(monkeypatch):
    """speak_tls(dir, identity): this test process's proxies present `identity`'s certificate
    from `dir`, until the test ends."""
    for setting in SSL_SETTINGS:
        monkeypatch.setattr(Pyro4.config, setting, getattr(Pyro4.config, setting))
    for context in ("__ssl_client_context", "__ssl_server_context"):
        monkeypatch.setattr(Pyro4.socketutil, context, getattr(Pyro4.socketutil, context))

    def speak(directory: Path, identity: str) -> None:
        monkeypatch.setenv("TLS_DIR", str(directory))
        tls.configure(identity)

    return speak


@pytest.fixture
def tls_system(own_system, certs, speak_tls):
    """A system with TLS on, all from one directory holding server and client certificates
    (a machine running both); this test process speaks TLS as the client."""
    return start_tls_system(own_system, certs, speak_tls)


# Pyro4's own DEBUG log: among others, "handshake failed" for each connection refused before
# Pyro's handshake, so before any call.
PYRO_DEBUG_LOG = {"PYRO_LOGLEVEL": "DEBUG", "PYRO_LOGFILE": "{stderr}", "LOG_LEVEL": "DEBUG"}
NO_DEBUG_LOG = {"PYRO_LOGLEVEL": "", "LOG_LEVEL": ""}


@pytest.fixture
def logged_tls_system(own_system, certs, speak_tls):
    """tls_system whose servers log what Pyro4 does (run clients with NO_DEBUG_LOG)."""
    own_system.env.update(PYRO_DEBUG_LOG)
    return start_tls_system(own_system, certs, speak_tls)


def start_tls_system(system, certs, speak_tls):
    speak_tls(certs / "ours" / "localhost", "client")
    system.env["TLS_DIR"] = str(certs / "ours" / "localhost")
    system.start_nameserver()
    system.start_server()
    return system


def test_make_certs_gives_each_machine_only_the_keys_it_needs(tmp_path):
    ours = tmp_path / "certs"
    make_certs(ours)
    make_certs(ours, "127.0.0.1")
    assert {d.name: sorted(f.name for f in d.iterdir()) for d in ours.iterdir()} == {
        "ca": ["ca.crt", "ca.key", "ca.srl"],
        "client": ["ca.crt", "client.crt", "client.key"],
        "127.0.0.1": ["ca.crt", "server.crt", "server.key"],
        "localhost": ["ca.crt", "client.crt", "client.key", "server.crt", "server.key"],
    }
    before = {path: path.read_bytes() for path in ours.glob("*/*.crt")}
    make_certs(ours, "127.0.0.1", "10.0.0.7,db.lan")
    assert {path: path.read_bytes() for path in before} == before  # CA and certificates kept
    subject = subprocess.run(["openssl", "x509", "-in", str(ours / "10.0.0.7" / "server.crt"),
                              "-noout", "-subject", "-ext", "subjectAltName"],
                             check=True, capture_output=True, text=True).stdout
    assert "OU = server, CN = 10.0.0.7" in subject
    assert "IP Address:10.0.0.7, DNS:db.lan" in subject


def test_with_tls_a_certified_client_lists_and_calls(tls_system):
    assert run_client(tls_system, "add", "2", "3").stdout == "5\n"
    assert "example.compute" in run_client(tls_system, "list").stdout


def test_with_tls_the_client_needs_only_the_ca_and_its_own_certificate(tls_system, certs):
    client_dir = certs / "ours" / "client"
    assert not list(client_dir.glob("server.*"))
    result = run_client(tls_system, "add", "2", "3", env={"TLS_DIR": str(client_dir)})
    assert (result.returncode, result.stdout) == (0, "5\n"), result.stderr


REFUSED = {  # TLS_DIR of a client without our certificate, under the certs directory
    "no-tls": None,                                # speaks plain Pyro to TLS servers
    "foreign-ca": "foreign/localhost",             # another CA's certificates throughout
    "foreign-client-certificate": "stranger",      # trusts our CA; another CA's certificate
}


@pytest.mark.parametrize("client", REFUSED)
@pytest.mark.parametrize("command", [["list"], ["add", "2", "3"], ["greet", "Eve"]])
def test_with_tls_a_client_without_our_certificate_is_refused(logged_tls_system, certs, client,
                                                              command):
    nameserver = logged_tls_system.processes["nameserver"]
    seen = len(nameserver.log())
    tls_dir = str(certs / REFUSED[client]) if REFUSED[client] else ""
    result = run_client(logged_tls_system, *command, env={"TLS_DIR": tls_dir, **NO_DEBUG_LOG})
    assert (result.returncode != 0, result.stdout) == (True, "")
    error, hint = result.stderr.splitlines()
    assert error.startswith("error: ") and hint.startswith("hint: ")
    # The name server, which every command asks first, refused it before any call.
    wait_until(lambda: "handshake failed" in nameserver.log()[seen:], timeout=10,
               what="the name server to refuse the handshake")


NO_CERTIFICATE_CLIENT = """
import sys, Pyro4
Pyro4.config.SSL, Pyro4.config.SSL_CACERTS = True, sys.argv[1]
print(Pyro4.locateNS("127.0.0.1", int(sys.argv[2])).list())
"""


def test_with_tls_a_client_presenting_no_certificate_cannot_list_names(logged_tls_system,
                                                                      certs):
    """A stock Pyro4 client with SSL on that trusts our CA but has no certificate itself."""
    nameserver = logged_tls_system.processes["nameserver"]
    seen = len(nameserver.log())
    ca, port = str(certs / "ours" / "client" / "ca.crt"), str(logged_tls_system.ns_port)
    result = subprocess.run([sys.executable, "-c", NO_CERTIFICATE_CLIENT, ca, port],
                            capture_output=True, text=True, timeout=60, env=os.environ)
    assert (result.returncode != 0, result.stdout) == (True, "")
    assert "NamingError: Failed to locate the nameserver" in result.stderr
    wait_until(lambda: "handshake failed" in nameserver.log()[seen:], timeout=10,
               what="the name server to refuse the handshake")


@pytest.mark.parametrize("client", ["foreign-ca", "foreign-client-certificate"])
def test_with_tls_a_refused_client_is_told_the_certificates_do_not_match(tls_system, certs,
                                                                        client):
    result = run_client(tls_system, "list", env={"TLS_DIR": str(certs / REFUSED[client])})
    assert result.returncode != 0
    assert "TLS" in result.stderr.splitlines()[-1]


def test_with_tls_the_server_itself_refuses_a_plain_connection(tls_system):
    with socket.create_connection(daemon_address(tls_system, "example.compute"), 10) as sock:
        serpent = Pyro4.util.get_serializer("serpent")
        hello, _ = serpent.serializeData({"handshake": "hello"})
        sock.sendall(raw_message(Pyro4.message.MSG_CONNECT, hello, serpent.serializer_id))
        assert closed_by_peer(sock, timeout=10)


def test_with_tls_a_silent_connection_does_not_stall_other_clients(tls_system):
    with socket.create_connection(daemon_address(tls_system, "Pyro.NameServer"), 10):
        with socket.create_connection(daemon_address(tls_system, "example.compute"), 10):
            assert run_client(tls_system, "add", "2", "3").stdout == "5\n"


@pytest.mark.parametrize("program, tls_dir, lacks", [
    ("pyro_client.py", None, "ca.crt, client.crt, client.key"),
    ("pyro_server.py", "client", "server.crt, server.key"),
], ids=["client-in-empty-dir", "server-in-client-dir"])
def test_tls_dir_without_certificates_says_how_to_make_them(own_system, certs, tmp_path, program,
                                                           tls_dir, lacks):
    directory = certs / "ours" / tls_dir if tls_dir else tmp_path
    result = subprocess.run(python(str(ROOT / program)), capture_output=True, text=True,
                            timeout=60, env={**own_system.env, "TLS_DIR": str(directory)})
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"error: TLS_DIR={directory} lacks {lacks}",
        "hint: create them with: pyro-objects certs DIR [HOST ...] (or make certs)",
    ]


@pytest.fixture
def tls_nameserver(own_system, certs, speak_tls):
    """A name server with TLS on, in a server-only directory (as a server host has)."""
    speak_tls(certs / "ours" / "client", "client")
    own_system.env["TLS_DIR"] = str(certs / "ours" / "127.0.0.1")
    own_system.start_nameserver()
    return own_system


def test_with_tls_only_server_certificates_may_change_the_registry(tls_nameserver, certs,
                                                                  speak_tls):
    uri = "PYRO:obj_test@127.0.0.1:1"
    server_dir, client_dir = certs / "ours" / "127.0.0.1", certs / "ours" / "client"
    with tls_nameserver.ns() as ns:
        with pytest.raises(PermissionError, match="needs a server certificate .*a client cert"):
            ns.register("test.by-client", uri)
        with pytest.raises(PermissionError, match="needs a server certificate"):
            ns.set_metadata(Pyro4.constants.NAMESERVER_NAME, ["hijacked"])
        assert "Pyro.NameServer" in ns.list()
        assert "test.by-client" not in ns.list()

    speak_tls(server_dir, "server")
    with tls_nameserver.ns() as ns:
        ns.register("test.by-server", uri)

    speak_tls(client_dir, "client")
    with tls_nameserver.ns() as ns:
        assert str(ns.lookup("test.by-server")) == uri
        with pytest.raises(PermissionError, match="needs a server certificate"):
            ns.remove("test.by-server")
        with pytest.raises(PermissionError, match="needs a server certificate"):
            ns.unregister("test.by-server", uri)
        assert str(ns.lookup("test.by-server")) == uri

    speak_tls(server_dir, "server")
    with tls_nameserver.ns() as ns:
        assert ns.remove("test.by-server") == 1
        assert "test.by-server" not in ns.list()


@pytest.mark.parametrize("host, exposed", [
    ("localhost", False), ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False),
    ("", True), ("0.0.0.0", True), ("192.168.1.20", True), ("myhost.lan", True),
])
def test_serving_beyond_loopback_without_tls_warns_how_to_turn_it_on(capsys, host, exposed):
    tls.warn_if_exposed(host)
    err = capsys.readouterr().err
    assert ("without TLS" in err and "TLS_DIR" in err) == exposed
