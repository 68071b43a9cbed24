# Two commands a newcomer needs: `make run` (set up, generate default exports when the landing
# zone is empty, build everything) and `make test`. The environment comes from requirements.lock.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The reference environment: independent implementations the tests compare with, which cannot
# share the product's environment (lifelines needs pandas < 3; DuckDB 1.4 reads the published file).
REF_VENV ?= .venv-reference
# The Spark engine's dbt (dbt-spark, pyspark; Java 17 runs it): an environment of its own, so that
# pyspark stays out of the product's (Great Expectations imports it wherever it is installed).
SPARK_VENV ?= $(VENV)-spark
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export CPWH_HOME ?= $(CURDIR)/data
MANIFEST := dbt_project/target/manifest.json
PROFILES := $(wildcard orchestration/ingest/countries/*.yaml)
DBT_FILES := dbt_project/dbt_project.yml dbt_project/profiles.yml $(PROFILES) orchestration/transform/staging_columns.yml \
	$(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f)

.PHONY: setup spark run test test-slow lint ui bench clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(REF_VENV)/.installed: tests/reference_env/requirements.lock
	$(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/reference_env/requirements.lock
	touch $@

$(SPARK_VENV)/.installed: requirements-spark.lock
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.lock
	touch $@

# What follows from the country profiles (dbt sources, staging models, macros, GX contracts) is
# written first, then dagster-dbt's prepare step: the code location never parses dbt when it loads.
$(MANIFEST): $(VENV)/.installed $(DBT_FILES)
	$(BIN)/cpwh profile sync
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/dagster-dbt project prepare-and-package --file orchestration/transform/dbt_project.py
	touch $@

setup: $(VENV)/.installed $(MANIFEST)

# `make spark` then `cpwh build --engine spark` (or CPWH_ENGINE=spark): the same build on Apache Spark.
spark: setup $(SPARK_VENV)/.installed

run: setup
	$(BIN)/cpwh-synthetic --if-empty
	$(BIN)/cpwh build

lint: setup
	$(BIN)/ruff check orchestration synthetic tests
	$(BIN)/ruff format --check orchestration synthetic tests

# `make test`: every test but the slow ones (each builds a home of its own to test recovery,
# concurrency, the UI or deployment); `make test-slow` runs those, and CI runs both. Each test file
# runs on one worker (`--dist loadfile`), so a home that a file's tests share is built once; the
# homes of several files are built once for both workers (`built_once` in tests/conftest.py).
test: lint $(REF_VENV)/.installed
	CPWH_REFERENCE_PYTHON=$(CURDIR)/$(REF_VENV)/bin/python $(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not slow"

test-slow: setup $(SPARK_VENV)/.installed
	CPWH_SPARK_DBT=$(CURDIR)/$(SPARK_VENV)/bin/dbt $(BIN)/python -m pytest -n 2 -q -m slow

# The Dagster UI and daemon (schedule, sensor, run queue) on 127.0.0.1 only: the webserver has no
# login of its own (see the README before exposing it).
ui: setup
	$(BIN)/python -c "from orchestration.settings import Settings; Settings.from_env().ensure_dagster_home()"
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(CPWH_HOME)/dagster DAGSTER_EVENT_BATCH_SIZE=1000 $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Full builds at scales 0.1, 1 and 10 against the floor and the targets; BENCH="--scales 0.1,1,10,100" adds 100.
bench: setup
	$(BIN)/cpwh bench $(BENCH)

clean:
	rm -rf $(VENV) .venv-3.13 $(REF_VENV) data dbt_project/target dbt_project/logs
