import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type {
  FleetDriver,
  FleetInstance,
  InstanceSpec,
  ObservedInstance,
  ReportedApi,
} from '../fleet-driver';

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

export interface LocalFleetOptions {
  /** Workspace root (where bin/run.js is). */
  root: string;
  /** Behaviour per digest; unknown digests run healthy. */
  profiles?: ReadonlyMap<string, BuildProfile>;
  /** How long an instance may take to answer its health check. */
  startTimeoutMs?: number;
  /**
   * Fault injection for drills: the digest an instance really runs, given what was asked.
   * Models the Knight Capital case of a deploy that silently skipped a server.
   */
  substitute?: (
    spec: InstanceSpec,
    ordinal: number,
  ) => { version: string; digest: string } | undefined;
}

interface Running extends FleetInstance {
  child: ChildProcess;
  exited: Promise<void>;
}

/** The embedded default's fleet: each instance a real child process on its own port. */
export class LocalFleetDriver implements FleetDriver {
  readonly kind = 'local';
  private readonly instances = new Map<string, Running>();
  private started = 0;

  constructor(private readonly options: LocalFleetOptions) {}

  async start(spec: InstanceSpec): Promise<FleetInstance> {
    const id = `${spec.service}-${spec.group}-${randomUUID().slice(0, 8)}`;
    const runs = this.options.substitute?.(spec, ++this.started) ??
      this.options.profiles?.get(spec.digest)?.actuallyRuns ?? {
        version: spec.version,
        digest: spec.digest,
      };
    const profile = this.options.profiles?.get(runs.digest) ?? {};
    const env: Record<string, string> = {
      ...pickEnv(process.env),
      PORT: '0',
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
    const root = resolve(this.options.root);
    const child = spawn(
      process.execPath,
      [join(root, 'bin/run.js'), 'apps/sample-service/src/main.ts'],
      {
        cwd: root,
        env,
        // stdin stays open as a lifeline: the instance exits when this process goes away.
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const port = await this.awaitListening(child, exited, id);
    const instance: Running = {
      id,
      service: spec.service,
      group: spec.group,
      intended: { version: spec.version, digest: spec.digest },
      host: '127.0.0.1',
      port,
      child,
      exited,
    };
    this.instances.set(id, instance);
    exited.then(() => this.instances.delete(id)).catch(() => undefined);
    return publicView(instance);
  }

  private awaitListening(child: ChildProcess, exited: Promise<void>, id: string): Promise<number> {
    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    return new Promise<number>((done, fail) => {
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(
          new Error(`instance ${id} did not start within ${timeoutMs} ms: ${output.slice(-500)}`),
        );
      }, timeoutMs);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /"listening":(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          done(Number(match[1]));
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        fail(new Error(`instance ${id} exited during start: ${output.slice(-500)}`));
      });
    });
  }

  async stop(instanceId: string): Promise<void> {
    const instance = this.instances.get(instanceId);
    if (!instance) return;
    instance.child.kill('SIGTERM');
    const forced = setTimeout(() => instance.child.kill('SIGKILL'), 3_000);
    await instance.exited;
    clearTimeout(forced);
  }

  async observe(service?: string): Promise<ObservedInstance[]> {
    const selected = [...this.instances.values()].filter((i) => !service || i.service === service);
    return Promise.all(selected.map((instance) => this.ask(instance)));
  }

  private async ask(instance: Running): Promise<ObservedInstance> {
    try {
      const response = await fetch(`http://${instance.host}:${instance.port}/info`, {
        signal: AbortSignal.timeout(1_000),
      });
      const info = (await response.json()) as {
        version: string;
        digest: string;
        flags: string[];
        api?: Partial<ReportedApi>;
      };
      return {
        ...publicView(instance),
        reported: {
          version: info.version,
          digest: info.digest,
          flags: info.flags,
          // A build from before the API gate says nothing: it declares no API.
          api: { provides: info.api?.provides ?? null, consumes: info.api?.consumes ?? null },
        },
        healthy: response.ok,
      };
    } catch {
      return { ...publicView(instance), reported: null, healthy: false };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.instances.keys()].map((id) => this.stop(id)));
  }
}

function publicView(instance: Running): FleetInstance {
  const { id, service, group, intended, host, port } = instance;
  return { id, service, group, intended, host, port };
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
