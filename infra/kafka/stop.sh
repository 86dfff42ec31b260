#!/usr/bin/env bash
# Stops the broker started by start.sh (SIGTERM: controlled shutdown), waiting up to 30 s.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ -f "$KAFKA_PID_FILE" ] || exit 0
pid=$(cat "$KAFKA_PID_FILE")
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  echo "Kafka stopped"
fi
rm -f "$KAFKA_PID_FILE"
