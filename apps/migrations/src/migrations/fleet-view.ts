import type { LiveInstance } from '@rollgate/migrations-domain';

/**
 * Which instances of an application service are live and what version each runs. Contract asks
 * it before removing the old schema. Port: the service uses the orchestrator over HTTP; tests
 * use a real orchestrator or a real HTTP server speaking the same `GET /services/:name`.
 */
export interface FleetView {
  liveInstances(service: string): Promise<LiveInstance[]>;
  /**
   * The version a release deployed (for a release rollback that rolls a migration back); null when
   * the orchestrator says it has none; throws FleetUnavailableError when it cannot be asked.
   */
  releaseVersion(releaseId: string): Promise<string | null>;
}

export const FLEET_VIEW = Symbol('FLEET_VIEW');

/** The fleet could not be asked: contract is refused (fail safe), never assumed clear. */
export class FleetUnavailableError extends Error {
  override readonly name = 'FleetUnavailableError';
}

interface ServiceView {
  instances?: {
    id: string;
    healthy?: boolean;
    intended?: { version?: string } | null;
    reported?: { version?: string } | null;
  }[];
}

/**
 * Reads the orchestrator's `GET /services/:name`. An instance counts as live whatever its health
 * (an unhealthy process may still serve queries); its version is what it reports, else what it
 * was started as. Any answer but 200 with an instances list refuses contract (fail safe).
 */
export class HttpFleetView implements FleetView {
  constructor(
    private readonly orchestratorUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 5000,
  ) {}

  async liveInstances(service: string): Promise<LiveInstance[]> {
    const url = `${this.orchestratorUrl}/services/${encodeURIComponent(service)}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new FleetUnavailableError(`fleet view ${url} unreachable: ${(error as Error).message}`);
    }
    // No 404 shortcut: the orchestrator answers every service name, so a 404 means a wrong URL
    // or an orchestrator without a fleet view — never "nothing is live".
    if (!response.ok)
      throw new FleetUnavailableError(`fleet view ${url} answered ${response.status}`);
    const body = (await response.json()) as ServiceView;
    if (!Array.isArray(body.instances))
      throw new FleetUnavailableError(`fleet view ${url} answered without an instances list`);
    return body.instances.map((instance) => ({
      id: instance.id,
      version: instance.reported?.version ?? instance.intended?.version ?? null,
    }));
  }

  /**
   * null only on a definite answer (the release is unknown, or has no version); an orchestrator
   * that cannot be asked throws, so a release rollback is retried instead of skipped.
   */
  async releaseVersion(releaseId: string): Promise<string | null> {
    const url = `${this.orchestratorUrl}/releases/${encodeURIComponent(releaseId)}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new FleetUnavailableError(`release ${url} unreachable: ${(error as Error).message}`);
    }
    if (response.status === 404) return null;
    if (!response.ok) throw new FleetUnavailableError(`release ${url} answered ${response.status}`);
    const body = (await response.json().catch(() => undefined)) as
      { version?: unknown } | undefined;
    if (body === undefined) throw new FleetUnavailableError(`release ${url} answered no JSON`);
    return typeof body.version === 'string' ? body.version : null;
  }
}
