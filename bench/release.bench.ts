/**
 * npm run bench:release — how fast routing follows a decision, and what a bad build costs users,
 * on both data planes: the embedded default (one process, embedded log and proxy) and production
 * (five processes, Kafka, PostgreSQL, HAProxy). Everything is real: fleet child processes, users
 * sending 200 requests a second through the data plane. Medians of RUNS runs.
 *
 * - route: RouteChangeRequested (the orchestrator's decision) → RouteApplied (the data plane
 *   confirmed), for every route change of the runs;
 * - rollback switch: an abort while blue is kept warm (the decision) → the switch back confirmed;
 * - bad build: stable fails 1 % of requests, the canary 5 % (a 5x regression) on a 5 % canary step;
 *   time from the first request the bad build served to rollback complete, and the share of all
 *   user requests in that time that the bad build failed. Goal: ≤ 60 s, < 0.5 %.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope } from '@rollgate/contracts';
import { releaseEvents } from './support/release-events';
import { issueToken } from '@rollgate/platform';
import {
  api,
  dropServiceSchemas,
  portsEnv,
  startEmbeddedHost,
  startServiceProcesses,
  stop,
  tempDir,
  traffic,
  waitForPhase,
  waitForRelease,
  type Proc,
  type Served,
} from '../apps/e2e/src/support';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const RATE = 200;
const STABLE_ERRORS = 0.01;
const BAD_ERRORS = 0.05;
const SERVICE = 'bench';
const HAPROXY_PORT = 18380;

const median = (values: number[]) =>
  values.length === 0 ? NaN : [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const newDigest = () => `sha256:${randomBytes(32).toString('hex')}`;

interface Build {
  digest: string;
  version: string;
}

interface Plane {
  name: string;
  env: Record<string, string>;
  token: string;
  procs: Proc[];
  dropSchemas?: () => Promise<void>;
}

// ---------- deployments ----------

function builds(count: number, prefix: string): Build[] {
  return Array.from({ length: count }, (_, i) => ({
    digest: newDigest(),
    version: `${prefix}${i}`,
  }));
}

async function bootEmbedded(profiles: string): Promise<Plane> {
  const dir = tempDir('bench-release');
  const env = {
    ...portsEnv(18300),
    ROLLGATE_DATA_DIR: join(dir, 'data'),
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    ROLLGATE_FLEET_PROFILES: profiles,
  };
  const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'bench', scopes: ['admin'] });
  const host = await startEmbeddedHost(env);
  return { name: 'embedded proxy (embedded mode)', env, token, procs: [host] };
}

async function bootProduction(profiles: string): Promise<Plane> {
  const dir = tempDir('bench-release-prod');
  const prefix = `bench${randomUUID().slice(0, 6)}_`;
  const env = {
    ...portsEnv(18400),
    ROLLGATE_MODE: 'production',
    ROLLGATE_DATA_PLANE: 'haproxy',
    ROLLGATE_HAPROXY_SERVICES: `${SERVICE}:${HAPROXY_PORT}`,
    ROLLGATE_SCHEMA_PREFIX: prefix,
    ROLLGATE_FLEET_PROFILES: profiles,
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    ROLLGATE_DATA_DIR: join(dir, 'data'),
  };
  const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'bench', scopes: ['admin'] });
  const procs = [...(await startServiceProcesses(env)).values()];
  const dropSchemas = () => dropServiceSchemas(prefix);
  return { name: 'HAProxy (production mode)', env, token, procs, dropSchemas };
}

async function deploy(
  plane: Plane,
  build: Build,
  strategy: string,
  plan: object,
  first = false,
): Promise<string> {
  const created = await api(
    `${plane.env['ROLLGATE_ORCHESTRATOR_URL']}/releases`,
    'POST',
    plane.token,
    {
      service: SERVICE,
      artifact: { name: SERVICE, digest: build.digest },
      version: build.version,
      strategy,
      plan: { replicas: 2, ...plan },
      first,
    },
  );
  if (created.status !== 201) throw new Error(`deploy refused: ${JSON.stringify(created.body)}`);
  return created.body['releaseId'] as string;
}

const settle = (plane: Plane, id: string, phases: string[]) =>
  waitForPhase(plane.env['ROLLGATE_ORCHESTRATOR_URL']!, id, phases, 180_000);

async function endpointPort(plane: Plane): Promise<number> {
  const route = await api(
    `${plane.env['ROLLGATE_ROUTER_URL']}/routes/${SERVICE}`,
    'GET',
    undefined,
  );
  return (route.body['endpoint'] as { port: number }).port;
}

// ---------- the log ----------

const eventsOf = (plane: Plane, releaseIds: Set<string>) =>
  releaseEvents(plane.env, 'release', ['rollgate.releases', 'rollgate.routing'], releaseIds);

const time = (event: EventEnvelope) => Date.parse(event.occurredAt);

/** RouteChangeRequested → RouteApplied, per request id. */
function routeLatencies(events: EventEnvelope[]): number[] {
  const requested = new Map<string, number>();
  const latencies: number[] = [];
  for (const event of events) {
    const { requestId } = event.data as { requestId?: string };
    if (!requestId) continue;
    if (event.type === 'RouteChangeRequested') requested.set(requestId, time(event));
    if (event.type === 'RouteApplied' && requested.has(requestId)) {
      latencies.push(time(event) - requested.get(requestId)!);
    }
  }
  return latencies;
}

/** The abort (decision) → the first route confirmed after it, of one release. */
function switchBack(events: EventEnvelope[], releaseId: string): number {
  const mine = events.filter((e) => (e.data as { releaseId?: string }).releaseId === releaseId);
  const aborted = mine.find((e) => e.type === 'ReleaseAborted');
  const applied = mine.find(
    (e) => e.type === 'RouteApplied' && aborted && time(e) >= time(aborted),
  );
  return aborted && applied ? time(applied) - time(aborted) : NaN;
}

// ---------- scenarios ----------

interface PlaneResult {
  name: string;
  route: number[];
  switchBack: number[];
  timeToRollback: number[];
  failedByBad: number[];
  failedAll: number[];
  /** Share of user requests the bad build served, and the request rate the users achieved. */
  badShare: number[];
  rate: number[];
  verdictReasons: string[];
}

async function measure(
  boot: (profiles: string) => Promise<Plane>,
  stable: Build,
  bad: Build[],
  green: Build[],
  profiles: string,
): Promise<PlaneResult> {
  const plane = await boot(profiles);
  const result: PlaneResult = {
    name: plane.name,
    route: [],
    switchBack: [],
    timeToRollback: [],
    failedByBad: [],
    failedAll: [],
    badShare: [],
    rate: [],
    verdictReasons: [],
  };
  const releaseIds = new Set<string>();
  let users: ReturnType<typeof traffic> | undefined;
  try {
    const first = await deploy(plane, stable, 'canary', {}, true);
    releaseIds.add(first);
    await settle(plane, first, ['succeeded']);
    users = traffic(await endpointPort(plane), RATE);
    await new Promise((r) => setTimeout(r, 3_000));

    for (const build of bad) {
      const from = users.served.length;
      const id = await deploy(plane, build, 'canary', { canarySteps: [5, 25, 50] });
      releaseIds.add(id);
      const ended = await settle(plane, id, ['succeeded', 'rolled-back', 'paused']);
      result.verdictReasons.push(`${String(ended['phase'])}: ${String(ended['reason'])}`);
      const events = await eventsOf(plane, new Set([id]));
      const rolledBack = events.find((e) => e.type === 'ReleaseRolledBack');
      const window = users.served.slice(from);
      const firstBad = window.find((s) => s.version === build.version);
      if (!rolledBack || !firstBad) {
        process.stdout.write(`  run ended ${String(ended['phase'])} without a rollback\n`);
        continue;
      }
      const during = window.filter((s) => s.at >= firstBad.at && s.at <= time(rolledBack));
      const failed = (s: Served) => s.status >= 500 || s.status === 0;
      result.timeToRollback.push((time(rolledBack) - firstBad.at) / 1000);
      result.failedByBad.push(
        during.filter((s) => s.version === build.version && failed(s)).length / during.length,
      );
      result.failedAll.push(during.filter(failed).length / during.length);
      result.badShare.push(
        during.filter((s) => s.version === build.version).length / during.length,
      );
      result.rate.push(during.length / ((time(rolledBack) - firstBad.at) / 1000));
      process.stdout.write(
        `  ${plane.name}: bad build rolled back ${result.timeToRollback.at(-1)!.toFixed(1)} s after its first request\n`,
      );
    }

    for (const build of green) {
      const id = await deploy(plane, build, 'blue-green', { warmSeconds: 120 });
      releaseIds.add(id);
      await waitForRelease(
        plane.env['ROLLGATE_ORCHESTRATOR_URL']!,
        id,
        (v) => v['step'] === 2,
        'blue to be kept warm',
        120_000,
      );
      await api(
        `${plane.env['ROLLGATE_ORCHESTRATOR_URL']}/releases/${id}/abort`,
        'POST',
        plane.token,
        {
          reason: 'bench switch back',
        },
      );
      await settle(plane, id, ['aborted']);
      result.switchBack.push(switchBack(await eventsOf(plane, new Set([id])), id));
    }
    result.route = routeLatencies(await eventsOf(plane, releaseIds));
  } finally {
    await users?.stop();
    await Promise.all(plane.procs.map((p) => stop(p)));
    await plane.dropSchemas?.();
  }
  return result;
}

function printTable(results: PlaneResult[]): void {
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const rows = [
    ['', ...results.map((r) => r.name)],
    ['route change → confirmed, median (ms)', ...results.map((r) => median(r.route).toFixed(0))],
    ['route change → confirmed, max (ms)', ...results.map((r) => Math.max(...r.route).toFixed(0))],
    ['route changes measured', ...results.map((r) => String(r.route.length))],
    ['abort → switched back, median (ms)', ...results.map((r) => median(r.switchBack).toFixed(0))],
    [
      'abort → switched back, max (ms)',
      ...results.map((r) => Math.max(...r.switchBack).toFixed(0)),
    ],
    [
      'bad build: first request → rolled back, median (s)',
      ...results.map((r) => median(r.timeToRollback).toFixed(1)),
    ],
    ['bad build: worst run (s)', ...results.map((r) => Math.max(...r.timeToRollback).toFixed(1))],
    ['requests failed by the bad build, median', ...results.map((r) => pct(median(r.failedByBad)))],
    ['requests failed in all, median', ...results.map((r) => pct(median(r.failedAll)))],
    ['requests served by the bad build, median', ...results.map((r) => pct(median(r.badShare)))],
    ['user requests per second, median', ...results.map((r) => median(r.rate).toFixed(0))],
    ['bad builds rolled back', ...results.map((r) => `${r.timeToRollback.length}/${RUNS}`)],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ');
  process.stdout.write(`\n${line(rows[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n`);
  for (const row of rows.slice(1)) process.stdout.write(`${line(row)}\n`);
  process.stdout.write(
    `\nGoal: a 5x error regression (${pct(STABLE_ERRORS)} → ${pct(BAD_ERRORS)}) at ${RATE} req/s on a 5 % canary rolled back within 60 s, with under 0.50 % of all requests failed by the bad build.\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `\n${r.name}, verdicts:\n${r.verdictReasons.map((v) => `  ${v}`).join('\n')}\n`,
    );
  }
}

async function main(): Promise<void> {
  const dir = tempDir('bench-release-profiles');
  const stable = { digest: newDigest(), version: 'stable' };
  const bad = builds(RUNS, 'bad');
  const green = builds(RUNS, 'green');
  const profiles = join(dir, 'profiles.json');
  writeFileSync(
    profiles,
    JSON.stringify({
      [stable.digest]: { errorRate: STABLE_ERRORS, latencyMs: 5 },
      ...Object.fromEntries(bad.map((b) => [b.digest, { errorRate: BAD_ERRORS, latencyMs: 5 }])),
      ...Object.fromEntries(
        green.map((b) => [b.digest, { errorRate: STABLE_ERRORS, latencyMs: 5 }]),
      ),
    }),
  );
  process.stdout.write(`bench:release — ${RUNS} runs per data plane, ${RATE} req/s of users\n`);
  const results = [
    await measure(bootEmbedded, stable, bad, green, profiles),
    await measure(bootProduction, stable, bad, green, profiles),
  ];
  printTable(results);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:release failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
