# dockdrift: the two commands the README promises (make demo, make test) and helpers.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# -p no:cacheprovider: CI runs next to a read-only checkout of ../shared and needs no cache.
PYTEST_FLAGS ?= -q -p no:cacheprovider -ra
ARGS ?=

.PHONY: venv test demo docs docs-gen dockerd dockerd26 dockerd28 dockerd28floor podman podman5 plugins servers servers-down lint matrix

# Creates the venv (if missing) and installs the project with its dev extra.
venv:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres,docs]'

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

dockerd28:
	scripts/dockerd28-up.sh

dockerd28floor:
	scripts/dockerd28-up.sh --floor

podman:
	scripts/podman-up.sh

podman5:
	scripts/podman5-up.sh

plugins:
	scripts/plugins-up.sh

# Engine 20.10, 26.1, 28.5 and 28.5 in floor mode, Podman 4.3 and 5.8, each with busybox:local,
# the compose and buildx plugins, PostgreSQL (see README, "Tests"); servers-down stops them.
servers:
	scripts/servers-up.sh

servers-down:
	scripts/servers-down.sh

lint: | $(PY)
	$(PY) -m ruff check .

# Probe every implementation that answers (Engine 20.10, 26.1, 28.5, 28.5 in Engine 29.0's floor
# mode, Podman 4.3.1 and 5.8.6) into one store with `dockdrift probe` (each case at the daemon's
# own API version and the version-sensitive ones at 1.24, 1.41 and 1.44), then lay them side by
# side in matrix.html; the floor mode is its own column. Exit 0 when the page was written
# (whether or not they differ); 2 or 3 when it could not be (see dockdrift matrix --help).
MATRIX_DB ?= matrix.sqlite
MATRIX_HTML ?= matrix.html
MATRIX_UPSTREAMS ?= tcp://127.0.0.1:2375 tcp://127.0.0.1:2385 tcp://127.0.0.1:2405 \
	tcp://127.0.0.1:2415 tcp://127.0.0.1:2395 tcp://127.0.0.1:2425
matrix: | $(PY)
	@for up in $(MATRIX_UPSTREAMS); do \
	  if $(PY) -c 'import socket, sys; h, p = sys.argv[1].rsplit(":", 1); \
	      socket.create_connection((h, int(p)), 3).close()' "$${up#tcp://}" 2>/dev/null; then \
	    echo "make matrix: probing $$up" >&2; \
	    $(PY) -m dockdrift.cli probe --upstream "$$up" --db $(MATRIX_DB) || exit $$?; \
	  else echo "make matrix: nothing listens at $$up: skipped" >&2; fi; \
	done; \
	$(PY) -m dockdrift.cli matrix --db $(MATRIX_DB) --format html -o $(MATRIX_HTML); rc=$$?; \
	if [ $$rc -gt 1 ]; then exit $$rc; fi

# The documentation site: the generated parts first (command reference, exchanges table, probe
# cases, mitmdump options, layout: scripts/docs_gen.py), then MkDocs strictly into site/.
docs-gen: | $(PY)
	$(PY) scripts/docs_gen.py

docs: docs-gen
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet --site-dir site
