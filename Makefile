# One command each: `make demo`, `make test`. Both set themselves up.
SHELL := bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# bytewax 0.21.1 has wheels for CPython 3.10-3.12 only.
BOOTSTRAP_PYTHON ?= $(shell for p in python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(not (3,10) <= sys.version_info[:2] < (3,13))' 2>/dev/null \
	&& { echo $$p; break; }; done)
DEMO_DURATION ?= 60

.PHONY: setup demo test bench lint format kafka-up kafka-down clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(BOOTSTRAP_PYTHON)" || { echo "need CPython 3.10, 3.11 or 3.12 on PATH" >&2; exit 1; }
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

# The stdout demo on the built-in generators; SPREADS_* settings pass through.
demo: setup
	SPREADS_DURATION=$${SPREADS_DURATION-$(DEMO_DURATION)} $(PY) -m bytewax.run dataflow.flow

# Every test, with a real Kafka broker: KAFKA_BROKERS if set, else our own.
test: setup lint
	PYTHON=$(PY) bash scripts/with-kafka.sh $(PY) -m pytest $(PYTEST_ARGS)

# Every benchmark (not part of `make test`); writes BENCHMARKS.md and bench/charts/.
bench: setup
	PYTHON=$(PY) bash scripts/with-kafka.sh $(PY) -m bench.run $(BENCH_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

kafka-up: setup
	PYTHON=$(PY) bash scripts/kafka-up.sh

kafka-down:
	bash scripts/kafka-down.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# ---- Kafka mode (docs/kafka.md) ---------------------------------------------
# Against KAFKA_BROKERS (default 127.0.0.1:9092, the `make kafka-up` broker);
# SPREADS_* settings pass through. Quick start, one terminal each:
#   make kafka-up kafka-topics;  make kafka-run;  make kafka-feed;  make kafka-watch
KAFKA_PARTITIONS ?= 4

.PHONY: kafka-topics kafka-check kafka-feed kafka-run kafka-watch

# The four topics, KAFKA_PARTITIONS each; control and output compacted.
kafka-topics: setup
	$(PY) -m connectors.kafka.admin create-topics --partitions $(KAFKA_PARTITIONS)

# Are the brokers up and the topics there?
kafka-check: setup
	$(PY) -m connectors.kafka.admin check

# The demo streams into Kafka, in real time (FEED_ARGS, e.g. --count 1000 --no-wait).
kafka-feed: setup
	$(PY) -m generators.feed $(FEED_ARGS)

# The dataflow in Kafka mode, with recovery (RUN_ARGS, e.g. -w 2).
kafka-run: setup
	PYTHON=$(PY) bash scripts/kafka-run.sh $(RUN_ARGS)

# The output topic as it grows: <key><TAB><value>, null for a tombstone.
kafka-watch: setup
	$(PY) -m connectors.kafka.admin watch $(WATCH_ARGS)
