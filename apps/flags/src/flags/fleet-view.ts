import type { FleetSnapshot, LiveInstance } from '@rollgate/flags-domain/project';

/**
 * What the enablement guard needs from the fleet: every live instance and the flags its build
 * declares. A port, so the guard does not care who runs the fleet.
 */
export interface FleetView {
  liveInstances(): Promise<FleetSnapshot>;
}

export const FLEET_VIEW = Symbol('FLEET_VIEW');

/** An instance as the orchestrator's `GET /fleet/instances` reports it. */
interface ReportedInstance {
  id: string;
  service: string;
  reported: { flags?: string[] } | null;
}

/**
 * Asks the orchestrator (ROLLGATE_ORCHESTRATOR_URL), which owns the fleet and hears each
 * instance report the build it runs. Any failure is a snapshot that says so: the guard then
 * refuses to turn a flag on (fail safe) unless forced.
 */
export class HttpFleetView implements FleetView {
  constructor(
    private readonly orchestratorUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 3_000,
  ) {}

  async liveInstances(): Promise<FleetSnapshot> {
    const url = `${this.orchestratorUrl}/fleet/instances`;
    try {
      const response = await fetch(url, {
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) return { ok: false, error: `${url} answered ${response.status}` };
      const body = (await response.json()) as { instances?: ReportedInstance[] };
      if (!Array.isArray(body.instances)) {
        return { ok: false, error: `${url} did not list instances` };
      }
      const instances: LiveInstance[] = body.instances.map((instance) => ({
        id: instance.id,
        service: instance.service,
        flags: Array.isArray(instance.reported?.flags) ? instance.reported.flags : null,
      }));
      return { ok: true, instances };
    } catch (error) {
      return { ok: false, error: `${url}: ${(error as Error).message}` };
    }
  }
}
