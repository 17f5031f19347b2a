# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CATALOGS := $(wildcard core/translations/*/LC_MESSAGES/messages.po plugins/*/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: demo test install lint check translations hookdocs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

%.mo: %.po | $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

install: $(STAMP) $(COMPILED)

demo: install
	$(BIN)/fygitaal demo

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

check: install
	$(BIN)/fygitaal db check

hookdocs: install
	$(BIN)/fygitaal plugins hookdocs > docs/hooks.md

# Refresh the catalogues after changing user-facing text (core, then each bundled plugin).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o core/translations/messages.pot core
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations --no-fuzzy-matching
	for dir in plugins/*/translations; do \
	  plugin=$$(dirname $$dir); \
	  $(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o $$dir/messages.pot $$plugin; \
	  $(BIN)/pybabel update -i $$dir/messages.pot -d $$dir --no-fuzzy-matching; \
	done
