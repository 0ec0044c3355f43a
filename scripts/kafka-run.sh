#!/usr/bin/env bash
# Run the dataflow in Kafka mode, with recovery: state and offsets survive a
# crash (SIGKILL) and a stop (SIGTERM, clean: flushes, exits 0).
#
# Usage: scripts/kafka-run.sh [bytewax.run args, e.g. -w 2 or -i 0 -a "h1:p;h2:p"]
#
# The recovery dir's partitions are created on first use
# (python -m bytewax.recovery DIR PARTS); later runs resume from it.
# Environment (all optional; SPREADS_* and KAFKA_BROKERS pass through):
#   RECOVERY_DIR      recovery directory; empty: run without recovery (default kafka/.state-recovery, git-ignored)
#   RECOVERY_PARTS    recovery partitions, fixed at creation            (default 1)
#   SNAPSHOT_SECONDS  snapshot (and epoch) interval, -s                 (default 5)
#   BACKUP_SECONDS    how long old snapshots are kept, -b               (default 0)
#   PYTHON            python with the project installed (default .venv/bin/python, else python3)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
export SPREADS_SOURCE="${SPREADS_SOURCE:-kafka}"
export SPREADS_SINK="${SPREADS_SINK:-kafka}"
export SPREADS_DLQ="${SPREADS_DLQ:-kafka}"
RECOVERY_DIR="${RECOVERY_DIR-kafka/.state-recovery}"
RECOVERY_PARTS="${RECOVERY_PARTS:-1}"
SNAPSHOT_SECONDS="${SNAPSHOT_SECONDS:-5}"
BACKUP_SECONDS="${BACKUP_SECONDS:-0}"

if [[ -z "$RECOVERY_DIR" ]]; then
  echo "kafka-run: no recovery (RECOVERY_DIR is empty)" >&2
  exec "$PYTHON" -m bytewax.run dataflow.flow "$@"
fi
if ! compgen -G "$RECOVERY_DIR/part-*.sqlite3" >/dev/null; then
  mkdir -p "$RECOVERY_DIR"
  echo "kafka-run: creating $RECOVERY_PARTS recovery partition(s) in $RECOVERY_DIR" >&2
  "$PYTHON" -m bytewax.recovery "$RECOVERY_DIR" "$RECOVERY_PARTS"
fi
echo "kafka-run: recovery in $RECOVERY_DIR, snapshots every ${SNAPSHOT_SECONDS}s" >&2
# exec: the flow gets SIGTERM directly (also as a container's PID 1).
exec "$PYTHON" -m bytewax.run dataflow.flow -r "$RECOVERY_DIR" -s "$SNAPSHOT_SECONDS" \
  -b "$BACKUP_SECONDS" "$@"
