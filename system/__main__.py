"""python -m pyro_objects.system demo|up"""

import sys

from pyro_objects.system import demo, up

COMMANDS = {"demo": demo.main, "up": up.main}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python -m pyro_objects.system {'|'.join(COMMANDS)}")
    sys.exit(COMMANDS[sys.argv[1]]())
