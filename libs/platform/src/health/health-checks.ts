import { Injectable } from '@nestjs/common';

export interface HealthCheckOutcome {
  up: boolean;
  /**
   * An up check can still say the service is `starting` (not ready: /health answers 503 with
   * status "starting") or `degraded` (serving, but behind: 200 with status "degraded").
   */
  condition?: 'starting' | 'degraded';
  detail?: Record<string, unknown>;
}

export type HealthCheckFn = () => Promise<HealthCheckOutcome>;

/**
 * Registry of the named checks /health runs. Modules inject it and register their own checks
 * (an event-log consumer registers one that goes down after a crash).
 */
@Injectable()
export class HealthChecks {
  private readonly checks = new Map<string, HealthCheckFn>();

  /** Returns a function that removes the check again. */
  register(name: string, check: HealthCheckFn): () => void {
    if (name === '' || name === 'status') throw new Error(`invalid health check name '${name}'`);
    if (this.checks.has(name)) throw new Error(`health check '${name}' is already registered`);
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  entries(): [string, HealthCheckFn][] {
    return [...this.checks.entries()];
  }
}
