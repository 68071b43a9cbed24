# Two commands a newcomer needs: `make run` (set up, generate default exports when the landing
# zone is empty, build everything) and `make test`. The environment comes from requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export CPWH_HOME ?= $(CURDIR)/data

.PHONY: setup run test lint ui bench clean

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/cpwh generate --if-empty
	$(BIN)/cpwh build

lint: setup
	$(BIN)/ruff check orchestration tests
	$(BIN)/ruff format --check orchestration tests

test: lint
	$(BIN)/python -m pytest -n 2 -q

ui: setup
	$(BIN)/python -c "from orchestration.settings import Settings; Settings.from_env().ensure_dagster_home()"
	DAGSTER_HOME=$(CPWH_HOME)/dagster $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: setup
	$(BIN)/python -m orchestration.bench

clean:
	rm -rf $(VENV) data dbt_project/target dbt_project/logs
