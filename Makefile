# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CATALOGS := $(wildcard core/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: demo test install lint check translations hookdocs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

%.mo: %.po | $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy --statistics -i $< -o $@ 2>/dev/null || $(BIN)/pybabel compile -i $< -o $@

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

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o core/translations/messages.pot core plugins
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations --no-fuzzy-matching
