"""The installed package: one import namespace, one command, a complete wheel, no checkout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

import pyro_objects
from pyro_objects.command import SUBCOMMANDS
from pyro_objects.processes import ROOT, free_port, python, wait_until

# The design card's names, plus the project's own package; nothing else goes top level.
TOP_LEVEL = {"pyro_server", "pyro_client", "chain", "compute", "pyro_objects"}
PYTHONS = ("3.10", "3.11", "3.12", "3.13")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel --no-deps .`, as the README says."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=240)
    (built,) = out.glob("*.whl")
    return built


def wheel_file(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [name for name in archive.namelist() if name.endswith(suffix)]
        return archive.read(name).decode()


@pytest.mark.timeout(300)
def test_the_wheel_installs_only_the_allowed_top_level_names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        roots = {name.split("/")[0].removesuffix(".py") for name in archive.namelist()
                 if ".dist-info/" not in name}
    assert roots == TOP_LEVEL
    assert set(wheel_file(wheel, ".dist-info/top_level.txt").split()) == TOP_LEVEL


@pytest.mark.timeout(300)
def test_the_wheel_holds_every_file_the_console_and_certs_need(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    web = ROOT / "pyro_objects" / "web"
    needed = {f"pyro_objects/web/{path.relative_to(web)}"
              for pattern in ("templates/*", "static/*", "schema.sql")
              for path in web.glob(pattern)}
    needed.add("pyro_objects/make_certs.sh")
    assert needed <= names, needed - names
    assert not [name for name in names if name.startswith(("tests/", "bench/"))]


@pytest.mark.timeout(300)
def test_the_metadata_says_what_was_tested(wheel):
    metadata = Parser().parsestr(wheel_file(wheel, ".dist-info/METADATA"))
    assert metadata["Version"] == pyro_objects.__version__
    supported = SpecifierSet(metadata["Requires-Python"])
    assert [v for v in ("3.9", *PYTHONS, "3.14") if v in supported] == list(PYTHONS)
    classifiers = metadata.get_all("Classifier")
    assert {f"Programming Language :: Python :: {v}" for v in PYTHONS} <= set(classifiers)
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("Project-URL")
    entry_points = wheel_file(wheel, ".dist-info/entry_points.txt")
    assert "pyro-objects = pyro_objects.command:main" in entry_points


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict[str, str]:
    """A fresh venv outside the checkout with the wheel installed; the environment to run it."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True, timeout=240)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYRO_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
               XDG_STATE_HOME=str(tmp_path_factory.mktemp("state")))
    return env


def run_installed(installed: dict[str, str], cwd: Path, *args: str,
                  timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["pyro-objects", *args], capture_output=True, text=True,
                          timeout=timeout, env=installed, cwd=cwd)


@pytest.mark.timeout(400)
def test_installed_demo_runs_from_any_directory(installed, tmp_path):
    result = run_installed(installed, tmp_path, "demo", timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "demo OK: every process stopped" in result.stdout


@pytest.mark.timeout(400)
def test_installed_up_serves_until_interrupted_and_logs_to_the_state_directory(installed,
                                                                              tmp_path):
    env = {**installed, "PYRO_NS_PORT": str(free_port())}
    out = tmp_path / "up.out"
    with open(out, "w") as output:
        up = subprocess.Popen(["pyro-objects", "up"], stdout=output, stderr=subprocess.STDOUT,
                              env=env, cwd=tmp_path, start_new_session=True)
    try:
        wait_until(lambda: "system up;" in out.read_text() or up.poll() is not None, 120,
                   "pyro-objects up to start")
        greeting = subprocess.run(["pyro-objects", "client", "greet", "Ana"], text=True,
                                  capture_output=True, timeout=60,
                                  env={**env, "PYRO_NS_HOST": "127.0.0.1"}, cwd=tmp_path)
        up.send_signal(signal.SIGINT)
        code = up.wait(timeout=60)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait(timeout=10)
    assert (greeting.returncode, greeting.stdout) == (0, "Hi welcome Ana\n"), out.read_text()
    assert code == 0, out.read_text()
    run_dir = Path(installed["XDG_STATE_HOME"]) / "pyro-objects" / "run"
    assert (run_dir / "nameserver.log").exists()
    assert list(tmp_path.iterdir()) == [out]  # nothing written where it was started


@pytest.mark.timeout(400)
def test_installed_command_knows_its_version_and_every_subcommand(installed, tmp_path):
    version = run_installed(installed, tmp_path, "--version")
    assert (version.returncode, version.stdout) == (0, f"pyro-objects {pyro_objects.__version__}\n")
    listing = run_installed(installed, tmp_path, "--help")
    assert listing.returncode == 0
    for name in SUBCOMMANDS:
        assert f"  {name} " in listing.stdout
        usage = run_installed(installed, tmp_path, name, "--help")
        assert usage.returncode == 0, (name, usage.stderr)
        assert f"pyro-objects {name}" in usage.stdout, (name, usage.stdout)
    colliding = subprocess.run(["python", "-c", "import web"], capture_output=True, text=True,
                               env=installed, cwd=tmp_path, timeout=60)
    assert "No module named 'web'" in colliding.stderr


@pytest.mark.parametrize("args, message", [
    (["serve"], "error: unknown command 'serve'; did you mean 'server'?"),
    (["frobnicate"], "error: unknown command 'frobnicate'"),
    ([], "usage: pyro-objects"),
])
def test_a_wrong_command_is_a_usage_error_that_says_what_exists(args, message):
    result = subprocess.run(python("-m", "pyro_objects", *args), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert message in result.stdout + result.stderr
