#!/usr/bin/env bash
# Start Pyro4's name server in the foreground: ./nameserver.sh [-n HOST] [-p PORT] [-s STORAGE]
# The same as `pyro-objects nameserver`. Defaults: PYRO_NS_HOST (localhost), PYRO_NS_PORT (9090),
# registrations kept in NS_STORAGE (sql:~/.local/state/pyro-objects/names-HOST-PORT.sqlite).
# --help lists all options.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The checkout's venv when there is one (make install), else python3 on PATH.
python=python3
[[ -x "$here/.venv/bin/python" ]] && python="$here/.venv/bin/python"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
if ! "$python" -c "import Pyro4" 2>/dev/null; then
    echo "error: Pyro4 is not installed for $python" >&2
    echo "hint: run 'make install' in $here (or: pip install $here)" >&2
    exit 2
fi
exec "$python" -m pyro_objects.nameserver "$@"
