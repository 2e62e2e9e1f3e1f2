# 社区学堂 — the two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PO     := lms/translations/zh_Hans_CN/LC_MESSAGES/messages.po
MO     := $(PO:.po=.mo)
PYTEST_ARGS ?=

.PHONY: run test lint venv translations translations-update bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile -d lms/translations -D messages

translations: $(MO)

translations-update: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	    --project=shequ-xuetang -o lms/translations/messages.pot lms
	$(BIN)/pybabel update -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching --width=0

# Set up the database (migrations + demo data when empty) and serve on http://127.0.0.1:5000, with the
# task queue's consumer beside it (background exports, the sweep, backups; its queue is the file
# instance/tasks.sqlite3: no other service). Ctrl-C stops both.
run: venv translations
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo --if-empty
	@$(BIN)/flask --app wsgi worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/flask --app wsgi run --host 127.0.0.1 --port 5000

# The whole suite, on SQLite and on a PostgreSQL server the tests start themselves,
# with the browser journeys in headless Chromium.
test: venv translations lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade) and mypy on lms/: pyproject.toml says how
lint: venv
	$(BIN)/ruff check lms tests bench migrations wsgi.py
	$(BIN)/mypy

bench: venv translations
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) instance .pytest_cache
