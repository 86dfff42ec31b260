#!/usr/bin/env bash
# npm test: everything CI checks, on a fresh machine. Fetches what is missing (Kafka jars via
# Maven), starts what the tests need (Kafka; PostgreSQL if it is down), runs static checks and
# every suite, and stops what it started.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source infra/kafka/env.sh
export NX_DAEMON=false KAFKAJS_NO_PARTITIONER_WARNING=1

step() { printf '\n=== %s\n' "$*"; }

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    step "Installing PostgreSQL (apt)"
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  step "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
  exit 1
}

started_kafka=0
cleanup() { if [ "$started_kafka" = 1 ]; then bash infra/kafka/stop.sh || true; fi; }
trap cleanup EXIT

step "Static checks: TypeScript, ESLint (module boundaries), Prettier"
# tsc and ESLint each keep one core busy: side by side.
npx tsc -p tsconfig.json --noEmit &
tsc_check=$!
npx nx show projects >/dev/null
npx eslint . --max-warnings 0
wait "$tsc_check"
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

ensure_postgres
bash infra/haproxy/ensure.sh >/dev/null && bash infra/prometheus/ensure.sh >/dev/null && bash infra/chromium/ensure.sh >/dev/null
if ! kafka_port_open; then
  step "Starting Kafka (KRaft, single node)"
  KAFKA_FRESH=1 bash infra/kafka/start.sh
  started_kafka=1
fi

results="$(mktemp -d)"
run_jest() {
  local name=$1
  shift
  step "Tests: $name"
  npx jest "$@" --json --outputFile="$results/$name.json"
}
# Unit tests are CPU-bound: every core. Integration suites keep the machine to themselves: their
# read-your-writes waits on Kafka fail when the CPU is shared with e2e processes.
run_jest unit --selectProjects unit --maxWorkers=100%
run_jest integration --selectProjects integration --verbose

# One lane by default: on 2 cores, two lanes took as long (each file slowed under the other's
# load) and made timing-bound drills flaky (a 2 req/s service on Prometheus rolled back).
# ROLLGATE_E2E_LANES=2 runs two lanes side by side, for machines with cores to spare.
# Production mode shares the test broker's topics and consumer groups (rollgate-<service>-<read
# model>), so the files that start services on Kafka run in one lane, one at a time; the others
# (embedded default: own embedded log, SQLite and data dir) in the other. Every file has ports of
# its own (apps/e2e/src/support.ts).
on_kafka="ROLLGATE_MODE: 'production'|KafkaEventLog|KAFKA_BROKERS|startServiceProcesses"
mapfile -t kafka_e2e < <(grep -lE "$on_kafka" apps/e2e/src/*.e2e-spec.ts)
mapfile -t embedded_e2e < <(grep -LE "$on_kafka" apps/e2e/src/*.e2e-spec.ts)
lanes_ok=1
if [ "${ROLLGATE_E2E_LANES:-1}" = 1 ]; then
  run_jest e2e --selectProjects e2e --runInBand --verbose || lanes_ok=0
else
  # A lane's output is prefixed with its name; its status is jest's.
  lane() {
    local name=$1
    shift
    (
      set -o pipefail
      run_jest "e2e-$name" --selectProjects e2e --runInBand --verbose "$@" 2>&1 | sed -u "s/^/[$name] /"
    )
  }
  # Interrupted: stop the lanes and everything they started (background jobs ignore SIGINT).
  kill_tree() {
    local child
    for child in $(pgrep -P "$1"); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
  }
  trap 'for l in ${kafka_lane:-} ${embedded_lane:-}; do kill_tree "$l"; done; exit 130' INT TERM
  step "Tests: e2e in two lanes: ${#kafka_e2e[@]} files on Kafka | ${#embedded_e2e[@]} on the embedded default"
  lane kafka "${kafka_e2e[@]}" &
  kafka_lane=$!
  lane embedded "${embedded_e2e[@]}" &
  embedded_lane=$!
  wait "$kafka_lane" || lanes_ok=0
  wait "$embedded_lane" || lanes_ok=0
fi

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  // A lane whose jest failed without a result (a crash, a bad argument) fails the run too.
  process.exit(failed === 0 && process.argv[2] === "1" ? 0 : 1);
' "$results" "$lanes_ok"
