"""Ring node 3 of 3, as in Pyro4's chain example: python chain/server_chain_3.py [options]"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find chain/

from chain.server import launch

if __name__ == "__main__":
    launch(3)
