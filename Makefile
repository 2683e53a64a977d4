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

# $(call apt_install,PACKAGE,WHO NEEDS IT): install a Debian package when we may (root, or sudo
# without a password); else say in one line what to run, and stop.
apt_install = \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; \
	else echo "make test: $(2) need Debian's $(1); run: sudo apt-get install $(1)" >&2; exit 1; fi; \
	echo "Installing Debian's $(1) for $(2) ($${SUDO:+sudo }apt-get install $(1))"; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null

# The store tests start a throwaway PostgreSQL server from the machine's own binaries (initdb,
# pg_ctl; as root they run it as the unprivileged user nobody).
PG_BIN := $(firstword $(wildcard /usr/lib/postgresql/*/bin/pg_ctl))
postgres:
	@command -v pg_ctl >/dev/null 2>&1 || test -n "$(PG_BIN)" || { \
	  $(call apt_install,postgresql,the store tests); }

# The browser checks drive Debian's chromium (headless, through playwright).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(call apt_install,chromium,the browser checks); }

lint: $(STAMP)
	$(VENV)/bin/ruff check kam tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(WORKSPACE) $(REPORTS) .pytest_cache .mypy_cache .ruff_cache
