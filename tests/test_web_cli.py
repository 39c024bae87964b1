"""python -m pyro_objects.web as a process: where it listens, accounts, its start and stop, TLS."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from pyro_objects import names
from pyro_objects.processes import ROOT, free_port, python, wait_until
from pyro_objects.system.local import HOST
from tests.support import Terminal
from tests.test_security import make_certs, speak_tls  # noqa: F401 - a fixture
from tests.web.support import Session, add_user
from pyro_objects.web import db

PASSWORD = "correct horse battery"


def web(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(python("-m", "pyro_objects.web", *args), input=stdin, text=True,
                          capture_output=True, timeout=60, cwd=ROOT, env=env)


@pytest.mark.parametrize(("args", "where"), [
    (["--host", "0.0.0.0"], "on 0.0.0.0"),
    (["--host", "192.0.2.1"], "on 192.0.2.1"),
    (["--host", ""], "on all interfaces"),
    (["--host", HOST, "--require-login"], "with --require-login"),
])
def test_beyond_loopback_it_refuses_to_start_without_accounts(tmp_path, args, where):
    result = web(*args, "--port", "0", "--data", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: refusing to serve {where} without accounts: anyone who reaches it could use "
        f"the whole system",
        "hint: create one with: pyro-objects web adduser NAME (every page then needs a login)"]


def test_adduser_reads_the_password_without_echo_and_stores_a_slow_hash(tmp_path):
    terminal = Terminal(python("-m", "pyro_objects.web", "adduser", "alice", "--data", str(tmp_path)),
                        env=None)
    try:
        terminal.read_until("Password: ")
        terminal.type(PASSWORD)
        terminal.read_until("Again: ")
        terminal.type(PASSWORD)
        output = terminal.read_until("added user alice")
        assert terminal.process.wait(timeout=20) == 0
    finally:
        terminal.close()
    assert PASSWORD not in output
    with db.connection(tmp_path / "web.sqlite") as conn:
        stored = db.password_hash(conn, "alice")
    assert stored.startswith("scrypt:") and PASSWORD not in stored


@pytest.mark.parametrize(("args", "stdin", "error"), [
    (["adduser", "alice", "--password-stdin"], f"{PASSWORD}\n",
     "error: user alice exists already"),
    (["adduser", "bob", "--password-stdin"], "short\n",
     "error: a password must have 8 to 1024 characters (got 5)"),
    (["adduser", "<b>", "--password-stdin"], f"{PASSWORD}\n",
     "error: a user name is 1 to 64 letters, digits or . _ @ - (got '<b>')"),
    (["adduser", "bob"], f"{PASSWORD}\n", "error: no terminal to read the password from"),
    (["deluser", "carol"], "", "error: no user carol"),
])
def test_account_commands_refuse_clearly(tmp_path, args, stdin, error):
    add_user(tmp_path, "alice", PASSWORD)
    result = web(*args, "--data", str(tmp_path), stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == error


def test_the_console_says_where_it_serves_runs_until_sigterm_and_stops_cleanly(own_system):
    console = own_system.start_web()  # no name server: the console still serves
    assert console.log().splitlines()[0] == \
        f"web console on {own_system.web_url()} (login not needed)"
    session = Session(own_system.web_url())
    status, body, headers = session.get("/api/names")
    assert status == 200 and body["error"].startswith("no name server reachable at")
    assert headers["Server"] == "pyro-console"
    assert "development server" not in console.log().lower()
    console.popen.send_signal(signal.SIGTERM)
    assert console.popen.wait(timeout=15) == 0
    assert console.log().splitlines()[-1] == "web console stopped"


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = web("--port", str(port), "--data", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot listen on {HOST}:{port}: ")
    assert "hint: pick another --port" in result.stderr


def test_on_loopback_a_request_for_another_host_name_is_refused(own_system):
    """A page elsewhere cannot reach a loopback console by DNS rebinding."""
    own_system.start_web()
    assert Session(own_system.web_url()).get("/")[0] == 200
    assert Session(own_system.web_url(), host_header=f"localhost:{free_port()}").get("/")[0] \
        == 200
    assert Session(own_system.web_url(), host_header="attacker.example").get("/")[0] == 400


@pytest.fixture
def certs(tmp_path, request):
    """Certificates for this machine; this test process speaks TLS as a client."""
    make_certs(tmp_path / "certs")
    request.getfixturevalue("speak_tls")(tmp_path / "certs" / "localhost", "client")
    return tmp_path / "certs" / "localhost"


def test_with_tls_on_the_console_lists_probes_and_calls(own_system, certs):
    own_system.env["TLS_DIR"] = str(certs)
    own_system.start_nameserver()
    own_system.start_server()
    own_system.start_web()
    session = Session(own_system.web_url())
    listed = wait_until(lambda: (b := session.get("/api/names")[1])["updated"] and all(
        e["state"] == "up" for e in b["names"]) and b, 15, "every name probed over TLS")
    assert listed["nameserver"]["tls"] is True
    assert {names.GREETING, names.COMPUTE} <= {entry["name"] for entry in listed["names"]}
    status, row, _ = session.post("/api/calc", {"input": "add 2 3"})
    assert (status, row["output"]) == (200, "5")


def test_without_tls_a_console_cannot_use_a_tls_system(own_system, certs):
    own_system.env["TLS_DIR"] = str(certs)
    own_system.start_nameserver()
    del own_system.env["TLS_DIR"]
    own_system.start_web()
    body = Session(own_system.web_url()).get("/api/names")[1]
    assert body["error"].startswith("no name server reachable") and body["names"] == []


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
