#!/usr/bin/env bash
# Fetches the Kafka broker jars from Maven Central into .kafka/lib (cached in ~/.m2).
set -euo pipefail
source "$(dirname "$0")/env.sh"
if ls "$KAFKA_LIB"/kafka_2.13-*.jar >/dev/null 2>&1 && ls "$KAFKA_LIB"/slf4j-reload4j-*.jar >/dev/null 2>&1; then
  exit 0
fi
command -v java >/dev/null || { echo "java is required to run the Kafka broker (Java 17)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "Installing maven (apt)"; apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
echo "Fetching Apache Kafka jars from Maven Central into $KAFKA_LIB"
mvn -B -q -f "$ROLLGATE_ROOT/infra/kafka/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB"
