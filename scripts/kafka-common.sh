# shellcheck shell=bash
# Shared by scripts/kafka-up.sh and scripts/kafka-down.sh (sourced, not run).

# Is $1 a live process running our broker (the one using $CONFIG)?
is_our_broker() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"kafka.Kafka $CONFIG"* ]]
}
