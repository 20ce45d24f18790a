# The quick start: `make run` and `make test`. Everything else is built on these.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp
# Every dependency pinned with its hashes (pip-compile); `make lock` rewrites both files.
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: setup run test lint format check-migrations browsers clean lock audit

$(STAMP): pyproject.toml $(DEV_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else "Python 3.13+ is needed (pyenv reads .python-version); found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: setup
	$(BIN)/python manage.py makemigrations --check --dry-run

test: setup lint check-migrations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# After changing pyproject.toml's dependencies: pin the new set (what is pinned stays pinned
# where it still fits). LOCK_ARGS=--upgrade takes the newest releases of everything,
# LOCK_ARGS='--upgrade-package django' of one. Commit both files; `make` then installs them.
lock: setup
	$(PIP_COMPILE) $(LOCK_ARGS) --output-file $(LOCK) pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev --output-file $(DEV_LOCK) pyproject.toml

# Known vulnerabilities in the locked packages (pip-audit); requirements/audit-ignore.txt
# lists the ones let pass, each dated and explained.
audit: setup
	$(BIN)/python .ci/audit.py

# Lighthouse on the main pages (.ci/lighthouse.py): production settings, demo data, mobile and
# desktop presets; accessibility, best practices and SEO must reach 95. Writes docs/audit.md.
# Needs `npm ci` (Lighthouse, pinned in package-lock.json) and Debian's chromium.
.PHONY: audit-pages
audit-pages: setup
	$(BIN)/python .ci/lighthouse.py

# The performance benchmark (bench/run.py): gunicorn + PostgreSQL + wrk on loopback: the warm
# endpoint table, growth, memory, then the cold mix (distinct realistic URLs, each once, from an
# empty shared Redis cache; bench/coldmix.py). BENCH_ARGS=--quick for a short smoke run.
.PHONY: bench bench-cold
bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Only the cold mix, at small (for its growth) and at the large preset; BENCH_ARGS as above,
# e.g. BENCH_ARGS='--quick --preset small' while developing.
bench-cold: setup
	$(BIN)/python bench/run.py --cold $(BENCH_ARGS)

# The load test (bench/loadtest.py): visitors, outbound clicks and an admin editor at once on
# gunicorn + PostgreSQL + its own Redis, then beside junk-parameter and vendor-saving clients,
# then with Redis stopped; nothing may be lost. LOADTEST_ARGS=--quick for a short smoke run.
.PHONY: loadtest
loadtest: setup
	$(BIN)/python bench/loadtest.py $(LOADTEST_ARGS)

# The deployment's topology on loopback (cluster/): a PostgreSQL primary and its streaming
# replica with the app reading from both (replica.py), then two gunicorn app servers behind
# nginx on one database and one Redis (two_apps.py). Each prints every check; exit 0 only when
# all passed. Needs PostgreSQL 15's server binaries, nginx and redis-server; starts and stops
# its own servers, and its own database (wtcluster_twoapps) on 127.0.0.1:5432.
.PHONY: cluster-test
cluster-test: setup
	$(BIN)/python cluster/replica.py; replica=$$?; \
	$(BIN)/python cluster/two_apps.py; two_apps=$$?; \
	test $$replica -eq 0 -a $$two_apps -eq 0
