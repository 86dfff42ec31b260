import { spawn, type ChildProcess } from 'node:child_process';
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
    let enabled = true;
    for (let change = 0; change < CHANGES; change++) {
      enabled = !enabled;
      const from = watcher.lines.length;
      const started = now();
      await target.setEnabled(enabled);
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
    return { target: target.name, note: target.note, latenciesMs };
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

/** Which targets to measure: BENCH_FLAGS_TARGETS=stand-in,embedded,kafka (default: all that exist). */
export async function propagationTargets(): Promise<PropagationTarget[]> {
  const wanted = (process.env['BENCH_FLAGS_TARGETS'] ?? 'stand-in').split(',').map((s) => s.trim());
  const targets: PropagationTarget[] = [];
  if (wanted.includes('stand-in')) targets.push(standInTarget());
  return targets;
}
