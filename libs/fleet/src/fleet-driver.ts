import type { VersionGroup } from '@rollgate/contracts';

/** What to run: one instance of a service at a digest-pinned build, in a version group. */
export interface InstanceSpec {
  service: string;
  version: string;
  digest: string;
  group: VersionGroup;
  /** Feature flags this build reads (reported back, for the flag enablement guard). */
  flags?: string[];
  /** Digests of the API documents the build declares (reported back, for the API gate). */
  api?: { provides?: string; consumes?: string };
}

/** The API documents an instance says its build declares; null: none. */
export interface ReportedApi {
  provides: string | null;
  consumes: string | null;
}

export interface FleetInstance {
  id: string;
  service: string;
  group: VersionGroup;
  /** What the driver was asked to run. */
  intended: { version: string; digest: string };
  host: string;
  port: number;
}

/** An instance as it reports itself: what really runs, which may differ from what was intended. */
export interface ObservedInstance extends FleetInstance {
  reported: { version: string; digest: string; flags: string[]; api: ReportedApi } | null;
  healthy: boolean;
}

/**
 * Runs instances of services. The local driver runs child processes; a Kubernetes driver would
 * map a service+group to a Deployment (or ReplicaSet) labelled `rollgate/group`, `start` to a
 * scale-up, `stop` to deleting a pod, and `observe` to pod status (`imageID` is the digest that
 * really runs) — see libs/fleet/README.md.
 */
export interface FleetDriver {
  readonly kind: string;
  /** Starts one instance and resolves when it answers its health check. */
  start(spec: InstanceSpec): Promise<FleetInstance>;
  /** Stops one instance (graceful, then forced). Stopping an unknown id is a no-op. */
  stop(instanceId: string): Promise<void>;
  /** Asks every instance (of one service, or all) what it runs. */
  observe(service?: string): Promise<ObservedInstance[]>;
  /**
   * Instances of the service that run without this driver having started them (another
   * orchestrator replica did), taken over from now on. Drivers whose instances live and die with
   * their process (local, simulated) have none and leave it out.
   */
  adopt?(service: string): Promise<FleetInstance[]>;
  close(): Promise<void>;
}
