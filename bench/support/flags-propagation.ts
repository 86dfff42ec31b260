import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Propagation latency: from the start of the API call that kills (or re-enables) a flag to the
 * moment an SDK in another process serves the new value. The watcher process stamps the instant
 * its ruleset swapped with the wall clock (performance.timeOrigin + now()); both processes are
 * on this machine, so the clocks agree.
 */

export const ROOT = resolve(__dirname, '../..');
export const PROBE_FLAG = 'propagation-probe';
const CHANGES = Number(process.env['PROPAGATION_CHANGES'] ?? 60);

export interface PropagationTarget {
  readonly name: string;
  readonly note: string;
  /** Starts the service with the probe flag on in production; where SDKs should connect. */
  start(): Promise<{ sdkUrl: string; project: string; token?: string }>;
  /** The API call being timed. */
  setEnabled(enabled: boolean): Promise<void>;
  stop(): Promise<void>;
}

export interface PropagationResult {
  readonly target: string;
  readonly note: string;
  readonly latenciesMs: number[];
  /** How long the API call itself took (its response), for the same changes. */
  readonly apiMs: number[];
}

export const now = () => performance.timeOrigin + performance.now();

export interface WatcherLine {
  readonly type: 'ready' | 'changed' | 'stale' | 'error';
  readonly version: number | null;
  readonly enabled: boolean;
  readonly at: number;
  readonly message?: string;
}

/** A node process of this workspace, with its stdout split into lines. */
export function spawnScript(entry: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    pending += chunk.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
    for (const waiter of [...waiters]) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    lines,
    output: () => output,
    /** Waits for a line (from index `from` on) that satisfies `match`. */
    waitForLine(match: (line: string) => boolean, timeoutMs: number, from = 0): Promise<string> {
      return new Promise((resolveLine, reject) => {
        const check = () => {
          const found = lines.slice(from).find(match);
          if (found === undefined) return;
          cleanup();
          resolveLine(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms; output:\n${output.slice(-2000)}`));
        }, timeoutMs);
        const exit = () => {
          cleanup();
          reject(new Error(`${entry} exited; output:\n${output.slice(-2000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', exit);
        };
        waiters.add(check);
        child.on('exit', exit);
        check();
      });
    },
  };
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the watcher (an SDK in another process) and waits until it serves the probe flag. */
export async function startWatcher(sdkUrl: string, project: string, token?: string) {
  const watcher = spawnScript(
    'bench/support/flags-watcher.ts',
    [sdkUrl, PROBE_FLAG, project, 'production'],
    token ? { ROLLGATE_FLAGS_TOKEN: token } : {},
  );
  await watcher.waitForLine((line) => line.includes('"type":"ready"'), 60_000);
  return {
    ...watcher,
    parsed: (from: number) =>
      watcher.lines.slice(from).flatMap((line) => {
        try {
          return [JSON.parse(line) as WatcherLine];
        } catch {
          return [];
        }
      }),
  };
}

/** Kills and re-enables the probe flag CHANGES times; one latency per change. */
export async function measurePropagation(target: PropagationTarget): Promise<PropagationResult> {
  const { sdkUrl, project, token } = await target.start();
  const watcher = await startWatcher(sdkUrl, project, token);
  try {
    const latenciesMs: number[] = [];
    const apiMs: number[] = [];
    let enabled = true;
    for (let change = 0; change < CHANGES; change++) {
      enabled = !enabled;
      const from = watcher.lines.length;
      const started = now();
      await target.setEnabled(enabled);
      apiMs.push(now() - started);
      const line = await watcher.waitForLine(
        (text) => {
          try {
            const parsed = JSON.parse(text) as WatcherLine;
            return parsed.type === 'changed' && parsed.enabled === enabled;
          } catch {
            return false;
          }
        },
        10_000,
        from,
      );
      latenciesMs.push((JSON.parse(line) as WatcherLine).at - started);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { target: target.name, note: target.note, latenciesMs, apiMs };
  } finally {
    await stopProcess(watcher.child);
    await target.stop();
  }
}

/** A stand-in HTTP + SSE server in another process (bench/support/flags-stand-in.ts). */
export function standInTarget(sdkPort = 23801, controlPort = 23802): PropagationTarget {
  let server: ReturnType<typeof spawnScript> | undefined;
  return {
    name: 'stand-in HTTP+SSE server',
    note: 'NOT the flags service: a stand-in in another process (SDK side only)',
    async start() {
      server = spawnScript('bench/support/flags-stand-in.ts', [
        String(sdkPort),
        String(controlPort),
        PROBE_FLAG,
      ]);
      await server.waitForLine((line) => line.startsWith('ready'), 30_000);
      return { sdkUrl: `http://127.0.0.1:${sdkPort}`, project: 'default' };
    },
    async setEnabled(enabled) {
      const action = enabled ? 'enable' : 'kill';
      const response = await fetch(
        `http://127.0.0.1:${controlPort}/flags/${PROBE_FLAG}/${action}`,
        {
          method: 'POST',
        },
      );
      if (response.status !== 200) throw new Error(`stand-in answered ${response.status}`);
    },
    async stop() {
      if (server) await stopProcess(server.child);
    },
  };
}

// ---- the real flags service ------------------------------------------------------------------

/** A service process of this workspace, its flags URL and a token with the flags and read scopes. */
interface RunningService {
  readonly url: string;
  readonly token: string;
  readonly procs: ReturnType<typeof spawnScript>[];
  readonly cleanup: () => Promise<void>;
}

async function call(url: string, method: string, token: string, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status >= 300)
    throw new Error(`${method} ${url} answered ${response.status}: ${text}`);
  return text;
}

async function isUp(url: string): Promise<boolean> {
  return fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })
    .then((response) => response.status === 200)
    .catch(() => false);
}

/** Starts a service process and waits for its health check; kills it if it never gets there. */
async function startHealthy(entry: string, env: Record<string, string>) {
  const url = env['ROLLGATE_FLAGS_URL']!;
  if (await isUp(url)) throw new Error(`${url} is already taken by another process`);
  const proc = spawnScript(entry, [], env);
  try {
    await waitHealthy(url, proc);
  } catch (error) {
    await stopProcess(proc.child);
    throw error;
  }
  return proc;
}

async function waitHealthy(url: string, proc: ReturnType<typeof spawnScript>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(`the service exited:\n${proc.output().slice(-3000)}`);
    if (await isUp(url)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become healthy:\n${proc.output().slice(-3000)}`);
}

/** Environment for every service at ports base+1..base+5, as the e2e tests do. */
function portsEnv(base: number): Record<string, string> {
  const env: Record<string, string> = {};
  ['orchestrator', 'router', 'analysis', 'flags', 'migrations'].forEach((service, i) => {
    env[`ROLLGATE_${service.toUpperCase()}_PORT`] = String(base + i + 1);
    env[`ROLLGATE_${service.toUpperCase()}_URL`] = `http://127.0.0.1:${base + i + 1}`;
  });
  return env;
}

/**
 * A target on the real flags service: `sdkUrl` is where the SDK connects and `apiUrl` where the
 * kill is sent; they differ when two replicas share Kafka (the change crosses the broker).
 */
function serviceTarget(
  name: string,
  note: string,
  launch: () => Promise<RunningService & { sdkUrl?: string }>,
): PropagationTarget {
  let running: (RunningService & { sdkUrl?: string }) | undefined;
  const project = `bench-${Date.now().toString(36)}`;
  return {
    name,
    note,
    async start() {
      running = await launch();
      const { url, token } = running;
      try {
        await call(`${url}/flags/projects`, 'POST', token, { name: project, reason: 'bench' });
        await call(`${url}/flags`, 'POST', token, {
          key: PROBE_FLAG,
          project,
          type: 'kill-switch',
          owner: 'bench',
          reason: 'propagation bench',
        });
        await this.setEnabled(true);
      } catch (error) {
        await this.stop();
        throw error;
      }
      return { sdkUrl: running.sdkUrl ?? url, project, token };
    },
    async setEnabled(enabled) {
      const { url, token } = running!;
      const query = `?project=${encodeURIComponent(project)}`;
      if (enabled) {
        await call(`${url}/flags/${PROBE_FLAG}/environments/production${query}`, 'PUT', token, {
          enabled: true,
          defaultServe: true,
          reason: 'propagation bench: back on',
          // The bench measures propagation, not the enablement guard (which needs a fleet).
          force: true,
        });
      } else {
        await call(`${url}/flags/${PROBE_FLAG}/kill${query}`, 'POST', token, {
          environment: 'production',
          reason: 'propagation bench: kill',
        });
      }
    },
    async stop() {
      if (!running) return;
      for (const proc of running.procs) await stopProcess(proc.child);
      await running.cleanup();
    },
  };
}

async function tokensFor(dir: string) {
  // Imported lazily: the stand-in target needs no platform code.
  const { issueToken } = await import('@rollgate/platform');
  const tokensFile = join(dir, 'tokens.json');
  const token = issueToken(tokensFile, { subject: 'bench', scopes: ['flags', 'read'] });
  return { tokensFile, token };
}

/** `npm start`'s host: five services in one process, SQLite and the embedded event log. */
export function embeddedTarget(base = 23810): PropagationTarget {
  return serviceTarget(
    'flags service, embedded default',
    'apps/embedded, SQLite + embedded log',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rollgate-bench-flags-'));
      const { tokensFile, token } = await tokensFor(dir);
      const env: Record<string, string> = {
        ...portsEnv(base),
        ROLLGATE_DATA_DIR: join(dir, 'data'),
        ROLLGATE_TOKENS_FILE: tokensFile,
        ROLLGATE_RECONCILER: 'off',
      };
      const host = await startHealthy('apps/embedded/src/main.ts', env);
      const url = env['ROLLGATE_FLAGS_URL']!;
      return {
        url,
        token,
        procs: [host],
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  );
}

/**
 * Production mode: the flags service as its own processes on Kafka and PostgreSQL. Two replicas:
 * the kill goes to one, the SDK follows the other, so the change reaches it through Kafka.
 */
export function kafkaTarget(base = 23820): PropagationTarget {
  return serviceTarget(
    'flags service, Kafka + PostgreSQL',
    'two replicas: API call on one, SDK on the other (via Kafka)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rollgate-bench-flags-kafka-'));
      const { tokensFile, token } = await tokensFor(dir);
      const prefix = `benchflags${Date.now().toString(36)}_`;
      const common = {
        ROLLGATE_MODE: 'production',
        ROLLGATE_SCHEMA_PREFIX: prefix,
        ROLLGATE_TOKENS_FILE: tokensFile,
        ROLLGATE_DATA_DIR: join(dir, 'data'),
        ROLLGATE_RECONCILER: 'off',
      };
      const first: Record<string, string> = { ...portsEnv(base), ...common };
      const second: Record<string, string> = { ...portsEnv(base + 10), ...common };
      const api = await startHealthy('apps/flags/src/main.ts', first);
      const replica = await startHealthy('apps/flags/src/main.ts', second).catch(async (error) => {
        await stopProcess(api.child);
        throw error;
      });
      return {
        url: first['ROLLGATE_FLAGS_URL']!,
        sdkUrl: second['ROLLGATE_FLAGS_URL']!,
        token,
        procs: [replica, api],
        cleanup: async () => {
          rmSync(dir, { recursive: true, force: true });
          await dropSchema(`${prefix}flags`);
        },
      };
    },
  );
}

async function dropSchema(schema: string) {
  const { Client } = await import('pg');
  const client = new Client({
    connectionString:
      process.env['ROLLGATE_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Which targets to measure: BENCH_FLAGS_TARGETS=embedded,kafka,stand-in. By default the real
 * service on both modes, or the stand-in when the service is not in this tree.
 */
export async function propagationTargets(): Promise<PropagationTarget[]> {
  const serviceExists = existsSync(join(ROOT, 'apps/flags/src/flags/flags.controller.ts'));
  const fallback = serviceExists ? 'embedded,kafka' : 'stand-in';
  const wanted = (process.env['BENCH_FLAGS_TARGETS'] ?? fallback).split(',').map((s) => s.trim());
  const targets: PropagationTarget[] = [];
  if (wanted.includes('embedded')) targets.push(embeddedTarget());
  if (wanted.includes('kafka')) targets.push(kafkaTarget());
  if (wanted.includes('stand-in')) targets.push(standInTarget());
  return targets;
}
