# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.kam-installed
WORKSPACE ?= kam-workspace
REPORTS   ?= reports
DEMO_DATE ?= 2026-11-01   # the demo's "today" (kam.demo.TODAY)

.PHONY: demo test lint bench screenshots clean venv browser postgres

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kam demo $(WORKSPACE) --overwrite
	$(VENV)/bin/kam batch --workspace $(WORKSPACE) --out $(REPORTS) --as-of $(strip $(DEMO_DATE))
	@echo "Open $(REPORTS)/index.html"

test: $(STAMP) browser postgres
	$(PY) -Werror -c "import kam"
	$(VENV)/bin/pytest

# The store tests start a throwaway PostgreSQL server from the machine's own binaries (initdb,
# pg_ctl; as root they run it as the unprivileged user nobody). Install them when missing.
PG_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin/pg_ctl))
postgres:
	@command -v pg_ctl >/dev/null 2>&1 || test -n "$(PG_BIN)" || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing PostgreSQL for the store tests (apt-get install postgresql)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    echo "Installing PostgreSQL for the store tests (sudo apt-get install postgresql)"; \
	    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "make test: the store tests need PostgreSQL's server binaries; run: sudo apt-get install postgresql" >&2; \
	    exit 1; \
	  fi; }

# The browser checks drive Debian's chromium (headless, through playwright). Install it when it
# is missing and we may (root, or sudo without a password); else say in one line what to run.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser checks (apt-get install chromium)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	    echo "Installing Debian's chromium for the browser checks (sudo apt-get install chromium)"; \
	    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test: the browser checks need Debian's chromium; run: sudo apt-get install chromium" >&2; \
	    exit 1; \
	  fi; }

lint: $(STAMP)
	$(VENV)/bin/ruff check kam tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(WORKSPACE) $(REPORTS) .pytest_cache .mypy_cache .ruff_cache
