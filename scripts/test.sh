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
npx tsc -p tsconfig.json --noEmit
npx nx show projects >/dev/null
npx eslint . --max-warnings 0
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
run_jest unit --selectProjects unit
run_jest integration --selectProjects integration --verbose
run_jest e2e --selectProjects e2e --runInBand --verbose

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
' "$results"
