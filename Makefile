# make demo | make test | make up | make bench | make lint | make screenshots | make clean
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install demo up test lint bench certs screenshots clean

install: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "error: Python 3.10+ is needed (set PYTHON=python3.X)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

demo: $(INSTALLED)
	$(PY) -m pyro_objects.system demo

up: $(INSTALLED)
	$(PY) -m pyro_objects.system up

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

# make certs [HOSTS="10.0.0.5 nshost.lan"]: certs/ca/, certs/client/, and certs/<host>/ for each
# host (certs/localhost/ without HOSTS); re-running keeps what exists and adds hosts
certs:
	scripts/make_certs.sh certs $(HOSTS)

clean:
	rm -rf $(VENV) run *.egg-info .pytest_cache .ruff_cache
