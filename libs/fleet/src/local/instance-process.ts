import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FleetInstance, InstanceSpec, ObservedInstance, ReportedApi } from '../fleet-driver';

/** How a build behaves in the local fleet (the sample service's knobs), by digest. */
export interface BuildProfile {
  errorRate?: number;
  latencyMs?: number;
  latencySpread?: number;
  /** Probability that a successful request completes a checkout (`checkout_completed_total`). */
  checkoutRate?: number;
  /** Metric names the instances expose: `sample` (default), `micrometer` or `both`. */
  metricsNaming?: 'sample' | 'micrometer' | 'both';
  /** Drill: instances asked to run this build really run another (a deploy that silently failed). */
  actuallyRuns?: { version: string; digest: string };
  /** Drill: the build exits before it listens, so it never becomes healthy. */
  crashesOnStart?: boolean;
}

export interface InstanceLaunch {
  /** Workspace root (where bin/run.js is). */
  root: string;
  id: string;
  spec: InstanceSpec;
  /** What really runs (a drill may substitute another build). */
  runs: { version: string; digest: string };
  profile: BuildProfile;
  /** Port to listen on; 0: any free one. */
  port?: number;
  /** Interface to listen on (default 127.0.0.1; an agent reached from other hosts: 0.0.0.0). */
  listenHost?: string;
  startTimeoutMs?: number;
  /**
   * How the instance is tied to the process that starts it. `lifeline` (local fleet): a pipe on
   * stdin, so the instance exits with its parent. `detached` (agents): own process group, output
   * to `logFile`, stdin from `stdinFile` (a FIFO held open), so it outlives an agent restart.
   */
  tie: { kind: 'lifeline' } | { kind: 'detached'; logFile: string; stdinFile: string };
}

export interface LaunchedInstance {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/** Starts one sample-service process of a build and resolves with its port once it listens. */
export async function launchInstance(launch: InstanceLaunch): Promise<LaunchedInstance> {
  const root = resolve(launch.root);
  const env = instanceEnv(launch);
  const args = [join(root, 'bin/run.js'), 'apps/sample-service/src/main.ts'];
  const { tie } = launch;
  let child: ChildProcess;
  if (tie.kind === 'lifeline') {
    // stdin stays open as a lifeline: the instance exits when this process goes away.
    child = spawn(process.execPath, args, { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  } else {
    const log = openSync(tie.logFile, 'a');
    // O_RDWR on a FIFO never blocks and never reads end-of-file: no lifeline to the agent.
    const stdin = openSync(tie.stdinFile, 'r+');
    try {
      child = spawn(process.execPath, args, {
        cwd: root,
        env,
        detached: true,
        stdio: [stdin, log, log],
      });
    } finally {
      closeSync(log);
      closeSync(stdin);
    }
    child.unref();
  }
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const port = await awaitListening(child, exited, launch);
  return { child, port, exited };
}

function awaitListening(
  child: ChildProcess,
  exited: Promise<number | null>,
  launch: InstanceLaunch,
): Promise<number> {
  const { id, tie } = launch;
  const timeoutMs = launch.startTimeoutMs ?? 15_000;
  return new Promise<number>((done, fail) => {
    let output = '';
    let settled = false;
    const read = (): string =>
      tie.kind === 'detached' ? readFileSync(tie.logFile, 'utf8') : output;
    const check = () => {
      const match = /"listening":(\d+)/.exec(read());
      if (!match || settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      done(Number(match[1]));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      child.kill('SIGKILL');
      fail(new Error(`instance ${id} did not start within ${timeoutMs} ms: ${read().slice(-500)}`));
    }, timeoutMs);
    const poll = setInterval(() => tie.kind === 'detached' && check(), 100);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      check();
    });
    void exited.then(() => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      fail(new Error(`instance ${id} exited during start: ${read().slice(-500)}`));
    });
  });
}

function instanceEnv({
  id,
  spec,
  runs,
  profile,
  port,
  listenHost,
}: InstanceLaunch): Record<string, string> {
  return {
    ...pickEnv(process.env),
    PORT: String(port ?? 0),
    SAMPLE_HOST: listenHost ?? '127.0.0.1',
    SAMPLE_INSTANCE_ID: id,
    SAMPLE_SERVICE: spec.service,
    SAMPLE_VERSION: runs.version,
    SAMPLE_GROUP: spec.group,
    SAMPLE_DIGEST: runs.digest,
    SAMPLE_FLAGS: (spec.flags ?? []).join(','),
    SAMPLE_API_PROVIDES: spec.api?.provides ?? '',
    SAMPLE_API_CONSUMES: spec.api?.consumes ?? '',
    ...(profile.errorRate !== undefined ? { SAMPLE_ERROR_RATE: String(profile.errorRate) } : {}),
    ...(profile.latencyMs !== undefined ? { SAMPLE_LATENCY_MS: String(profile.latencyMs) } : {}),
    ...(profile.crashesOnStart ? { SAMPLE_CRASH_ON_START: '1' } : {}),
    ...(profile.checkoutRate !== undefined
      ? { SAMPLE_CHECKOUT_RATE: String(profile.checkoutRate) }
      : {}),
    ...(profile.metricsNaming ? { SAMPLE_METRICS_NAMING: profile.metricsNaming } : {}),
    ...(profile.latencySpread !== undefined
      ? { SAMPLE_LATENCY_SPREAD: String(profile.latencySpread) }
      : {}),
  };
}

/** Children inherit PATH and the like, never Rollgate's own settings or tokens. */
function pickEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith('ROLLGATE_') && !key.startsWith('SAMPLE_'))
      kept[key] = value;
  }
  return kept;
}

/** What an instance says at GET /info. */
export interface InstanceInfo {
  instanceId?: string;
  version: string;
  digest: string;
  flags: string[];
  api?: Partial<ReportedApi>;
}

/** GET /info of an instance; null when it does not answer (in time, or at all). */
export async function instanceInfo(
  host: string,
  port: number,
  timeoutMs = 1_000,
): Promise<{ ok: boolean; info: InstanceInfo } | null> {
  try {
    const response = await fetch(`http://${host}:${port}/info`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { ok: response.ok, info: (await response.json()) as InstanceInfo };
  } catch {
    return null;
  }
}

/** Asks an instance what it runs: every driver's `observe` of a process that answers /info. */
export async function observeInstance(instance: FleetInstance): Promise<ObservedInstance> {
  const view = publicView(instance);
  const answer = await instanceInfo(instance.host, instance.port);
  if (!answer) return { ...view, reported: null, healthy: false };
  const { info } = answer;
  return {
    ...view,
    reported: {
      version: info.version,
      digest: info.digest,
      flags: info.flags,
      // A build from before the API gate says nothing: it declares no API.
      api: { provides: info.api?.provides ?? null, consumes: info.api?.consumes ?? null },
    },
    healthy: answer.ok,
  };
}

export function publicView(instance: FleetInstance): FleetInstance {
  const { id, service, group, intended, host, port } = instance;
  return { id, service, group, intended, host, port };
}
