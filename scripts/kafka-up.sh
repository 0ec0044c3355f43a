#!/usr/bin/env bash
# Start a local single-node Apache Kafka broker (KRaft, combined
# broker+controller) on 127.0.0.1, without Docker: the broker's jars come from
# Maven Central through kafka/pom.xml.
#
# Usage: scripts/kafka-up.sh            (from any directory)
#
# stdout gets exactly one line, the bootstrap address (e.g. 127.0.0.1:9092),
# so `BOOTSTRAP=$(scripts/kafka-up.sh)` works; progress goes to stderr.
# Idempotent: if our broker is already up and answering, it just prints the
# address. Stop it with scripts/kafka-down.sh [--wipe].
#
# Environment (all optional):
#   KAFKA_PORT             PLAINTEXT listener port            (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener port     (default 9093)
#   KAFKA_STATE_DIR        data, logs, pid file, config       (default kafka/.state)
#   KAFKA_LIB_DIR          jar cache                          (default kafka/.cache/lib)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness      (default 90)
#   KAFKA_HEAP_OPTS        JVM heap flags                     (default -Xms256m -Xmx1g)
#   KAFKA_OPTS             extra JVM flags
#   PYTHON                 python with confluent-kafka, for the readiness check
#                          (default .venv/bin/python if present, else python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_DIR="$ROOT/kafka"
HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
STATE_DIR="${KAFKA_STATE_DIR:-$KAFKA_DIR/.state}"
LIB_DIR="${KAFKA_LIB_DIR:-$KAFKA_DIR/.cache/lib}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
EXTRA_OPTS="${KAFKA_OPTS:-}"
BOOTSTRAP="$HOST:$PORT"

if [[ -n "${PYTHON:-}" ]]; then
  :
elif [[ -x "$ROOT/.venv/bin/python" ]]; then
  PYTHON="$ROOT/.venv/bin/python"
else
  PYTHON=python3
fi

log() { echo "kafka-up: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in java mvn "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found on PATH"
done
"$PYTHON" -c 'import confluent_kafka' 2>/dev/null \
  || die "$PYTHON cannot import confluent_kafka (needed for the readiness check); set PYTHON"
[[ "$PORT" =~ ^[0-9]+$ && "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] \
  || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must be numbers"
[[ "$PORT" != "$CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
mkdir -p "$(dirname "$LIB_DIR")"
LIB_DIR="$(cd "$(dirname "$LIB_DIR")" && pwd)/$(basename "$LIB_DIR")"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
PID_FILE="$STATE_DIR/kafka.pid"
CONFIG="$STATE_DIR/server.properties"
CLUSTER_ID_FILE="$STATE_DIR/cluster.id"
PORTS_FILE="$STATE_DIR/ports"
mkdir -p "$DATA_DIR" "$LOG_DIR"

# One kafka-up (or kafka-down) at a time per state dir.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$STATE_DIR/.lock"
  flock -w 300 9 || die "timed out waiting for the lock on $STATE_DIR/.lock"
fi

# Readiness: a real Kafka request must succeed (an open port is not enough).
# Args: bootstrap, pid ('-' = don't watch a process), timeout seconds.
# Exit codes: 0 ready, 2 process died, 3 timed out, 4 confluent-kafka missing.
READY_PY='
import os, sys, time
bootstrap, pid, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
try:
    from confluent_kafka.admin import AdminClient
except ImportError as e:
    print(f"kafka-up: cannot import confluent_kafka with {sys.executable}: {e}", file=sys.stderr)
    sys.exit(4)

def alive():
    if pid == "-":
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) counts as dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True

class Quiet:  # keep librdkafka connection-refused noise off the terminal
    def log(self, *a, **k): pass
    def __getattr__(self, name): return self.log

admin = AdminClient({
    "bootstrap.servers": bootstrap,
    "socket.connection.setup.timeout.ms": 2000,
    "reconnect.backoff.ms": 100,
    "reconnect.backoff.max.ms": 500,
    "log_level": 0,
}, logger=Quiet())
deadline = time.monotonic() + timeout
while True:
    if not alive():
        sys.exit(2)
    left = deadline - time.monotonic()
    if left <= 0:
        sys.exit(3)
    try:
        md = admin.list_topics(timeout=min(2.0, max(left, 0.1)))
        if md.brokers:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
'
wait_ready() { "$PYTHON" -c "$READY_PY" "$BOOTSTRAP" "$1" "$2"; }

# shellcheck source=scripts/kafka-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/kafka-common.sh"

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

dump_logs() {
  local f
  for f in "$LOG_DIR/server.log" "$LOG_DIR/stdout.log"; do
    if [[ -s "$f" ]]; then
      echo "----- last 50 lines of $f -----" >&2
      tail -n 50 "$f" >&2
    fi
  done
}

stop_pid() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# --- already running? --------------------------------------------------------
if [[ -f "$PID_FILE" ]]; then
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if is_our_broker "$pid"; then
    # Running: either ready, or still starting (another kafka-up launched it).
    rc=0
    wait_ready "$pid" "$START_TIMEOUT" || rc=$?
    if [[ $rc -eq 0 ]]; then
      log "broker already running (pid $pid) at $BOOTSTRAP"
      echo "$BOOTSTRAP"
      exit 0
    fi
    [[ $rc -eq 4 ]] && die "set PYTHON to a python that has confluent-kafka"
    dump_logs
    die "broker process $pid is running but not answering on $BOOTSTRAP (run scripts/kafka-down.sh)"
  fi
  log "removing stale pid file ($pid is not running)"
  rm -f "$PID_FILE"
fi

for p in "$PORT" "$CONTROLLER_PORT"; do
  if port_open "$p"; then
    die "port $HOST:$p is already in use by another process (not our broker); set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
  fi
done

# The controller's endpoint is written into the storage at format time, so a
# state dir can't be reused with other ports.
if [[ -f "$PORTS_FILE" ]] && [[ "$(cat "$PORTS_FILE")" != "$PORT $CONTROLLER_PORT" ]]; then
  die "$STATE_DIR was formatted for ports '$(cat "$PORTS_FILE")', not '$PORT $CONTROLLER_PORT'; run scripts/kafka-down.sh --wipe or use another KAFKA_STATE_DIR"
fi

# --- jars --------------------------------------------------------------------
POM="$KAFKA_DIR/pom.xml"
STAMP_FILE="$LIB_DIR.stamp"
pom_hash="$(sha256sum "$POM" | cut -d' ' -f1)"
if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$pom_hash" ]] \
  && compgen -G "$LIB_DIR/kafka_2.13-*.jar" >/dev/null; then
  :
else
  log "fetching Kafka jars with Maven into $LIB_DIR ..."
  tmp_lib="$LIB_DIR.tmp.$$"
  rm -rf "$tmp_lib"
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp_lib" >&2; then
    rm -rf "$tmp_lib"
    die "mvn dependency:copy-dependencies failed"
  fi
  rm -rf "$LIB_DIR"
  mv "$tmp_lib" "$LIB_DIR"
  echo "$pom_hash" >"$STAMP_FILE"
  log "$(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $LIB_DIR"
fi
CLASSPATH_GLOB="$LIB_DIR/*"

# --- config ------------------------------------------------------------------
cat >"$CONFIG" <<EOF
# Generated by scripts/kafka-up.sh; rewritten at every start. Edit the script.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
log.dirs=$DATA_DIR
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF

JAVA_FLAGS=(
  -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.xml"
  -Dkafka.logs.dir="$LOG_DIR"
)
# StorageTool logs to its own file, so server.log is the broker's alone.
TOOL_FLAGS=("${JAVA_FLAGS[@]}" -Dkafka.log.file=storage-tool.log)

# --- format storage (once per state dir) ---------------------------------------
if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    java "${TOOL_FLAGS[@]}" -cp "$CLASSPATH_GLOB" kafka.tools.StorageTool random-uuid \
      2>>"$LOG_DIR/format.log" | tail -n 1 >"$CLUSTER_ID_FILE"
    [[ -s "$CLUSTER_ID_FILE" ]] || { tail -n 50 "$LOG_DIR/format.log" >&2; die "StorageTool random-uuid failed"; }
  fi
  cluster_id="$(cat "$CLUSTER_ID_FILE")"
  log "formatting storage in $DATA_DIR (cluster id $cluster_id)"
  if ! java "${TOOL_FLAGS[@]}" -cp "$CLASSPATH_GLOB" kafka.tools.StorageTool format \
      --standalone --ignore-formatted -t "$cluster_id" -c "$CONFIG" >>"$LOG_DIR/format.log" 2>&1; then
    tail -n 50 "$LOG_DIR/format.log" >&2
    die "StorageTool format failed"
  fi
  echo "$PORT $CONTROLLER_PORT" >"$PORTS_FILE"
fi

# --- start -------------------------------------------------------------------
log "starting broker on $BOOTSTRAP (state: $STATE_DIR)"
# shellcheck disable=SC2086  # HEAP_OPTS / EXTRA_OPTS are word lists on purpose
nohup java $HEAP_OPTS \
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
  -XX:+ExplicitGCInvokesConcurrent \
  $EXTRA_OPTS "${JAVA_FLAGS[@]}" \
  -cp "$CLASSPATH_GLOB" kafka.Kafka "$CONFIG" \
  >>"$LOG_DIR/stdout.log" 2>&1 </dev/null 9>&- &
pid=$!
echo "$pid" >"$PID_FILE"

rc=0
wait_ready "$pid" "$START_TIMEOUT" || rc=$?
case $rc in
  0)
    log "broker ready (pid $pid) at $BOOTSTRAP"
    echo "$BOOTSTRAP"
    exit 0
    ;;
  2) reason="broker process $pid exited during startup" ;;
  3) reason="broker not ready after ${START_TIMEOUT}s (KAFKA_START_TIMEOUT); stopped it" ;;
  4) reason="set PYTHON to a python that has confluent-kafka; stopped the broker" ;;
  *) reason="readiness check failed (exit $rc); stopped the broker" ;;
esac
stop_pid "$pid"
rm -f "$PID_FILE"
dump_logs
die "$reason"
