# The workshop kit's commands. Each target sets up .venv itself on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9

.PHONY: install lock demo test lab bench notebooks lint format local-up local-down clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) tools/check_python.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) -r requirements.txt -c constraints.txt --editable .
	@rm -f $(VENV)/lib/python3*/site-packages/workshop-kit.pth  # older kits' way of finding helpers
	$(PY) -m helpers kernel
	@touch $(STAMP)

install: $(STAMP)  ## create .venv with the pinned packages (uv; constraints.txt is the lock)

lock:  ## re-resolve constraints.txt (every package, exact) from requirements.txt, keeping current pins where they still fit
	$(UV) pip compile --quiet --universal --python-version 3.11 --no-header --no-annotate requirements.txt -o constraints.txt

demo: install  ## run every notebook headless on the local cloud; executed copies under build/
	WORKSHOP_MODE=local $(PY) -m helpers run

test: install  ## the whole test suite (what CI runs); report in build/test-report.html, screenshots in build/screenshots/
	$(PY) tools/build_notebooks.py --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	WORKSHOP_MODE=local $(PY) -m pytest -n 4 --dist loadscope --no-loadscope-reorder --durations=12 --html=build/test-report.html --self-contained-html

lab: install  ## JupyterLab on the notebooks, with the kit's kernel (make lab ARGS=--no-browser)
	$(PY) -m helpers lab $(ARGS)

bench: install  ## benchmarks printing side-by-side ratios
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

notebooks: install  ## rebuild notebooks/*.ipynb from notebook_sources/*.py
	$(PY) tools/build_notebooks.py

lint: install  ## ruff (lint and format check) over the kit, its tests and the notebook sources; mypy over helpers/ and the handler
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: install  ## rewrite the code in ruff's format (what make lint checks), then rebuild the notebooks
	$(PY) -m ruff format .
	$(PY) tools/build_notebooks.py

local-up: install
	$(PY) -m localcloud up

local-down: install
	$(PY) -m localcloud down

clean:
	rm -rf build .pytest_cache
