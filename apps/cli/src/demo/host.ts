import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Workspace root: the demo runs the embedded host (apps/embedded) from here. */
const ROOT = resolve(__dirname, '../../../..');
/** How long the host may take to stop before it is killed (its instances die with it). */
const STOP_GRACE_MS = 15_000;
/** What is kept of the host's output for an error message. */
const KEPT_OUTPUT = 4_000;

export interface RunningHost {
  /** Resolves once the host says it is running; rejects when it exits before that. */
  ready: Promise<void>;
  /** Resolves with the exit code when the host process ends, for whatever reason. */
  exited: Promise<number | null>;
  /** The host's last lines of output, for an error message. */
  recentOutput(): string;
  /** SIGTERM, then waits (SIGKILL after a grace period): the host stops its services and its fleet's instances. */
  stop(): Promise<void>;
}

/** The host stopped before it said it was running, or while the demo ran. */
export class HostExitedError extends Error {
  override readonly name = 'HostExitedError';
}

/**
 * Starts `npm start`'s host (all five services in one process) as a child process with the
 * caller's configuration plus `env`. `forward` receives its output (its banner, its warnings) as
 * it comes.
 */
export function startHost(
  env: Record<string, string>,
  forward: ((text: string) => void) | undefined,
): RunningHost {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), 'apps/embedded/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let running: () => void = () => undefined;
  const started = new Promise<void>((done) => (running = done));
  const take = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-KEPT_OUTPUT);
    forward?.(text);
    if (output.includes('Rollgate is running')) running();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const ready = Promise.race([
    started,
    exited.then((code) => {
      throw new HostExitedError(
        `the Rollgate host exited (code ${String(code)}) before it was running:\n${output.trim()}`,
      );
    }),
  ]);
  // Whoever awaits `ready` sees the failure; an unawaited one must not crash the process.
  ready.catch(() => undefined);
  return {
    ready,
    exited,
    recentOutput: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A host still waiting for its broker may not get to stop cleanly: it is not left behind.
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
