"""python -m system demo|up"""

import sys

from pyrokit import cli
from system import demo, up

COMMANDS = {"demo": demo.main, "up": up.main}

if __name__ == "__main__":
    parser = cli.Parser(prog="python -m system", description=__doc__)
    parser.add_argument("command", choices=COMMANDS)
    sys.exit(COMMANDS[parser.parse_args().command]())
