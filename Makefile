# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format check clean bench

# System libraries first, before anything is installed: a missing one stops with the apt-get line that adds it.
# `run` checks those of the window Qt will open (X11 or Wayland); the tests need only offscreen's.
SYSTEM_LIBS := $(PY) tools/system_libs.py

$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# no file: the editor opens on the lessons (the gallery as a start page, the Keras CNN behind it);
# `make run FILE=projects/keras_cnn.gproj` opens that file instead
FILE ?=
run:
	@$(SYSTEM_LIBS)
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/graphedit $(FILE)

check: $(STAMP)
	$(BIN)/graphedit check projects/keras_cnn.gproj

test:
	@$(SYSTEM_LIBS) offscreen
	@$(MAKE) --no-print-directory $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n 2 --dist loadfile -p no:cacheprovider

# everything but the tests marked slow
test-fast:
	@$(SYSTEM_LIBS) offscreen
	@$(MAKE) --no-print-directory $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n 2 --dist loadfile -p no:cacheprovider -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	for f in bench/*.py; do echo "== $$f"; QT_QPA_PLATFORM=offscreen $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
