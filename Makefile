# Parley's tasks. Every target installs what it needs into .venv (Python) and node_modules (CDK CLI).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run synth test lint typecheck check bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

## Parley's main job: the whole service on this machine (local WebSocket gateway + moto).
run: $(VENV)/.installed
	$(PY) -m local.stack

## Synthesize the CloudFormation template (cdk-nag runs at every synth).
synth: install
	npx cdk synth --quiet

## The whole test suite: unit, integration, infrastructure and end-to-end.
test: install
	$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy -p parley -p local -p parley_client -p parley_server -p infra -p benchmarks -p tools

## Cost, cold start, fan-out, local end-to-end and traffic figures (not part of CI): see docs/performance.md.
bench: $(VENV)/.installed
	$(PY) -m benchmarks

check: lint typecheck test

clean:
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache
