/**
 * npm run bench:scale — many services in production mode on one machine: Kafka + PostgreSQL, three
 * orchestrator replicas and two analysis replicas (one router, flags, migrations), with
 * ROLLGATE_FLEET=simulated, so BENCH_SERVICES services × BENCH_INSTANCES instances are in-process
 * listeners of the orchestrator that owns the service rather than child processes. Only the
 * instances and the users are simulated: every route goes through the data plane, every analysis
 * reads its counters, every step is decided by the owning replica's reconciler from the log.
 *
 * 1. Deploy: a first release of every service (BENCH_INSTANCES replicas each).
 * 2. Canary releases: BENCH_RELEASES releases, Poisson arrivals at BENCH_ARRIVALS_PER_MIN,
 *    BENCH_BAD_SHARE of them bad builds (30 % errors against 0.2 %), canary steps 25 % and 50 % of
 *    BENCH_STEP_SECONDS each. Halfway through the arrivals one orchestrator replica is killed
 *    (SIGKILL) and started again BENCH_RESTART_AFTER_S later.
 *
 * Times come from the log (each event's occurredAt). Reconcile lag: an analysis verdict appended →
 * the owner's decision on it (ReleaseStepCompleted or ReleaseRollbackStarted): before the kill
 * (decided before it), during the failover (appended before the survivors owned every partition,
 * read from their /health, and decided after the kill), after.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { EventEnvelope } from '@rollgate/contracts';
import { releaseEvents } from './support/release-events';
import { eachLimited, issueToken } from '@rollgate/platform';
import {
  api,
  DATABASE_URL,
  dropServiceSchemas,
  healthy,
  portsEnv,
  start,
  startServiceProcesses,
  stop,
  tempDir,
  waitFor,
  type Proc,
} from '../apps/e2e/src/support';

const SERVICES = Number(process.env['BENCH_SERVICES'] ?? 500);
const INSTANCES = Number(process.env['BENCH_INSTANCES'] ?? 4);
const RELEASES = Number(process.env['BENCH_RELEASES'] ?? 1000);
const ARRIVALS_PER_MIN = Number(process.env['BENCH_ARRIVALS_PER_MIN'] ?? 100);
const BAD_SHARE = Number(process.env['BENCH_BAD_SHARE'] ?? 0.05);
const STEP_SECONDS = Number(process.env['BENCH_STEP_SECONDS'] ?? 10);
const USERS_RPS = process.env['BENCH_USERS_RPS'] ?? '12';
const RESTART_AFTER_MS = Number(process.env['BENCH_RESTART_AFTER_S'] ?? 60) * 1000;
const DEPLOY_CONCURRENCY = 10;
const SETTLE_TIMEOUT_MS = Number(process.env['BENCH_TIMEOUT_S'] ?? 900) * 1000;
const TERMINAL = ['succeeded', 'rolled-back', 'aborted'];
const BASE_PORT = 18500;
const PARTITIONS = 6;

const newDigest = () => `sha256:${randomBytes(32).toString('hex')}`;
const quantile = (values: number[], q: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
};
const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : 'n/a');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let lastProgress = 0;
/** A progress line on stderr at most every 10 s (the table goes to stdout). */
const progress = (line: string, force = false) => {
  if (!force && Date.now() - lastProgress < 10_000) return;
  lastProgress = Date.now();
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

interface Build {
  digest: string;
  version: string;
  bad: boolean;
}

// ---------- CPU of each process, from /proc ----------

const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0; // gone (killed)
  }
}

/** CPU seconds per named process over a phase, across restarts (each life counted). */
class CpuMeter {
  private readonly spent = new Map<string, number>();
  private readonly seen = new Map<string, { pid: number; cpu: number }>();
  private timer: NodeJS.Timeout | null = null;
  private began = 0;

  constructor(private readonly processes: () => Map<string, Proc>) {}

  start(): void {
    this.began = Date.now();
    this.spent.clear();
    this.seen.clear();
    this.sample();
    this.timer = setInterval(() => this.sample(), 1_000);
  }

  private sample(): void {
    for (const [name, proc] of this.processes()) {
      const pid = proc.child.pid!;
      const cpu = cpuSeconds(pid);
      const last = this.seen.get(name);
      if (last && last.pid === pid && cpu >= last.cpu)
        this.spent.set(name, (this.spent.get(name) ?? 0) + cpu - last.cpu);
      if (cpu > 0 || last?.pid !== pid) this.seen.set(name, { pid, cpu });
    }
  }

  /** Mean % of one core per process over the phase. */
  stop(): Map<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const elapsed = Math.max(1, (Date.now() - this.began) / 1000);
    return new Map([...this.spent].map(([name, cpu]) => [name, (100 * cpu) / elapsed]));
  }
}

// ---------- PostgreSQL: active time per transaction ----------

/** pg_stat_database of the bench's database: backends' active time and commits. */
async function pgCounters(): Promise<{ activeMs: number; commits: number }> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ active: string; commits: string }>(
      'SELECT active_time AS active, xact_commit AS commits FROM pg_stat_database WHERE datname = current_database()',
    );
    return { activeMs: Number(rows[0]!.active), commits: Number(rows[0]!.commits) };
  } finally {
    await client.end();
  }
}

// ---------- the installation ----------

interface Cluster {
  env: Record<string, string>;
  prefix: string;
  token: string;
  /** Every Rollgate process by name; a restarted replica replaces its entry. */
  procs: Map<string, Proc>;
  /** Every process started, killed ones too, for BENCH_LOGS. */
  started: Array<{ name: string; proc: Proc }>;
}

const ORCHESTRATORS = ['orchestrator', 'orchestrator-2', 'orchestrator-3'] as const;
const replicaPort = (name: string) =>
  ({
    'orchestrator-2': BASE_PORT + 10,
    'orchestrator-3': BASE_PORT + 11,
    'analysis-2': BASE_PORT + 12,
  })[name]!;
const urlOf = (cluster: Cluster, name: string) =>
  name === 'orchestrator'
    ? cluster.env['ROLLGATE_ORCHESTRATOR_URL']!
    : `http://127.0.0.1:${replicaPort(name)}`;

function startReplica(cluster: Cluster, name: 'orchestrator-2' | 'orchestrator-3' | 'analysis-2') {
  const app = name.split('-')[0]!;
  const proc = start(`apps/${app}/src/main.ts`, {
    ...cluster.env,
    [`ROLLGATE_${app.toUpperCase()}_PORT`]: String(replicaPort(name)),
  });
  cluster.procs.set(name, proc);
  cluster.started.push({ name, proc });
  return proc;
}

async function boot(profiles: string): Promise<Cluster> {
  const dir = tempDir('bench-scale');
  const prefix = `bench_scale_${randomUUID().slice(0, 6)}_`;
  const env = {
    ...portsEnv(BASE_PORT),
    ROLLGATE_MODE: 'production',
    // npm run bench:scale starts a broker of its own with an empty log (package.json).
    KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    ROLLGATE_SCHEMA_PREFIX: prefix,
    ROLLGATE_DATA_DIR: join(dir, 'data'),
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    ROLLGATE_FLEET_PROFILES: profiles,
    ROLLGATE_FLEET: 'simulated',
    ROLLGATE_SIMULATED_USERS_RPS: USERS_RPS,
    ROLLGATE_SIMULATED_RPS: '2',
    // 12 req/s per service leaves ~3 req/s on a 25 % canary: judge on 10-s intervals of 20+.
    ROLLGATE_ANALYSIS_MIN_REQUESTS: '20',
  };
  const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'bench', scopes: ['admin'] });
  const procs = await startServiceProcesses(env);
  const started = [...procs].map(([name, proc]) => ({ name, proc }));
  const cluster: Cluster = { env, prefix, token, procs, started };
  for (const name of ['orchestrator-2', 'orchestrator-3', 'analysis-2'] as const)
    startReplica(cluster, name);
  await waitFor(
    async () =>
      (
        await Promise.all(
          ['orchestrator-2', 'orchestrator-3', 'analysis-2'].map((n) => healthy(urlOf(cluster, n))),
        )
      ).every(Boolean),
    'the replicas',
    120_000,
  );
  return cluster;
}

interface HealthBody {
  details?: {
    'event-log'?: {
      lag?: Record<string, { events: number }>;
      ownership?: Record<string, string[]>;
    };
  };
}

async function health(url: string): Promise<HealthBody | undefined> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3_000) }).catch(
    () => undefined,
  );
  return (await response?.json().catch(() => undefined)) as HealthBody | undefined;
}

/** Release partitions each live orchestrator replica drives now (its /health). */
async function ownership(cluster: Cluster, names: readonly string[]): Promise<number> {
  const owners = `${cluster.prefix}orchestrator-owners-releases`;
  const owned = await Promise.all(
    names.map(
      async (n) => (await health(urlOf(cluster, n)))?.details?.['event-log']?.ownership?.[owners],
    ),
  );
  return owned.reduce((sum, partitions) => sum + (partitions?.length ?? 0), 0);
}

/** The largest consumer lag (events behind, summed over a process's read models) seen. */
class LagMeter {
  private timer: NodeJS.Timeout | null = null;
  max = 0;

  constructor(private readonly cluster: Cluster) {}

  start(): void {
    this.max = 0;
    this.timer = setInterval(() => void this.sample(), 5_000);
  }

  private async sample(): Promise<void> {
    for (const name of this.cluster.procs.keys()) {
      const lag = (await health(urlOf(this.cluster, name)))?.details?.['event-log']?.lag ?? {};
      const events = Object.values(lag).reduce((sum, l) => sum + l.events, 0);
      this.max = Math.max(this.max, events);
    }
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    return this.max;
  }
}

async function deploy(
  cluster: Cluster,
  service: string,
  build: Build,
  plan: object,
  first: boolean,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const created = await api(
      `${cluster.env['ROLLGATE_ORCHESTRATOR_URL']}/releases`,
      'POST',
      cluster.token,
      {
        service,
        artifact: { name: service, digest: build.digest },
        version: build.version,
        strategy: 'canary',
        plan: { replicas: INSTANCES, ...plan },
        first,
      },
    ).catch((error: Error) => ({
      status: 0,
      body: { error: error.message } as Record<string, unknown>,
    }));
    if (created.status === 201) return created.body['releaseId'] as string;
    // A request that timed out on a busy machine may have been accepted: take the release it made.
    const details = created.body['details'] as { activeReleaseId?: string }[] | undefined;
    if (created.status === 409 && attempt > 0 && details?.[0]?.activeReleaseId)
      return details[0].activeReleaseId;
    if (attempt >= 10) throw new Error(`deploy of ${service} refused: ${JSON.stringify(created)}`);
    await sleep(1_000 * (attempt + 1));
  }
}

/** Polls each release until it is terminal or `deadline` passes; returns the phase of each. */
async function settleAll(
  cluster: Cluster,
  ids: string[],
  deadline: number,
  reasons: Map<string, string>,
): Promise<Map<string, string>> {
  const phases = new Map<string, string>();
  const open = new Set(ids);
  while (open.size > 0 && Date.now() < deadline) {
    const batch = [...open];
    for (let i = 0; i < batch.length; i += 25) {
      await Promise.all(
        batch.slice(i, i + 25).map(async (id) => {
          const view = await api(
            `${cluster.env['ROLLGATE_ORCHESTRATOR_URL']}/releases/${id}`,
            'GET',
            cluster.token,
          ).catch(() => null);
          const phase = String(view?.body['phase'] ?? 'unknown');
          phases.set(id, phase);
          if (view?.body['reason']) reasons.set(id, String(view.body['reason']));
          if (TERMINAL.includes(phase)) open.delete(id);
        }),
      );
    }
    if (open.size > 0) {
      progress(`${ids.length - open.size} of ${ids.length} releases settled`);
      await sleep(2_000);
    }
  }
  return phases;
}

// ---------- the log ----------

const eventsOf = (cluster: Cluster, releaseIds: Set<string>) =>
  releaseEvents(cluster.env, 'scale', ['rollgate.releases', 'rollgate.analysis'], releaseIds);

/** When one replica was killed, when the survivors owned every partition, when it came back. */
interface Failover {
  killedAt: number;
  takenOverAt: number;
  restartedAt: number;
  /** The restarted replica answers healthy again (its read models caught up). */
  rejoinedAt: number;
}

type LagBucket = 'before' | 'during' | 'after';

interface Timings {
  toFirstStep: number[];
  toVerdict: number[];
  reconcileLag: Record<LagBucket, number[]>;
  /** The slowest decisions outside the failover: when their verdict was appended, and the lag. */
  slowest: { at: number; lag: number }[];
  /** Every decision: when its verdict was appended, and the lag (where the tail lives). */
  decisions: { at: number; lag: number }[];
  /** Steps started more than once in a release (must be 0). */
  stepsTwice: number;
  firstRequest: number;
  lastVerdict: number;
}

function timings(events: EventEnvelope[], failover: Failover | null): Timings {
  const time = (e: EventEnvelope) => Date.parse(e.occurredAt);
  const byRelease = new Map<string, EventEnvelope[]>();
  for (const event of events) {
    const id = (event.data as { releaseId: string }).releaseId;
    byRelease.set(id, [...(byRelease.get(id) ?? []), event]);
  }
  const result: Timings = {
    toFirstStep: [],
    toVerdict: [],
    reconcileLag: { before: [], during: [], after: [] },
    slowest: [],
    decisions: [],
    stepsTwice: 0,
    firstRequest: Infinity,
    lastVerdict: 0,
  };
  // A verdict still waiting for its decision when the replica was killed waited on the failover.
  const bucket = (verdictAt: number, decidedAt: number): LagBucket =>
    !failover || decidedAt < failover.killedAt
      ? 'before'
      : verdictAt < failover.takenOverAt
        ? 'during'
        : 'after';
  for (const mine of byRelease.values()) {
    mine.sort((a, b) => time(a) - time(b));
    const requested = mine.find((e) => e.type === 'ReleaseRequested');
    if (!requested) continue;
    result.firstRequest = Math.min(result.firstRequest, time(requested));
    const steps = mine
      .filter((e) => e.type === 'ReleaseStepStarted')
      .map((e) => (e.data as { step: number }).step);
    result.stepsTwice += steps.length - new Set(steps).size;
    const step = mine.find((e) => e.type === 'ReleaseStepStarted');
    if (step) result.toFirstStep.push(time(step) - time(requested));
    const end = mine.find((e) => e.type === 'ReleaseSucceeded' || e.type === 'ReleaseRolledBack');
    if (end) {
      result.toVerdict.push(time(end) - time(requested));
      result.lastVerdict = Math.max(result.lastVerdict, time(end));
    }
    for (const verdict of mine.filter((e) => e.type === 'AnalysisVerdictReached')) {
      const decision = mine.find(
        (e) =>
          (e.type === 'ReleaseStepCompleted' || e.type === 'ReleaseRollbackStarted') &&
          time(e) >= time(verdict),
      );
      if (!decision) continue;
      const lag = time(decision) - time(verdict);
      const when = bucket(time(verdict), time(decision));
      result.reconcileLag[when].push(lag);
      result.decisions.push({ at: time(verdict), lag });
      if (when !== 'during') result.slowest.push({ at: time(verdict), lag });
    }
  }
  result.slowest = result.slowest.sort((a, b) => b.lag - a.lag).slice(0, 5);
  return result;
}

// ---------- the run ----------

interface PhaseResult {
  name: string;
  releases: number;
  /** Releases the installation did not accept (timed out ten times). */
  refused: number;
  startedPerMin: number;
  finishedPerMin: number;
  succeeded: number;
  rolledBack: number;
  stuck: number;
  bad: number;
  badCaught: number;
  /** Bad builds not rolled back: id, phase and the release's last reason. */
  badMissed: string[];
  /** Why good builds were rolled back (false alarms). */
  goodRolledBack: string[];
  timings: Timings;
  failover: Failover | null;
  cpu: Map<string, number>;
  maxConsumerLag: number;
  pgMsPerTransaction: number;
  pgTransactionsPerSecond: number;
  /** The machine's 1-minute load average at the end (other work on it skews every number). */
  load: number;
}

/** Kills orchestrator-2 at `killAt` (ms into the phase), starts it again RESTART_AFTER_MS later. */
async function killAndRestart(cluster: Cluster, killAt: number, began: number): Promise<Failover> {
  await sleep(Math.max(0, began + killAt - Date.now()));
  await stop(cluster.procs.get('orchestrator-2')!, 'SIGKILL');
  const killedAt = Date.now();
  progress('orchestrator-2 killed (SIGKILL)', true);
  const survivors = ['orchestrator', 'orchestrator-3'];
  await waitFor(
    async () => (await ownership(cluster, survivors)) === PARTITIONS,
    'the survivors to own every partition',
    120_000,
  );
  const takenOverAt = Date.now();
  progress(`survivors own every partition after ${seconds(takenOverAt - killedAt)} s`, true);
  await sleep(Math.max(0, killedAt + RESTART_AFTER_MS - Date.now()));
  startReplica(cluster, 'orchestrator-2');
  const restartedAt = Date.now();
  await waitFor(() => healthy(urlOf(cluster, 'orchestrator-2')), 'orchestrator-2 again', 120_000);
  const rejoinedAt = Date.now();
  progress(
    `orchestrator-2 started again, healthy after ${seconds(rejoinedAt - restartedAt)} s`,
    true,
  );
  return { killedAt, takenOverAt, restartedAt, rejoinedAt };
}

async function phase(
  cluster: Cluster,
  name: string,
  work: Array<{ service: string; build: Build; at: number }>,
  plan: object,
  first: boolean,
  killAt: number | null,
): Promise<PhaseResult> {
  const cpu = new CpuMeter(() => cluster.procs);
  const lag = new LagMeter(cluster);
  const pgBefore = await pgCounters();
  cpu.start();
  lag.start();
  const began = Date.now();
  const failover = killAt === null ? null : killAndRestart(cluster, killAt, began);
  const ids = new Map<string, Build>();
  const refused: string[] = [];
  await eachLimited(
    work,
    first ? DEPLOY_CONCURRENCY : work.length,
    async ({ service, build, at }) => {
      await sleep(Math.max(0, began + at - Date.now()));
      try {
        ids.set(await deploy(cluster, service, build, plan, first), build);
      } catch (error) {
        // An installation too busy to accept a release is a result, not the end of the run.
        refused.push(`${service}: ${(error as Error).message.slice(0, 120)}`);
      }
      progress(`${name}: ${ids.size} of ${work.length} releases requested`);
    },
  );
  const startedFor = (Date.now() - began) / 60_000;
  const reasons = new Map<string, string>();
  const phases = await settleAll(cluster, [...ids.keys()], Date.now() + SETTLE_TIMEOUT_MS, reasons);
  const failedOver = failover ? await failover : null;
  const cpuSeen = cpu.stop();
  const maxConsumerLag = lag.stop();
  const pgAfter = await pgCounters();
  const elapsedS = (Date.now() - began) / 1000;
  const t = timings(await eventsOf(cluster, new Set(ids.keys())), failedOver);
  const count = (p: string) => [...phases.values()].filter((v) => v === p).length;
  const badIds = [...ids].filter(([, b]) => b.bad).map(([id]) => id);
  const finishedMin = (t.lastVerdict - t.firstRequest) / 60_000;
  const commits = pgAfter.commits - pgBefore.commits;
  return {
    name,
    releases: ids.size,
    refused: refused.length,
    startedPerMin: ids.size / Math.max(startedFor, 1 / 60),
    finishedPerMin: (count('succeeded') + count('rolled-back')) / Math.max(finishedMin, 1 / 60),
    succeeded: count('succeeded'),
    rolledBack: count('rolled-back'),
    stuck: ids.size - count('succeeded') - count('rolled-back') - count('aborted'),
    bad: badIds.length,
    badCaught: badIds.filter((id) => phases.get(id) === 'rolled-back').length,
    badMissed: badIds
      .filter((id) => phases.get(id) !== 'rolled-back')
      .map((id) => `${id} ${phases.get(id) ?? 'unknown'}: ${reasons.get(id) ?? 'no reason'}`),
    goodRolledBack: [...ids]
      .filter(([id, b]) => !b.bad && phases.get(id) === 'rolled-back')
      .map(([id]) => reasons.get(id) ?? 'no reason'),
    timings: t,
    failover: failedOver,
    cpu: cpuSeen,
    maxConsumerLag,
    pgMsPerTransaction: (pgAfter.activeMs - pgBefore.activeMs) / Math.max(1, commits),
    pgTransactionsPerSecond: commits / elapsedS,
    load: loadavg()[0]!,
  };
}

function printTable(results: PhaseResult[], instances: number): void {
  const lagCell = (values: number[]) =>
    values.length === 0
      ? 'none'
      : `${seconds(quantile(values, 0.5))} / ${seconds(quantile(values, 0.99))} (${values.length})`;
  const rows: string[][] = [
    ['', ...results.map((r) => r.name)],
    ['services × instances', ...results.map(() => `${SERVICES} × ${INSTANCES} = ${instances}`)],
    ['releases accepted / refused', ...results.map((r) => `${r.releases} / ${r.refused}`)],
    ['started / min', ...results.map((r) => r.startedPerMin.toFixed(0))],
    ['finished / min', ...results.map((r) => r.finishedPerMin.toFixed(0))],
    [
      'completed / rolled back / stuck',
      ...results.map((r) => `${r.succeeded} / ${r.rolledBack} / ${r.stuck}`),
    ],
    ['bad builds rolled back', ...results.map((r) => `${r.badCaught} of ${r.bad}`)],
    ['good builds rolled back', ...results.map((r) => String(r.goodRolledBack.length))],
    ['steps started twice', ...results.map((r) => String(r.timings.stepsTwice))],
    ...(
      [
        ['request → first step', 'toFirstStep'],
        ['request → verdict', 'toVerdict'],
      ] as const
    ).map(([label, key]) => [
      `${label}, p50 / p99 (s)`,
      ...results.map(
        (r) =>
          `${seconds(quantile(r.timings[key], 0.5))} / ${seconds(quantile(r.timings[key], 0.99))}`,
      ),
    ]),
    ...(['before', 'during', 'after'] as const).map((bucket) => [
      `reconcile lag ${bucket} the failover, p50 / p99 (s) (n)`,
      ...results.map((r) => lagCell(r.timings.reconcileLag[bucket])),
    ]),
    [
      'failover: kill → survivors own every partition (s)',
      ...results.map((r) =>
        r.failover ? seconds(r.failover.takenOverAt - r.failover.killedAt) : '-',
      ),
    ],
    [
      'Kafka consumer lag, max events (any process)',
      ...results.map((r) => String(r.maxConsumerLag)),
    ],
    [
      'PostgreSQL: active ms per transaction (tx/s)',
      ...results.map(
        (r) => `${r.pgMsPerTransaction.toFixed(2)} (${r.pgTransactionsPerSecond.toFixed(0)})`,
      ),
    ],
    ...[...results[0]!.cpu.keys()].map((name) => [
      `CPU ${name} (% of one core)`,
      ...results.map((r) => (r.cpu.get(name) ?? 0).toFixed(0)),
    ]),
    ['machine load average (1 min, at end)', ...results.map((r) => r.load.toFixed(1))],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ');
  console.log(
    `\nbench:scale — production mode (Kafka + PostgreSQL), 3 orchestrator and 2 analysis replicas, ROLLGATE_FLEET=simulated`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, node ${process.version}`,
  );
  console.log(
    `canary steps 25 % and 50 % of ${STEP_SECONDS} s; ${USERS_RPS} simulated user req/s per analysed service; ${(BAD_SHARE * 100).toFixed(0)} % bad builds; arrivals ${ARRIVALS_PER_MIN}/min (Poisson); orchestrator-2 killed halfway through the arrivals, restarted ${RESTART_AFTER_MS / 1000} s later\n`,
  );
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows.slice(1)) console.log(line(row));
  const counted = new Map<string, number>();
  for (const reason of results.flatMap((r) => r.goodRolledBack)) {
    const key = reason.replace(/\d+(\.\d+)?/g, 'N').slice(0, 160);
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }
  for (const [reason, n] of counted) console.log(`good build rolled back ×${n}: ${reason}`);
  for (const r of results.filter((r) => r.timings.slowest.length > 0)) {
    const since = (at: number) =>
      r.failover
        ? `kill ${at < r.failover.killedAt ? '-' : '+'}${seconds(Math.abs(at - r.failover.killedAt))} s, restart at +${seconds(r.failover.restartedAt - r.failover.killedAt)} s`
        : `${seconds(at - r.timings.firstRequest)} s into the phase`;
    const slowest = r.timings.slowest.map(({ at, lag }) => `${seconds(lag)} s (${since(at)})`);
    console.log(`${r.name}: slowest decisions outside the failover: ${slowest.join('; ')}`);
  }
  for (const r of results.filter((r) => r.failover)) {
    const { killedAt, restartedAt, rejoinedAt } = r.failover!;
    const windows = new Map<number, number[]>();
    for (const { at, lag } of r.timings.decisions) {
      const start = Math.floor((at - killedAt) / 10_000) * 10;
      windows.set(start, [...(windows.get(start) ?? []), lag]);
    }
    const cells = [...windows]
      .sort(([a], [b]) => a - b)
      .map(([start, lags]) => `${start >= 0 ? '+' : ''}${start}: ${seconds(quantile(lags, 0.99))}`);
    console.log(
      `${r.name}: reconcile lag p99 (s) per 10 s of verdicts, from the kill (restart at +${seconds(restartedAt - killedAt)} s, healthy at +${seconds(rejoinedAt - killedAt)} s): ${cells.join(', ')}`,
    );
  }
  for (const missed of results.flatMap((r) => r.badMissed))
    console.log(`bad build not rolled back: ${missed}`);
  const released = results[results.length - 1]!;
  const lags = released.timings.reconcileLag;
  const goals: Array<[string, boolean]> = [
    ['0 stuck', results.every((r) => r.stuck === 0)],
    ['0 steps done twice', results.every((r) => r.timings.stepsTwice === 0)],
    ['100% of bad builds rolled back', released.badCaught === released.bad],
    [
      'reconcile lag p99 ≤ 1 s outside the failover',
      quantile([...lags.before, ...lags.after], 0.99) <= 1_000,
    ],
    [
      'failover ≤ 15 s',
      released.failover !== null &&
        released.failover.takenOverAt - released.failover.killedAt <= 15_000,
    ],
  ];
  console.log('');
  for (const [goal, met] of goals) console.log(`goal ${met ? 'met' : 'NOT met'}: ${goal}`);
}

/** BENCH_LOGS=DIR keeps each process's output (`<name>-<n>.log`, n counting restarts). */
function keepLogs(cluster: Cluster): void {
  const dir = process.env['BENCH_LOGS'];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const seen = new Map<string, number>();
  for (const { name, proc } of cluster.started) {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    writeFileSync(join(dir, `${name}-${n}.log`), proc.output(), { mode: 0o600 });
  }
  progress(`process logs in ${dir}`, true);
}

async function main(): Promise<void> {
  const services = Array.from({ length: SERVICES }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
  const stable = services.map(() => ({ digest: newDigest(), version: 'v1', bad: false }));
  let arrival = 0;
  const canaries = Array.from({ length: RELEASES }, (_, i) => {
    // Poisson arrivals: exponential gaps at ARRIVALS_PER_MIN.
    arrival += (-Math.log(1 - Math.random()) * 60_000) / ARRIVALS_PER_MIN;
    const bad = i % Math.round(1 / BAD_SHARE) === Math.round(1 / BAD_SHARE) - 1;
    return {
      service: services[i % SERVICES]!,
      build: { digest: newDigest(), version: `v2-${i}`, bad },
      at: arrival,
    };
  });
  const profiles = join(tempDir('bench-scale-profiles'), 'profiles.json');
  writeFileSync(
    profiles,
    JSON.stringify(
      Object.fromEntries([
        ...stable.map((b) => [b.digest, { errorRate: 0.002, latencyMs: 10 }]),
        ...canaries.map(({ build }) => [
          build.digest,
          { errorRate: build.bad ? 0.3 : 0.002, latencyMs: 10 },
        ]),
      ]),
    ),
  );
  progress(`starting Kafka-mode services and replicas`, true);
  const cluster = await boot(profiles);
  try {
    const deployed = await phase(
      cluster,
      'first deploy',
      services.map((service, i) => ({ service, build: stable[i]!, at: 0 })),
      {},
      true,
      null,
    );
    const fleet = await Promise.all(
      ORCHESTRATORS.map((n) => api(`${urlOf(cluster, n)}/fleet/instances`, 'GET', cluster.token)),
    );
    const instances = fleet.reduce(
      (sum, f) => sum + ((f.body['instances'] as unknown[] | undefined)?.length ?? 0),
      0,
    );
    const released = await phase(
      cluster,
      'canary releases',
      canaries,
      { canarySteps: [25, 50], stepSeconds: STEP_SECONDS },
      false,
      arrival / 2,
    );
    printTable([deployed, released], instances);
  } finally {
    await Promise.all([...cluster.procs.values()].map((p) => stop(p)));
    keepLogs(cluster);
    await dropServiceSchemas(cluster.prefix);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
