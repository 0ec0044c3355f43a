#!/usr/bin/env bash
# Stop the local Kafka broker started by scripts/kafka-up.sh. Idempotent.
#
# Usage: scripts/kafka-down.sh [--wipe]
#   --wipe   also delete the state dir (data, logs, config, cluster id)
#
# Environment: KAFKA_STATE_DIR (default kafka/.state),
#              KAFKA_STOP_TIMEOUT seconds before SIGKILL (default 30).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${KAFKA_STATE_DIR:-$ROOT/kafka/.state}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

log() { echo "kafka-down: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

wipe=0
for arg in "$@"; do
  case "$arg" in
    --wipe) wipe=1 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg (usage: $0 [--wipe])" ;;
  esac
done

if [[ ! -d "$STATE_DIR" ]]; then
  log "no state dir at $STATE_DIR; nothing to stop"
  exit 0
fi
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
PID_FILE="$STATE_DIR/kafka.pid"
CONFIG="$STATE_DIR/server.properties"

if command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE_DIR/.lock"
  flock -w 300 9 || die "timed out waiting for the lock on $STATE_DIR/.lock"
fi

# shellcheck source=scripts/kafka-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/kafka-common.sh"

pid="$(cat "$PID_FILE" 2>/dev/null || true)"
if is_our_broker "$pid"; then
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    # A zombie has exited; only its parent can reap it.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
    log "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Give init a moment to reap it, so callers see the pid gone on return.
  for ((i = 0; i < 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "stopped"
else
  log "broker not running"
fi
rm -f "$PID_FILE"

if ((wipe)); then
  case "$STATE_DIR" in
    / | "$ROOT" | "$ROOT/kafka" | "${HOME:-/}") die "refusing to wipe $STATE_DIR" ;;
  esac
  exec 9>&-
  rm -rf "$STATE_DIR"
  log "wiped $STATE_DIR"
fi
