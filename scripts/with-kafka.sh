#!/usr/bin/env bash
# Run a command with a Kafka broker: KAFKA_BROKERS if set, else a private broker
# (own ports and state dir, so a `make kafka-up` broker is left alone) that is
# started first and stopped afterwards, whatever the command's outcome.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ -n "${KAFKA_BROKERS:-}" ]]; then
  exec "$@"
fi

export KAFKA_PORT="${TEST_KAFKA_PORT:-19092}"
export KAFKA_CONTROLLER_PORT="${TEST_KAFKA_CONTROLLER_PORT:-19093}"
export KAFKA_STATE_DIR="${TEST_KAFKA_STATE_DIR:-$ROOT/kafka/.state-test}"
stop() { bash "$ROOT/scripts/kafka-down.sh" --wipe >&2 || true; }
trap stop EXIT
KAFKA_BROKERS="$(bash "$ROOT/scripts/kafka-up.sh")"
export KAFKA_BROKERS
echo "with-kafka: broker at $KAFKA_BROKERS" >&2
"$@"
