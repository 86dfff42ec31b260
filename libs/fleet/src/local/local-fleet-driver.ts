import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { FleetDriver, FleetInstance, InstanceSpec, ObservedInstance } from '../fleet-driver';
import { launchInstance, observeInstance, publicView, type BuildProfile } from './instance-process';

export type { BuildProfile } from './instance-process';

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
  exited: Promise<number | null>;
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
    const { child, port, exited } = await launchInstance({
      root: this.options.root,
      id,
      spec,
      runs,
      profile: this.options.profiles?.get(runs.digest) ?? {},
      ...(this.options.startTimeoutMs !== undefined
        ? { startTimeoutMs: this.options.startTimeoutMs }
        : {}),
      tie: { kind: 'lifeline' },
    });
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
    return Promise.all(selected.map((instance) => observeInstance(instance)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.instances.keys()].map((id) => this.stop(id)));
  }
}
