"""Only safe serializers, bounded messages, malformed bytes, mutual TLS, exposure warnings."""

import pickle
import socket
import subprocess
from pathlib import Path

import Pyro4
import Pyro4.message
import Pyro4.util
import pytest

from pyrokit import tls
from system.local import ROOT
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


def test_the_client_refuses_to_send_an_oversized_message(system):
    with proxy(system, "example.compute") as compute:
        with pytest.raises(Pyro4.errors.MessageTooLargeError):
            compute.calc("1" * (2 * 1024 * 1024))


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA with server and client certificates, and a second, foreign CA's."""
    base = tmp_path_factory.mktemp("certs")
    for name in ("ours", "foreign"):
        subprocess.run(["bash", str(ROOT / "scripts/make_certs.sh"), str(base / name)],
                       check=True, capture_output=True, timeout=60)
    return base


SSL_SETTINGS = ("SSL", "SSL_REQUIRECLIENTCERT", "SSL_CACERTS", "SSL_SERVERCERT", "SSL_SERVERKEY",
                "SSL_CLIENTCERT", "SSL_CLIENTKEY")


@pytest.fixture
def tls_system(own_system, certs, monkeypatch):
    """A system with TLS on; this test process speaks TLS too while the test runs."""
    for setting in SSL_SETTINGS:
        monkeypatch.setattr(Pyro4.config, setting, getattr(Pyro4.config, setting))
    monkeypatch.setenv("TLS_DIR", str(certs / "ours"))
    tls.configure("client")
    own_system.env["TLS_DIR"] = str(certs / "ours")
    own_system.start_nameserver()
    own_system.start_server()
    return own_system


def test_with_tls_a_certified_client_lists_and_calls(tls_system):
    assert run_client(tls_system, "add", "2", "3").stdout == "5\n"
    assert "example.compute" in run_client(tls_system, "list").stdout


@pytest.mark.parametrize("tls_dir", ["", "foreign"], ids=["no-tls", "foreign-ca"])
@pytest.mark.parametrize("command", [["list"], ["add", "2", "3"], ["greet", "Eve"]])
def test_with_tls_a_client_without_our_certificate_is_refused(tls_system, certs, tls_dir,
                                                              command):
    env = {"TLS_DIR": str(certs / tls_dir) if tls_dir else ""}
    result = run_client(tls_system, *command, env=env)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith("error: ")


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


def test_tls_dir_without_certificates_says_how_to_make_them(own_system, tmp_path):
    own_system.start_nameserver()
    result = run_client(own_system, "list", env={"TLS_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"error: TLS_DIR={tmp_path} lacks ca.crt, server.crt, server.key, client.crt, client.key",
        "hint: create them with: make certs (or scripts/make_certs.sh DIR [HOST ...])",
    ]


@pytest.mark.parametrize("host, exposed", [
    ("localhost", False), ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False),
    ("", True), ("0.0.0.0", True), ("192.168.1.20", True), ("myhost.lan", True),
])
def test_serving_beyond_loopback_without_tls_warns_how_to_turn_it_on(capsys, host, exposed):
    tls.warn_if_exposed(host)
    err = capsys.readouterr().err
    assert ("without TLS" in err and "TLS_DIR" in err) == exposed
