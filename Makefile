# The shop's everyday commands. `make up` runs everything locally; `make test` the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REPLICAS ?= 1
CHROMIUM_PATH ?= /usr/bin/chromium
# Debian packages, installed with apt-get (sudo unless root) when missing.
PACKAGES := PYTHON=$(PYTHON) CHROMIUM_PATH=$(CHROMIUM_PATH) deploy/install-packages

.PHONY: help venv deps up test faults lint format bench clean

help:
	@echo "make deps   install every Debian package up and test need, when missing"
	@echo "make venv   create .venv and install the project with its dev tools"
	@echo "make up     run the whole shop locally (gateway on http://localhost:8080);"
	@echo "           REPLICAS=3: three processes per service behind the gateway"
	@echo "make test   the test suite against real PostgreSQL and RabbitMQ"
	@echo "make faults the fault suite alone (tests/faults; make test runs it too)"
	@echo "make lint   ruff check, ruff format --check, mypy"
	@echo "make bench  the benchmarks"
	@echo "make clean  remove caches and runtime files (keeps .local/ secrets and .venv)"

$(PY): pyproject.toml
	@$(PACKAGES) venv
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $(PY)

venv: $(PY)

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
