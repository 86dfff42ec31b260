import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HaproxyRuntimeApi } from './runtime-api';

const OUTPUT_TAIL_CHARS = 4000;

/** `HAPROXY_BIN`, else the first `haproxy` on PATH or in the sbin directories apt installs into. */
export function resolveHaproxyBinary(): string {
  if (process.env.HAPROXY_BIN) return process.env.HAPROXY_BIN;
  const directories = [
    ...(process.env.PATH ?? '').split(path.delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
  ];
  for (const directory of directories.filter(Boolean)) {
    const candidate = path.join(directory, 'haproxy');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  throw new Error('haproxy is not installed; run infra/haproxy/ensure.sh (or set HAPROXY_BIN)');
}

/**
 * A free TCP port on `host`, found by binding port 0 and releasing it. HAProxy cannot bind port 0
 * itself; another process could take the port in between, in which case HAProxy fails to start
 * and says so.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface HaproxyProcessOptions {
  binary: string;
  configPath: string;
  runtimeApi: HaproxyRuntimeApi;
  startTimeoutMs: number;
}

/** A foreground `haproxy` child process, started and stopped by this adapter. */
export class HaproxyProcess {
  private output = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  // If this Node process ends without close(), do not leave an orphan haproxy bound to ports.
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(private readonly child: ChildProcess) {
    process.once('exit', this.killOnExit);
    const keepTail = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        process.off('exit', this.killOnExit);
        this.exit = { code, signal };
        resolve();
      });
      child.on('error', (error) => {
        this.output += `\n${error.message}`;
        this.exit = { code: null, signal: null };
        resolve();
      });
    });
  }

  /** Spawns haproxy (`-db`: stay in the foreground) and waits until its Runtime API answers. */
  static async start(options: HaproxyProcessOptions): Promise<HaproxyProcess> {
    const child = spawn(options.binary, ['-db', '-f', options.configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const haproxy = new HaproxyProcess(child);
    await haproxy.waitUntilReady(options.runtimeApi, options.startTimeoutMs);
    return haproxy;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Why the process is not running, with the end of its output. */
  describeExit(): string {
    const how = this.exit?.signal ? `signal ${this.exit.signal}` : `code ${this.exit?.code}`;
    return `haproxy exited (${how}): ${this.output.trim().slice(-800) || 'no output'}`;
  }

  /** Soft stop (in-flight requests finish, bounded by `hard-stop-after`), then SIGKILL if needed. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGUSR1');
    if (!(await settlesWithin(this.exited, timeoutMs))) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  private async waitUntilReady(api: HaproxyRuntimeApi, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(this.describeExit());
      const ready = await api.send('show info').then(
        (answer) => answer.includes('Pid:'),
        () => false,
      );
      if (ready) return;
      await delay(25);
    }
    await this.stop();
    throw new Error(
      `haproxy did not open its runtime API within ${timeoutMs} ms: ${this.output.trim()}`,
    );
  }
}

/** True when `work` settles within `ms`; clears its timer either way. */
function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void work.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
