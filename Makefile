# Two commands for a fresh machine: `make run` and `make test`. Both do all set-up first.
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PYBABEL := $(VENV)/bin/pybabel
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)

.PHONY: run test lint bench setup translations extract-messages system-packages clean

run: setup
	$(VENV)/bin/flask --app 'portal.devtools.demo:create_demo_app()' run --host 127.0.0.1 --port 5000

test: setup system-packages lint
	$(PY) -m pytest

# Lint, formatting and types: part of `make test`, and quicker on their own.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The portal under gunicorn against a bare Flask app and the delayed simulators, measured from outside with
# wrk (docs/benchmarks/README.md). BENCH_LATENCY=0.15 (seconds per upstream call), BENCH_QUICK=1 for short runs.
bench: setup system-packages
	$(PY) -m benchmarks

setup: $(VENV)/.installed static/vendor/dkfds/.installed static/build/manifest.json translations

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/dkfds/.installed: node_modules/.installed scripts/vendor_dkfds.sh
	sh scripts/vendor_dkfds.sh
	touch $@

# Bundles, content-hashed names and .br/.gz copies for WhiteNoise (docs/static-files.md); the
# manifest is written last, so it is the target.
static/build/manifest.json: $(VENV)/.installed static/vendor/dkfds/.installed portal/web/assets.py \
		$(wildcard static/css/*.css static/js/*.js) static/favicon.svg
	$(PY) -m portal.web.assets build

translations: $(VENV)/.installed
	$(PYBABEL) compile -d translations

# Refresh the catalogues after changing user-facing text (a developer step, not part of set-up).
extract-messages: $(VENV)/.installed
	$(PYBABEL) extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(PYBABEL) update -i translations/messages.pot -d translations --no-fuzzy-matching

# Debian packages the tests and `make bench` need: Chromium (browser tests, a page's requests), Redis and
# PostgreSQL (real back-ends), and the load generator wrk (the bench, and its smoke test).
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

clean:
	rm -rf $(VENV) node_modules static/vendor static/build instance
