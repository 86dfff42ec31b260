# Shared paths for the Kafka scripts. Sourced, not run.
ROLLGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_HOME="${KAFKA_HOME:-$ROLLGATE_ROOT/.kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# The jars are shared by every broker home (bench:scale runs a broker of its own).
KAFKA_LIB="${KAFKA_LIB:-$ROLLGATE_ROOT/.kafka/lib}"
KAFKA_PID_FILE="$KAFKA_HOME/broker.pid"
KAFKA_LOG_FILE="$KAFKA_HOME/broker.log"
KAFKA_LOG4J="-Dlog4j.configuration=file:$ROLLGATE_ROOT/infra/kafka/log4j.properties"

kafka_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; }
