#!/usr/bin/env bash
# Start Pyro4's name server in the foreground: ./nameserver.sh [-n HOST] [-p PORT] [-s STORAGE]
# Defaults: PYRO_NS_HOST (localhost), PYRO_NS_PORT (9090), registrations kept in
# NS_STORAGE (sql:~/.local/state/pyro-objects/names-HOST-PORT.sqlite). --help lists all options.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    if [[ -x "$here/.venv/bin/python" ]]; then python="$here/.venv/bin/python"; else python=python3; fi
fi
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
if ! "$python" -c "import Pyro4" 2>/dev/null; then
    echo "error: Pyro4 is not installed for $python" >&2
    echo "hint: run 'make install' in $here (or: pip install -e $here)" >&2
    exit 2
fi
exec "$python" -m pyro_objects.nameserver "$@"
