# make demo | make test | make up | make status | make test-all | make bench | make lint | make screenshots | make clean
PYTHON ?= python3
# The interpreter that makes the venv; the processes the system starts must not see it.
unexport PYTHON
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Supported Pythons, for make test-all (a missing one is skipped with a message)
VERSIONS ?= 3.10 3.11 3.12 3.13

.PHONY: install demo up status test test-all lint bench certs screenshots wheel clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else "error: Python 3.10 to 3.13 is needed (make PYTHON=python3.X ...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

demo: $(INSTALLED)
	$(PY) -m pyro_objects demo

up: $(INSTALLED)
	RUN_DIR=$${RUN_DIR:-run} $(PY) -m pyro_objects up

# what a running `make up` runs and what answers (exit 1 if something is down, 2 if no up runs)
status: $(INSTALLED)
	@RUN_DIR=$${RUN_DIR:-run} $(PY) -m pyro_objects status

bench: $(INSTALLED)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PY) -m bench.run_all

# a PNG of each web console page, with the system running (needs chromium: apt-get install chromium)
screenshots: $(INSTALLED)
	$(PY) -m pyro_objects.web.screenshots docs/screenshots

lint: $(INSTALLED)
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest

# the whole suite on each supported Python found on PATH or in pyenv's versions, each in its
# own venv (.venv-3.X); make test-all VERSIONS="3.10 3.13" for some
test-all:
	@VERSIONS="$(VERSIONS)" scripts/test-all.sh

wheel:
	$(PY) -m pip wheel --quiet --no-deps -w dist .

# make certs [HOSTS="10.0.0.5 nshost.lan"]: certs/ca/, certs/client/, and certs/<host>/ for each
# host (certs/localhost/ without HOSTS); re-running keeps what exists and adds hosts
certs: $(INSTALLED)
	$(PY) -m pyro_objects certs certs $(HOSTS)

clean:
	rm -rf $(VENV) .venv-3.* run build dist *.egg-info .pytest_cache .ruff_cache
