# gdlab: two commands on a fresh machine.
#   make run   — create .venv, install torch 2.13.0 + gdlab, run the catalog at quick size, write report/
#   make test  — the same set-up, then the test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.gdlab-installed
STORE  ?= gdlab.db
JOBS   ?= 2

.PHONY: run test test-slow bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU wheel of 2.13.0 is what gdlab is tested with, and a bare
	# `pip install torch` on a clean venv could pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# dev = the test extras (pytest, pandas/pyarrow for export); ray so the Ray tests run too.
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gdlab run all --quick --jobs $(JOBS) --store $(STORE)
	$(BIN)/gdlab report --store $(STORE) --out report

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

bench: $(STAMP)
	for b in bench/*.py; do case $$b in *nt_reference*) ;; *) $(BIN)/python $$b || exit 1;; esac; done

lint: $(STAMP)
	$(BIN)/ruff check gdlab tests bench

clean:
	rm -rf report $(STORE) $(STORE)-wal $(STORE)-shm .pytest_cache
