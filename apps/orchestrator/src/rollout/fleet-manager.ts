import { ServiceUnavailableException } from '@nestjs/common';
import type { RollgateConfig } from '@rollgate/platform';
import type { ArtifactRef, RouteBackend, VersionGroup } from '@rollgate/contracts';
import type { FleetDriver, FleetInstance } from '@rollgate/fleet';
import type { DriftObservation } from '@rollgate/releases';

export interface Build {
  version: string;
  digest: string;
  /** Flags the build reads; its instances report them (the flag enablement guard reads that). */
  flags?: string[];
  /** API documents the build declares; its instances report their digests (the API gate). */
  api?: { provides?: string; consumes?: string };
}

/** What instances of a released artifact run and report. */
export function buildOf(artifact: ArtifactRef, version: string): Build {
  return {
    version,
    digest: artifact.digest,
    ...(artifact.flags ? { flags: artifact.flags } : {}),
    ...(artifact.api ? { api: artifact.api } : {}),
  };
}

/** Injection token of the orchestrator's one FleetManager. */
export const FLEET_MANAGER = Symbol('FLEET_MANAGER');

/**
 * The fleet views speak only for a process that runs the fleet. With the reconciler off this
 * orchestrator starts nothing, so an empty answer would read as "nothing is live" to the gates
 * that trust it (flag enablement, schema contract): 503 instead, so they fail safe.
 */
export function assertRunsTheFleet(config: Pick<RollgateConfig, 'reconciler'>): void {
  if (config.reconciler === 'off') {
    throw new ServiceUnavailableException(
      'this orchestrator does not run the fleet (ROLLGATE_RECONCILER=off): ask one that does',
    );
  }
}

/** A route group, or `retiring`: out of every route, about to be stopped. */
export type Role = VersionGroup | 'retiring';

interface Member {
  instance: FleetInstance;
  /** The role it plays now; canary instances become stable when their release succeeds. */
  group: Role;
  build: Build;
}

/**
 * The orchestrator's view of its fleet: which instance plays which role, on top of a driver that
 * only starts, stops and asks. Idempotent: `ensure` starts only what is missing.
 */
export class FleetManager {
  /** By service, then instance id: `of` runs in every pass over every owned service. */
  private readonly members = new Map<string, Map<string, Member & { service: string }>>();
  /**
   * When this fleet's life began: instances of an earlier life (before a crash of the process
   * that ran them) are gone, so a route confirmed before this moment names dead instances.
   */
  readonly startedAt = new Date().toISOString();

  constructor(readonly driver: FleetDriver) {}

  of(service: string, group?: Role): (Member & { service: string })[] {
    const mine = [...(this.members.get(service)?.values() ?? [])];
    return group ? mine.filter((m) => m.group === group) : mine;
  }

  private membersOf(service: string): Map<string, Member & { service: string }> {
    let mine = this.members.get(service);
    if (!mine) {
      mine = new Map();
      this.members.set(service, mine);
    }
    return mine;
  }

  async ensure(service: string, group: VersionGroup, count: number, build: Build): Promise<void> {
    const missing = count - this.of(service, group).length;
    if (missing <= 0) return;
    await Promise.all(
      Array.from({ length: missing }, async () => {
        const instance = await this.driver.start({ service, group, ...build });
        this.membersOf(service).set(instance.id, { instance, group, build, service });
      }),
    );
  }

  /**
   * Takes over the service's instances that another replica started (agents keep them running
   * when that replica dies). Their role comes from the build: the stable build's instances are
   * stable (a canary promoted earlier was started as `canary`), a baseline stays baseline, any
   * other build keeps the group it was started in. Resolves with how many were taken over.
   */
  async adopt(service: string, stableDigest: string | undefined): Promise<number> {
    const found = (await this.driver.adopt?.(service)) ?? [];
    const mine = this.membersOf(service);
    const fresh = found.filter((instance) => !mine.has(instance.id));
    for (const instance of fresh) {
      const stable = instance.group !== 'baseline' && instance.intended.digest === stableDigest;
      mine.set(instance.id, {
        instance,
        service,
        group: stable ? 'stable' : instance.group,
        build: { version: instance.intended.version, digest: instance.intended.digest },
      });
    }
    return fresh.length;
  }

  async retire(service: string, group: Role): Promise<void> {
    await Promise.all(
      this.of(service, group).map(async (member) => {
        await this.driver.stop(member.instance.id);
        this.members.get(service)?.delete(member.instance.id);
      }),
    );
  }

  /** Stable for instances of `stableDigest`, retiring for every other one. */
  assignByBuild(service: string, stableDigest: string | undefined): void {
    for (const member of this.of(service)) {
      member.group = member.build.digest === stableDigest ? 'stable' : 'retiring';
    }
  }

  relabel(service: string, from: Role, to: Role): void {
    for (const member of this.of(service, from)) member.group = to;
  }

  /**
   * Takes all but `keep` instances of a group out of routing (role `retiring`); they are stopped
   * once a route without them is confirmed, so no request is sent to a stopped instance.
   */
  demote(service: string, group: Role, keep: number): void {
    for (const member of this.of(service, group).slice(Math.max(0, keep)))
      member.group = 'retiring';
  }

  backends(service: string, groups: readonly VersionGroup[]): RouteBackend[] {
    return this.of(service)
      .filter((m): m is Member & { service: string; group: VersionGroup } =>
        groups.includes(m.group as VersionGroup),
      )
      .map((m) => ({
        instanceId: m.instance.id,
        group: m.group,
        host: m.instance.host,
        port: m.instance.port,
      }));
  }

  /** Instances that answer with another build than the one they were started with. */
  async drift(service: string): Promise<DriftObservation[]> {
    const observed = await this.driver.observe(service);
    // An instance the driver no longer reports has exited: forget it, `ensure` starts a new one.
    const alive = new Set(observed.map((o) => o.id));
    const mine = this.membersOf(service);
    for (const id of mine.keys()) if (!alive.has(id)) mine.delete(id);
    return observed
      .filter(
        (o) =>
          mine.has(o.id) &&
          o.reported !== null &&
          o.reported.digest !== mine.get(o.id)!.build.digest,
      )
      .map((o) => ({
        instanceId: o.id,
        intendedDigest: mine.get(o.id)!.build.digest,
        reportedDigest: o.reported!.digest,
      }));
  }

  async allHealthy(service: string, groups: readonly VersionGroup[]): Promise<boolean> {
    const wanted = new Set(
      this.of(service)
        .filter((m) => groups.includes(m.group as VersionGroup))
        .map((m) => m.instance.id),
    );
    const observed = new Map((await this.driver.observe(service)).map((o) => [o.id, o]));
    return wanted.size > 0 && [...wanted].every((id) => observed.get(id)?.healthy === true);
  }
}
