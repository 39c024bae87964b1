"""pyro-objects certs [DIR] [HOST ...]: the CA and certificates for mutual TLS (make_certs.sh)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("make_certs.sh")


def usage() -> str:
    """The script's header comment: what it makes, and where."""
    header = SCRIPT.read_text().splitlines()[1:]
    lines = [line[2:] for line in itertools.takewhile(lambda line: line.startswith("#"), header)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["-h"], ["--help"]):
        print(usage())
        return 0
    return subprocess.run(["bash", str(SCRIPT), *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
