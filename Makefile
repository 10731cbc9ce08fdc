# The shop's everyday commands. `make up` runs everything locally; `make test` the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REPLICAS ?= 1
# requirements/dev.lock: everything make venv installs (the project's dependencies, the
# stand-ins' and the dev tools); requirements/shop.lock: the services' image, standins.lock:
# the stand-ins' image (the same pins: both are compiled within dev.lock's).
DEV_LOCK := requirements/dev.lock
SHOP_LOCK := requirements/shop.lock
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --no-header -q
CHROMIUM_PATH ?= /usr/bin/chromium
# Debian packages, installed with apt-get (sudo unless root) when missing.
PACKAGES := PYTHON=$(PYTHON) CHROMIUM_PATH=$(CHROMIUM_PATH) deploy/install-packages

.PHONY: help venv lock deps up test faults lint format bench clean

help:
	@echo "make deps   install every Debian package up and test need, when missing"
	@echo "make venv   create .venv: the locked dependencies (requirements/dev.lock), the project"
	@echo "make lock   pin the dependencies again (requirements/*.lock, with hashes) with uv"
	@echo "make up     run the whole shop locally (gateway on http://localhost:8080);"
	@echo "           REPLICAS=3: three processes per service behind the gateway"
	@echo "make test   the test suite against real PostgreSQL and RabbitMQ"
	@echo "make faults the fault suite alone (tests/faults; make test runs it too)"
	@echo "make lint   ruff check, ruff format --check, mypy"
	@echo "make bench  the benchmarks"
	@echo "make clean  remove caches and runtime files (keeps .local/ secrets and .venv)"

# The dependencies exactly as locked (with hashes), then the project itself without any.
$(PY): pyproject.toml $(DEV_LOCK)
	@$(PACKAGES) venv
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes -r $(DEV_LOCK)
	$(VENV)/bin/pip install -q -e . --no-deps
	@touch $(PY)

venv: $(PY)

# After a change of pyproject.toml's dependencies (or to take newer releases): both locks
# again, from PyPI, then make venv installs them.
lock:
	@test -x $(VENV)/bin/uv || $(MAKE) --no-print-directory venv
	$(LOCK) --extra dev --extra standins -o $(DEV_LOCK)
	$(LOCK) -c $(DEV_LOCK) -o $(SHOP_LOCK)
	$(LOCK) -c $(DEV_LOCK) --extra standins -o requirements/standins.lock

deps:
	@$(PACKAGES) test

up:
	@$(PACKAGES) up
	@$(MAKE) --no-print-directory venv
	$(PY) -m deploy.run --replicas $(REPLICAS)

test:
	@$(PACKAGES) test
	@$(MAKE) --no-print-directory venv
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(VENV)/bin/pytest -q

# FAULT_ORDERS (1000), FAULT_RATE (20/s), FAULT_SHOPPERS (50): see tests/faults/README.md.
faults:
	@$(PACKAGES) test
	@$(MAKE) --no-print-directory venv
	$(VENV)/bin/pytest -q -s tests/faults

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services deploy

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
