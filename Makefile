# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo-output

.PHONY: venv install test demo bench clean report-page1

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
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || (apt-get install -y -qq chromium \
		chromium-driver >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq \
		chromium chromium-driver) >/dev/null 2>&1) \
		|| echo "chromium could not be installed: the review page's browser tests will skip"
	$(BIN)/ruff check host firmware tests bench
	$(BIN)/python -m pytest -q

demo: $(VENV)/.installed
	@mkdir -p -m 700 $(DEMO_DIR)
	$(BIN)/jerklog simulate --scenario night --seed 1 --db $(DEMO_DIR)/demo.sqlite3 \
		--start 2026-11-20T22:30:00 --save-raw $(DEMO_DIR)
	$(BIN)/jerklog export --format csv --db $(DEMO_DIR)/demo.sqlite3 --out $(DEMO_DIR)/diary.csv
	$(BIN)/jerklog report --db $(DEMO_DIR)/demo.sqlite3 --out $(DEMO_DIR)/report.pdf
	@echo "diary:  $(CURDIR)/$(DEMO_DIR)/diary.csv"
	@echo "report: $(CURDIR)/$(DEMO_DIR)/report.pdf"

# docs/report-page1.png: page 1 of the report of a fresh demo night, at 100 dpi (poppler-utils).
report-page1: $(VENV)/.installed
	rm -rf build/demo-page1
	$(MAKE) --no-print-directory demo DEMO_DIR=build/demo-page1
	pdftoppm -png -r 100 -f 1 -l 1 -singlefile build/demo-page1/report.pdf docs/report-page1
	@echo "page 1: $(CURDIR)/docs/report-page1.png"

bench: $(VENV)/.installed
	$(BIN)/jerklog bench all
	$(BIN)/python bench/bench_diary.py
	$(BIN)/python bench/bench_diary.py --days 30 --events 25000
	$(BIN)/jerklog bench load --devices 4 --rate 833 --minutes 10

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info .pytest_cache
