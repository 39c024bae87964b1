#!/usr/bin/env bash
# The whole test suite on each Python in $VERSIONS (default 3.10 3.11 3.12 3.13) that is
# installed: python3.X from pyenv's versions directory or PATH, each in its own venv
# (.venv-3.X). A version that is not installed is skipped with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
versions=${VERSIONS:-3.10 3.11 3.12 3.13}
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}

find_python() {  # find_python 3.X: a working python3.X, or nothing
    local candidate
    for candidate in "$pyenv_root"/versions/"$1".*/bin/python"$1" "$(command -v "python$1")"; do
        if [[ -x "$candidate" ]] && "$candidate" -c 'import sys, venv' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
}

passed=() failed=() skipped=()
for version in $versions; do
    python=$(find_python "$version")
    if [[ -z "$python" ]]; then
        echo "test-all: skipping Python $version: python$version is not installed"
        skipped+=("$version")
        continue
    fi
    venv=".venv-$version"
    echo "test-all: Python $version ($python) in $venv"
    if [[ ! -f "$venv/.installed" ]]; then
        "$python" -m venv "$venv" \
            && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' \
            && touch "$venv/.installed" \
            || { echo "test-all: could not install into $venv"; failed+=("$version"); continue; }
    fi
    if "$venv/bin/python" -m pytest -p no:cacheprovider -q; then
        passed+=("$version")
    else
        failed+=("$version")
    fi
done
echo "test-all: passed: ${passed[*]:-none}; failed: ${failed[*]:-none}; not installed: ${skipped[*]:-none}"
[[ ${#failed[@]} -eq 0 && ${#passed[@]} -gt 0 ]]
