import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';

export const ROOT = resolve(__dirname, '../../..');
export const DATABASE_URL =
  process.env['ROLLGATE_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SERVICES = ['orchestrator', 'router', 'analysis', 'flags', 'migrations'] as const;

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `rollgate-e2e-${name}-`));

/**
 * Environment that points every service and the CLI at ports base+1..base+5 (the console of an
 * embedded host at base+6).
 *
 * npm test runs two e2e files at a time (scripts/test.sh: a Kafka lane and an embedded lane), so
 * every file keeps to ports of its own; instances, proxies and Prometheus take free ones. Taken:
 * 17000 embedded, 17700-17719 demo, 18000 production, 18100-18180 production-releases, 19000
 * canary, 19100 strategies, 19200 crash, 19300-19393 production-demo, 19600 api-security, 19700
 * crash-during-analysis, 19800-19900 read-your-writes, 21000 audit, 22300 flags-guard, 23900
 * flags-propagation, 24100 api-compat, 24500 packages, 25000-25200 analysis-outage, 25300-25400
 * webhooks, 26100 canary-config, 26400 and 26600-26650 custom-metrics, 26500-26599 scale-out,
 * 27100 low-traffic.
 */
type ServiceUrls = { ROLLGATE_ORCHESTRATOR_URL: string; ROLLGATE_ROUTER_URL: string };

export function portsEnv(base: number): Record<string, string> & ServiceUrls {
  const env: Record<string, string> = {};
  SERVICES.forEach((service, i) => {
    env[`ROLLGATE_${service.toUpperCase()}_PORT`] = String(base + i + 1);
    env[`ROLLGATE_${service.toUpperCase()}_URL`] = `http://127.0.0.1:${base + i + 1}`;
  });
  // An embedded host also serves the web console: two hosts of two lanes must not both take 7006.
  env['ROLLGATE_CONSOLE_PORT'] = String(base + 6);
  return env as Record<string, string> & ServiceUrls;
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a real child process of this workspace (a TypeScript entry point run through bin/run.js). */
export function start(entry: string, env: Record<string, string>, args: string[] = []): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) =>
    child.on('exit', (code) => resolveExit(code)),
  );
  return { child, output: () => output, exited };
}

/** Runs the rollgate CLI to completion. */
export async function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const proc = start('apps/cli/src/main.ts', env, args);
  const code = await proc.exited;
  return { code, output: proc.output() };
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The embedded host (all five services in one process), once it says it is running. */
export async function startEmbeddedHost(env: Record<string, string>): Promise<Proc> {
  const host = start('apps/embedded/src/main.ts', env);
  await waitFor(() => host.output().includes('Rollgate is running'), `start:\n${host.output()}`);
  return host;
}

/** Production mode: one process per service, resolved once every one answers /health. */
export async function startServiceProcesses(
  env: Record<string, string>,
  overrides: Partial<Record<(typeof SERVICES)[number], Record<string, string>>> = {},
): Promise<Map<string, Proc>> {
  const procs = new Map(
    SERVICES.map((s) => [s, start(`apps/${s}/src/main.ts`, { ...env, ...overrides[s] })] as const),
  );
  const urls = SERVICES.map((s) => env[`ROLLGATE_${s.toUpperCase()}_URL`]!);
  await waitFor(
    async () => (await Promise.all(urls.map(healthy))).every(Boolean),
    'five healthy services',
    90_000,
  ).catch(async (error: Error) => {
    const output = [...procs].map(([name, p]) => `--- ${name}\n${p.output().slice(-1500)}`);
    // Nobody else holds these processes: stop them rather than leave them running.
    await Promise.all([...procs.values()].map((p) => stop(p)));
    throw new Error(`${error.message}\n${output.join('\n')}`);
  });
  return procs;
}

/** Drops the PostgreSQL schemas of the five services under a schema prefix. */
export async function dropServiceSchemas(prefix: string): Promise<void> {
  const db = new DataSource({ type: 'postgres', url: DATABASE_URL });
  await db.initialize();
  try {
    for (const s of SERVICES) await db.query(`DROP SCHEMA IF EXISTS "${prefix}${s}" CASCADE`);
  } finally {
    await db.destroy();
  }
}

interface HealthBody {
  status?: string;
  details?: { 'event-log'?: { lag?: Record<string, { events: number }> } };
}

/**
 * Up and caught up: /health is 200 "ok" and no consumer is behind. A service on a fresh schema
 * first replays what the shared test broker already holds; a drill starts after that, as it
 * would on a broker of its own.
 */
export async function healthy(url: string): Promise<boolean> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
  const body = (await response.json().catch(() => ({}))) as HealthBody;
  const lag = Object.values(body.details?.['event-log']?.lag ?? {});
  return response.status === 200 && body.status === 'ok' && lag.every((l) => l.events === 0);
}

export async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
  proc.child.kill(signal);
  return proc.exited;
}

export async function api(
  url: string,
  method: 'GET' | 'POST',
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export const digest = (c: string) => `sha256:${c.repeat(64)}`;

export interface Served {
  /** When the answer came (epoch ms). */
  at: number;
  version: string;
  status: number;
}

/** Users hitting the service through the data plane, about `perSecond` requests a second. */
export function traffic(port: number, perSecond: number) {
  const served: Served[] = [];
  let running = true;
  const loop = async (worker: number) => {
    let n = 0;
    while (running) {
      const started = Date.now();
      try {
        const response = await fetch(`http://127.0.0.1:${port}/work`, {
          headers: { 'x-user-id': `user-${worker}-${n++ % 50}` },
          signal: AbortSignal.timeout(2_000),
        });
        const body = (await response.json()) as { version?: string };
        served.push({ at: Date.now(), version: body.version ?? 'proxy', status: response.status });
      } catch {
        served.push({ at: Date.now(), version: 'unreachable', status: 0 });
      }
      await new Promise((r) =>
        setTimeout(r, Math.max(0, (10 * 1000) / perSecond - (Date.now() - started))),
      );
    }
  };
  const workers = Array.from({ length: 10 }, (_, i) => loop(i));
  return {
    served,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** GET /releases/:id of an orchestrator. */
export async function releaseView(
  orchestrator: string,
  id: string,
): Promise<Record<string, unknown>> {
  return (await api(`${orchestrator}/releases/${id}`, 'GET', undefined)).body;
}

/** Waits until a release view satisfies `done`; the last view is in the error when it does not. */
export async function waitForRelease(
  orchestrator: string,
  id: string,
  done: (view: Record<string, unknown>) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await waitFor(
    async () => done((last = await releaseView(orchestrator, id))),
    what,
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });
  return last;
}

/** Waits until a release is in one of `phases`. */
export function waitForPhase(
  orchestrator: string,
  id: string,
  phases: string[],
  timeoutMs = 60_000,
) {
  return waitForRelease(
    orchestrator,
    id,
    (view) => phases.includes(String(view['phase'])),
    `release ${id} to be ${phases.join(' or ')}`,
    timeoutMs,
  );
}

export interface TimelineEntry {
  type: string;
  reason: string | null;
  details: Record<string, unknown>;
}

/** Every event of a release as the log tells it (GET /releases/:id/timeline). */
export async function releaseTimeline(
  orchestrator: string,
  token: string,
  id: string,
): Promise<TimelineEntry[]> {
  const answer = await api(`${orchestrator}/releases/${id}/timeline`, 'GET', token);
  if (answer.status !== 200) throw new Error(`timeline of ${id}: ${answer.status}`);
  return answer.body['timeline'] as TimelineEntry[];
}

/**
 * An orchestrator fleet view with no live instance, for the services that ask one (the migrations
 * contract gate, the flags enablement guard) in tests where no fleet runs.
 */
export async function emptyFleet(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ instances: [] })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Prometheus HTTP service discovery for the local fleet: every instance the router routes to, in
 * one target group per role, labelled `group` (as kubernetes_sd would label pods). A target label
 * wins over the instance's own `group` label, so an instance promoted from canary to stable
 * counts as stable from the next refresh on.
 */
export function fleetDiscovery(router: string, services: string[], port: number): Promise<Server> {
  const groupsOf = async (service: string) => {
    const response = await fetch(`${router}/routes/${service}`);
    if (!response.ok) return [];
    const { backends } = (await response.json()) as {
      backends?: Record<string, { port: number }[]>;
    };
    return Object.entries(backends ?? {})
      .filter(([, instances]) => instances.length > 0)
      .map(([group, instances]) => ({
        targets: instances.map((b) => `127.0.0.1:${b.port}`),
        labels: { group },
      }));
  };
  const server = createServer((_req, res) => {
    void Promise.all(services.map(groupsOf))
      .then((lists) => lists.flat())
      .catch(() => [])
      .then((groups) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(groups));
      });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
