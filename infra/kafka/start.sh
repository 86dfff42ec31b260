#!/usr/bin/env bash
# Starts a single-node KRaft broker on 127.0.0.1:$KAFKA_PORT and waits until it serves.
# KAFKA_FRESH=1 wipes the data directory first. Reuses a broker that is already running.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if kafka_port_open; then
  echo "Kafka already listening on 127.0.0.1:$KAFKA_PORT"
  exit 0
fi
bash "$ROLLGATE_ROOT/infra/kafka/fetch.sh"
mkdir -p "$KAFKA_HOME/logs"
if [ "${KAFKA_FRESH:-0}" = 1 ]; then rm -rf "$KAFKA_HOME/data"; fi
sed -e "s#@DATA_DIR@#$KAFKA_HOME/data#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
  "$ROLLGATE_ROOT/infra/kafka/server.properties.template" > "$KAFKA_HOME/server.properties"
CP="$KAFKA_LIB/*"
if [ ! -f "$KAFKA_HOME/data/meta.properties" ]; then
  CLUSTER_ID=$(java -cp "$CP" $KAFKA_LOG4J kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  java -Xmx256M -cp "$CP" $KAFKA_LOG4J kafka.tools.StorageTool format \
    -t "$CLUSTER_ID" -c "$KAFKA_HOME/server.properties" --ignore-formatted >/dev/null
fi
nohup java -Xms512m -Xmx512m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
  -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_HOME/logs" $KAFKA_LOG4J \
  -cp "$CP" kafka.Kafka "$KAFKA_HOME/server.properties" > "$KAFKA_LOG_FILE" 2>&1 &
echo $! > "$KAFKA_PID_FILE"
for _ in $(seq 1 120); do
  if grep -q 'Kafka Server started' "$KAFKA_LOG_FILE"; then
    echo "Kafka started on 127.0.0.1:$KAFKA_PORT (pid $(cat "$KAFKA_PID_FILE"))"
    exit 0
  fi
  if ! kill -0 "$(cat "$KAFKA_PID_FILE")" 2>/dev/null; then break; fi
  sleep 0.5
done
echo "Kafka did not start; last lines of $KAFKA_LOG_FILE:" >&2
tail -40 "$KAFKA_LOG_FILE" >&2
exit 1
