#!/usr/bin/env bash
# Runs a command with a Kafka broker available: starts one if none listens, stops it afterwards.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/infra/kafka/env.sh"
started=0
if ! kafka_port_open; then
  bash "$root/infra/kafka/start.sh"
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then bash "$root/infra/kafka/stop.sh"; fi; }
trap cleanup EXIT
"$@"
