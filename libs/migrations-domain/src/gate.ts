import type { MigrationPlan } from './plan';

/** One running instance of the application service, as the fleet view reports it. */
export interface LiveInstance {
  id: string;
  /** The version it reports running; null when it has not said (treated as unknown). */
  version: string | null;
}

export interface GateVerdict {
  allowed: boolean;
  /** Instances that still need (or may need) the old schema, each with why. */
  blocking: { id: string; version: string | null; reason: string }[];
}

/**
 * Contract removes the old shape, so it may run only when every live instance runs a version
 * known to need the new schema. Fail safe: an instance that does not report its version, or runs
 * a version the plan does not list, blocks too — we cannot prove it does not read the old shape.
 */
export function contractGate(
  plan: Pick<MigrationPlan, 'versions'>,
  live: LiveInstance[],
): GateVerdict {
  const blocking: GateVerdict['blocking'] = [];
  for (const instance of live) {
    if (instance.version === null)
      blocking.push({ ...instance, reason: 'does not report its version' });
    else if (plan.versions.old.includes(instance.version))
      blocking.push({
        ...instance,
        reason: `runs ${instance.version}, which needs the old schema`,
      });
    else if (!plan.versions.new.includes(instance.version))
      blocking.push({
        ...instance,
        reason: `runs ${instance.version}, listed in neither versions.old nor versions.new`,
      });
  }
  return { allowed: blocking.length === 0, blocking };
}
