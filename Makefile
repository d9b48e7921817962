# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo-output

.PHONY: venv install test demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

test: $(VENV)/.installed-test
	@command -v pdftoppm >/dev/null || (apt-get install -y -qq poppler-utils >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq poppler-utils) >/dev/null 2>&1) \
		|| echo "poppler-utils could not be installed: the PDF rendering test will skip"
	$(BIN)/python -m pytest -q

demo: $(VENV)/.installed
	@mkdir -p -m 700 $(DEMO_DIR)
	$(BIN)/jerklog simulate --scenario night --seed 1 --db $(DEMO_DIR)/demo.sqlite3 \
		--start 2026-11-20T22:30:00 --save-raw $(DEMO_DIR)
	$(BIN)/jerklog export --format csv --db $(DEMO_DIR)/demo.sqlite3 --out $(DEMO_DIR)/diary.csv
	$(BIN)/jerklog report --db $(DEMO_DIR)/demo.sqlite3 --out $(DEMO_DIR)/report.pdf
	@echo "diary:  $(CURDIR)/$(DEMO_DIR)/diary.csv"
	@echo "report: $(CURDIR)/$(DEMO_DIR)/report.pdf"

bench: $(VENV)/.installed
	$(BIN)/jerklog bench all
	$(BIN)/python bench/bench_diary.py
	$(BIN)/jerklog bench load --devices 4 --rate 833 --minutes 10

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info .pytest_cache
