# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.kam-installed
WORKSPACE ?= kam-workspace
REPORTS   ?= reports
DEMO_DATE ?= 2026-11-01   # the demo's "today" (kam.demo.TODAY)

.PHONY: demo test lint bench screenshots clean venv

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

test: $(STAMP)
	$(PY) -Werror -c "import kam"
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check kam tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(WORKSPACE) $(REPORTS) .pytest_cache .mypy_cache .ruff_cache
