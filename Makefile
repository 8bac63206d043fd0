# One entry point for teachers and CI. Every target creates .venv first if it is
# missing or out of date, so `make series` or `make test` works on a fresh clone.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

# Use the offline copy of MNIST beside the project when there is one (as on the
# classroom machine and in CI); an MNIST_NPZ already set in the environment wins.
SHARED_MNIST := $(abspath ../shared/data/mnist.npz)
ifneq ($(wildcard $(SHARED_MNIST)),)
MNIST_NPZ ?= $(SHARED_MNIST)
export MNIST_NPZ
endif

.PHONY: install lock series notebooks book class-runs student-copies hub-install hub-check test-deploy lab lab-quick test test-notebooks test-units test-fast benchmark seed-spread clean

install: $(VENV)/.installed

# uv installs exactly what requirements.lock lists, checking every package against the lock's hashes
# and removing any package the lock does not list; pip installs uv itself first, at the lock's version
# and hashes. --compile-bytecode writes the .pyc files that every kernel's imports need, even where
# PYTHONDONTWRITEBYTECODE keeps Python from writing them. Where the hub is installed (.hub-installed),
# the hub's lock is installed instead: it holds the same pins plus the hub's packages, so a later
# `make install` does not remove the packages a running hub uses.
INSTALLED_LOCK = $(if $(wildcard $(VENV)/.hub-installed),$(HUB_LOCK),requirements.lock)
HUB_LOCK := deploy/jupyterhub/requirements.lock
$(VENV)/.installed: requirements.lock $(HUB_LOCK) pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --compile-bytecode $(INSTALLED_LOCK)
	touch $@

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/,!/\\$$/' requirements.lock > $(VENV)/uv-requirement.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(VENV)/uv-requirement.txt

## Resolve requirements.txt again into requirements.lock, keeping every pin that still fits, for every
## platform and Python 3.11.2 or newer (Debian 12's, which a class hub's venv is built from).
## UPGRADE=keras lets one package move to the newest release its range allows (UPGRADE="keras numpy"
## several, UPGRADE=all every one). Then the hub's lock: requirements.txt and the hub's requirements.txt,
## held to requirements.lock's pins (less its unnamed `-e .`, which uv refuses as a constraint).
UPGRADE_FLAGS = $(if $(filter all,$(UPGRADE)),--upgrade,$(addprefix --upgrade-package ,$(UPGRADE)))
COMPILE_LOCK = $(BIN)/uv pip compile --quiet --universal --python-version 3.11.2 --generate-hashes \
	--custom-compile-command "make lock" $(UPGRADE_FLAGS)
lock: | $(BIN)/uv
	$(COMPILE_LOCK) --output-file requirements.lock requirements.txt
	grep -v '^-e ' requirements.lock > $(VENV)/series-pins.txt
	$(COMPILE_LOCK) --constraint $(VENV)/series-pins.txt \
		--output-file $(HUB_LOCK) requirements.txt deploy/jupyterhub/requirements.txt

## The series' main job: run every notebook in order, full mode; copies go to build/executed/.
series: install
	MNIST_SERIES_MODE=full $(BIN)/python scripts/run_series.py --output-dir build/executed

## Re-run the series in full mode and store the outputs in the committed notebooks.
notebooks: install
	MNIST_SERIES_MODE=full $(BIN)/python scripts/run_series.py --in-place

## The series' website in build/book/ (open build/book/index.html): every notebook with its stored outputs,
## nothing run, no network needed. Warnings are errors, as in its tests (tests/book); MNIST_BOOK_HUB=<a class
## hub's address> makes each page's nbgitpuller link a link. .github/workflows/pages.yml publishes it.
book: install
	$(BIN)/python scripts/build_book.py --strict

## Publish the newest complete runs (03, 04, 08; every mode trained) for a class to read through
## MNIST_CLASS_RUNS: make class-runs DEST=/srv/mnist-class [ARCHIVE=build/class-runs.tar.gz]
class-runs: install
	@test -n "$(DEST)" || { echo "Say where to publish: make class-runs DEST=/srv/mnist-class" >&2; exit 2; }
	$(BIN)/python scripts/publish_class_runs.py --dest "$(DEST)" $(if $(ARCHIVE),--archive "$(ARCHIVE)")

## Hand-outs for a class that grades the exercises: the notebooks without solutions or outputs, in
## build/students/; QUIZ_ANSWERS=remove leaves out the quiz answers too (default: keep).
student-copies: install
	$(BIN)/python scripts/student_copies.py --output-dir build/students --quiz-answers $(or $(QUIZ_ANSWERS),keep)

# Jupyter refuses to start as root unless told to; containers and classroom VMs often run as root.
# jupyter/lab-settings/overrides.json sets the series' JupyterLab defaults: no "Jupyter news?" pop-up
# over the class's screen, and every cell of a notebook kept in the page (the browser tests rely on it).
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,) --LabApp.app_settings_dir=$(CURDIR)/jupyter/lab-settings

## Open JupyterLab on the notebooks for a class (full mode: the recipes as written).
lab: install
	MNIST_SERIES_MODE=full $(BIN)/jupyter lab $(LAB_FLAGS) notebooks/

## The same in quick mode, for a live class: 10,000 training images and 3 epochs per network.
lab-quick: install
	MNIST_SERIES_MODE=quick $(BIN)/jupyter lab $(LAB_FLAGS) notebooks/

## The whole test suite: lint, then two halves at once, one per core (make's output comes per half,
## when it ends):
## * test-notebooks: every notebook in order at smoke size under nbval's plugin (no cell may fail, and
##   each cell tagged nbval-check-output must print what the committed notebook stores), its runs saved
##   in build/test-runs/, not artifacts/; then the classroom walkthrough (tests/browser) on those runs:
##   every notebook opened in JupyterLab in a real browser, 07 run there;
## * test-units: every other test of helpers/, benchmarks/ and scripts/, one quick-mode training as a
##   class runs it, and the book.
TEST_RUNS := $(CURDIR)/build/test-runs
# make test-deploy and `pytest -m host` run the tests marked deploy and host; both halves leave them out.
NOT_DEPLOY_OR_HOST := not deploy and not host
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check notebooks
	$(MAKE) --no-print-directory -j2 --output-sync=target test-notebooks test-units

test-notebooks: install
	rm -rf $(TEST_RUNS)
	env -u MNIST_CLASS_RUNS MNIST_SERIES_MODE=smoke MNIST_ARTIFACTS=$(TEST_RUNS) \
		$(BIN)/python -m pytest --nbval-lax notebooks
	WALKTHROUGH_RUNS=$(TEST_RUNS) $(BIN)/python -m pytest tests/browser -m "$(NOT_DEPLOY_OR_HOST)"

test-units: install
	$(BIN)/python -m pytest tests --ignore=tests/browser -m "$(NOT_DEPLOY_OR_HOST)"

## JupyterHub for a class (deploy/jupyterhub): the hub and nbgitpuller into .venv, from the hub's lock
## (the series' pins and the hub's, with hashes), the proxy with npm.
hub-install: $(VENV)/.hub-installed

$(VENV)/.hub-installed: $(VENV)/.installed $(HUB_LOCK) deploy/jupyterhub/package-lock.json
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --compile-bytecode $(HUB_LOCK)
	npm ci --prefix deploy/jupyterhub --no-audit --no-fund --loglevel=error
	touch $@

## Before a class, as root, with the hub's environment: what would fail for students, one line per
## problem with its fix, or one line saying all is ready. The hub runs the same check when it starts.
hub-check:
	@test -x $(BIN)/python || { echo "There is no $(VENV) here: run make hub-install first." >&2; exit 1; }
	$(BIN)/python deploy/jupyterhub/hub_check.py

## The class set-ups, for real: a JupyterHub on 127.0.0.1 built as deploy/jupyterhub/README.md says,
## where three throw-away Linux accounts log in with their passwords in Chromium, pull the series and
## open 05 to 08 on the class's runs, and the pre-flight check meets three broken set-ups (tests/hub);
## and a simulated Colab (tests/test_colab.py). As root; CI runs it after make test.
test-deploy: hub-install
	$(BIN)/python -m pytest tests -m deploy

## The contributor's loop, under a minute: lint and the unit tests not marked slow (no training
## of real networks, no browser).
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests -m "not slow and not deploy and not host"

## Time the recipes' own float32 training against the series' path (about 25 minutes).
benchmark: install
	$(BIN)/python benchmarks/bench_training.py --json build/benchmark.json

## Train both recipes through the series' path with seeds 1-10: the spread of test accuracy (about 75 minutes).
seed-spread: install
	$(BIN)/python benchmarks/seed_spread.py --json build/seed_spread.json

clean:
	rm -rf build artifacts
