"""python -m pyro_objects.system demo|up"""

import sys

from pyro_objects import cli
from pyro_objects.system import demo, up

COMMANDS = {"demo": demo.main, "up": up.main}

if __name__ == "__main__":
    parser = cli.Parser(prog="python -m pyro_objects.system", description=__doc__)
    parser.add_argument("command", choices=COMMANDS)
    sys.exit(COMMANDS[parser.parse_args().command]())
