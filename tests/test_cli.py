"""Every entry point refuses a bad option value: one `error:` line, one `hint:` line, exit 2."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from pyro_objects.processes import ROOT, free_port, python

LEVELS = "DEBUG, INFO, WARNING, ERROR, CRITICAL"
# Each command binds somewhere harmless should a bad value be accepted (later options win):
# any free port, or {port}: a free port found at run time.
SERVERS = {  # prog: command line, for the servers that share cli.add_server_options
    "pyro_server.py": python("pyro_server.py", "--port", "0"),
    "python -m compute": python("-m", "compute", "--port", "0"),
    "python -m chain.server": python("-m", "chain.server", "--id", "1", "--port", "0"),
    "chain/server_chain_1.py": python("chain/server_chain_1.py", "--port", "0"),
    "python -m pyro_objects.chat": python("-m", "pyro_objects.chat", "--port", "0"),
}
NAMESERVER = ["bash", str(ROOT / "nameserver.sh"), "-p", "{port}"]
WEB = python("-m", "pyro_objects.web", "--port", "0")
CLIENT = python("pyro_client.py")


def whole(low: int, high: int, text: str) -> str:
    return f"must be a whole number from {low} to {high} (got '{text}')"


def positive(text: str) -> str:
    return f"must be a finite number > 0 (got '{text}')"


def cases() -> list:
    """(prog, command, extra env, the error line)"""
    table = []
    for prog, command in SERVERS.items():
        table += [
            (prog, [*command, "--port", "70000"], {},
             f"argument --port: {whole(0, 65535, '70000')}"),
            (prog, [*command, "--port", "x"], {}, f"argument --port: {whole(0, 65535, 'x')}"),
            (prog, [*command, "--port", "٨٠"], {}, f"argument --port: {whole(0, 65535, '٨٠')}"),
            (prog, [*command, "--ns-port", "0"], {}, f"argument --ns-port: {whole(1, 65535, '0')}"),
            (prog, [*command, "--log-level", "NOPE"], {},
             f"argument --log-level: must be one of {LEVELS} (got 'NOPE')"),
            (prog, command, {"LOG_LEVEL": "NOPE"},
             f"argument --log-level: must be one of {LEVELS} (got 'NOPE')"),
        ]
    for prog in ("pyro_server.py", "python -m compute", "python -m pyro_objects.chat"):
        table.append((prog, [*SERVERS[prog], "--name", "bad name"], {},
                      "argument --name: must be 1 to 200 ASCII letters, digits, '.', '-' or '_' "
                      "(got 'bad name')"))
    chat, chain = SERVERS["python -m pyro_objects.chat"], SERVERS["python -m chain.server"]
    table += [
        ("python -m pyro_objects.chat", [*chat, "--grace", "nan"], {},
         f"argument --grace: {positive('nan')}"),
        ("python -m pyro_objects.chat", [*chat, "--grace", "0"], {},
         f"argument --grace: {positive('0')}"),
        ("python -m pyro_objects.chat", [*chat, "--queue", "0"], {},
         f"argument --queue: {whole(1, 100_000, '0')}"),
        ("python -m chain.server", [*chain, "--hop-timeout", "nan"], {},
         f"argument --hop-timeout: {positive('nan')}"),
        ("python -m chain.server", [*chain, "--hop-timeout", "inf"], {},
         f"argument --hop-timeout: {positive('inf')}"),
        ("python -m chain.server", [*chain, "--max-hops", "0"], {},
         f"argument --max-hops: {whole(1, 10**6, '0')}"),
        ("python -m chain.server", [*chain, "--next", "bad name"], {},
         "argument --next: must be 1 to 200 ASCII letters, digits, '.', '-' or '_' "
         "(got 'bad name')"),
        ("python -m pyro_objects.web", [*WEB, "--port", "70000"], {},
         f"argument --port: {whole(0, 65535, '70000')}"),
        ("python -m pyro_objects.web", [*WEB, "--ns-port", "-1"], {},
         f"argument --ns-port: {whole(1, 65535, '-1')}"),
        ("python -m pyro_objects.web", [*WEB, "--max-streams", "-1"], {},
         f"argument --max-streams: {whole(0, 1000, '-1')}"),
        ("python -m pyro_objects.web", [*WEB, "--max-streams", "1000000"], {},
         f"argument --max-streams: {whole(0, 1000, '1000000')}"),
        ("python -m pyro_objects.web", [*WEB, "--log-level", "NOPE"], {},
         f"argument --log-level: must be one of {LEVELS} (got 'NOPE')"),
        ("python -m pyro_objects.web", WEB, {"LOG_LEVEL": "NOPE"},
         f"argument --log-level: must be one of {LEVELS} (got 'NOPE')"),
        ("nameserver.sh", [*NAMESERVER, "-p", "70000"], {},
         f"argument -p/--port: {whole(1, 65535, '70000')}"),
        ("nameserver.sh", [*NAMESERVER, "--log-level", "NOPE"], {},
         f"argument --log-level: must be one of {LEVELS} (got 'NOPE')"),
        ("nameserver.sh", NAMESERVER, {"LOG_LEVEL": "NOPE"},
         f"argument --log-level: must be one of {LEVELS} (got 'NOPE')"),
        ("nameserver.sh", [*NAMESERVER, "-s", "bogus"], {},
         "argument -s/--storage: must be 'memory', 'sql:FILE' or 'dbm:FILE' (got 'bogus')"),
        ("nameserver.sh", NAMESERVER, {"NS_STORAGE": "bogus"},
         "argument -s/--storage: must be 'memory', 'sql:FILE' or 'dbm:FILE' (got 'bogus')"),
        ("nameserver.sh", [*NAMESERVER, "--prune-after", "inf"], {},
         "argument --prune-after: must be a finite number >= 0 (got 'inf')"),
        ("nameserver.sh", NAMESERVER, {"NS_PRUNE_AFTER": "-1"},
         "argument --prune-after: must be a finite number >= 0 (got '-1')"),
        ("nameserver.sh", NAMESERVER[:2], {"PYRO_NS_PORT": "70000"},
         f"argument -p/--port: {whole(1, 65535, '70000')}"),
        ("pyro_client.py", [*CLIENT, "--ns-port", "70000"], {},
         f"argument --ns-port: {whole(1, 65535, '70000')}"),
        ("pyro_client.py", [*CLIENT, "--log-level", "NOPE"], {},
         f"argument --log-level: must be one of {LEVELS} (got 'NOPE')"),
    ]
    return table


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("prog", "command", "env", "error"), cases(),
                         ids=lambda value: value if isinstance(value, str) else None)
def test_a_bad_option_value_gives_one_error_line_a_hint_and_exit_2(tmp_path, prog, command,
                                                                   env, error):
    command = [word.replace("{port}", str(free_port())) for word in command]
    env = {**os.environ, "PYRO_HOST": "127.0.0.1", "WEB_DATA_DIR": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path), "RUN_DIR": str(tmp_path / "run"),
           # and looks for a name server where there is none
           "PYRO_NS_HOST": "127.0.0.1", "PYRO_NS_PORT": str(free_port()), **env}
    process = subprocess.Popen(command, cwd=ROOT, env=env, text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
        pytest.fail(f"{prog} accepted the bad value and kept running")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    assert stderr.splitlines() == [f"error: {error}", f"hint: {prog} --help lists the options"]
    assert process.returncode == 2
