# dockdrift: the two commands the README promises (make demo, make test) and helpers.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# -p no:cacheprovider: CI runs next to a read-only checkout of ../shared and needs no cache.
PYTEST_FLAGS ?= -q -p no:cacheprovider -ra
ARGS ?=

.PHONY: venv test demo dockerd dockerd26 podman servers lint

# Creates the venv (if missing) and installs the project with its dev extra.
venv:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres]'

$(PY):
	$(MAKE) venv

# pytest's exit code 5 means "no tests ran": that must never pass as green.
test: | $(PY)
	@$(PY) -m pytest $(PYTEST_FLAGS) $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

demo:
	scripts/demo.sh

dockerd:
	scripts/dockerd-up.sh

dockerd26:
	scripts/dockerd26-up.sh

podman:
	scripts/podman-up.sh

# Engine 20.10, Engine 26.1 and Podman, each with busybox:local (see README, "Tests").
servers:
	scripts/servers-up.sh

lint: | $(PY)
	$(PY) -m ruff check .
