import type { GroupWeights, ReleasePlan, ReleaseStrategy } from '@rollgate/contracts';

export const DEFAULT_PLAN: ReleasePlan = {
  replicas: 2,
  canarySteps: [5, 25, 50],
  stepSeconds: 60,
  maxSurge: 1,
  maxUnavailable: 0,
  marginalTimeoutSeconds: 900,
  warmSeconds: 300,
};

/** The defaults, overridden by every value the caller actually gave. */
export function withPlanDefaults(partial: Partial<ReleasePlan> = {}): ReleasePlan {
  const given = Object.fromEntries(
    Object.entries(partial).filter(([, value]) => value !== undefined),
  );
  return { ...DEFAULT_PLAN, ...given };
}

/** How a step is gated before the release moves on. */
export type StepGate = 'analysis' | 'health' | 'warm';

export interface Step {
  description: string;
  weights: GroupWeights;
  gate: StepGate;
  /** Instances of the new build this step needs running (canary, green or replaced). */
  newInstances: number;
  /** Rolling: instances of the old build still routed once this step's route is confirmed. */
  keepStable?: number;
}

/** Problems with a requested plan, each naming the field; empty when the plan is usable. */
export function planProblems(
  strategy: ReleaseStrategy,
  plan: ReleasePlan,
): { field: string; problem: string }[] {
  const problems: { field: string; problem: string }[] = [];
  if (strategy === 'canary') {
    plan.canarySteps.forEach((weight, i) => {
      if (weight > 50) {
        problems.push({
          field: `plan.canarySteps[${i}]`,
          problem: `must be at most 50: the baseline gets the same share as the canary (got ${weight})`,
        });
      }
      if (i > 0 && weight <= plan.canarySteps[i - 1]!) {
        problems.push({
          field: `plan.canarySteps[${i}]`,
          problem: 'weights must increase step by step',
        });
      }
    });
  }
  if (strategy === 'rolling' && plan.maxSurge > plan.replicas) {
    problems.push({
      field: 'plan.maxSurge',
      problem: `must not exceed replicas (${plan.replicas})`,
    });
  }
  if (strategy === 'rolling' && plan.maxSurge + plan.maxUnavailable === 0) {
    problems.push({
      field: 'plan.maxUnavailable',
      problem: 'must be at least 1 when maxSurge is 0: no instance could ever be replaced',
    });
  }
  // An outage is never a plan: at least one instance keeps serving throughout.
  if (strategy === 'rolling' && plan.maxUnavailable >= plan.replicas) {
    problems.push({
      field: 'plan.maxUnavailable',
      problem: `must be below replicas (${plan.replicas}): at least one instance keeps serving`,
    });
  }
  return problems;
}

/**
 * The steps a release walks through, derived only from its strategy and plan, so replaying the
 * log always yields the same steps.
 */
export function stepsOf(
  strategy: ReleaseStrategy,
  plan: ReleasePlan,
  firstRelease = false,
): Step[] {
  // Nothing runs yet: no baseline to compare with and no traffic to protect.
  if (firstRelease) {
    return [
      {
        description: 'first deploy',
        weights: { canary: 100 },
        gate: 'health',
        newInstances: plan.replicas,
      },
    ];
  }
  switch (strategy) {
    case 'canary':
      return [
        ...plan.canarySteps.map((weight) => ({
          description: `canary ${weight}% (baseline ${weight}%)`,
          // A fresh baseline of the old build takes the same share: compare like with like.
          weights: { stable: 100 - 2 * weight, baseline: weight, canary: weight },
          gate: 'analysis' as const,
          newInstances: 1,
        })),
        {
          description: 'promote: canary 100%',
          weights: { canary: 100 },
          gate: 'health',
          newInstances: plan.replicas,
        },
      ];
    case 'blue-green':
      return [
        {
          description: 'start green, blue serves',
          weights: { blue: 100 },
          gate: 'health',
          newInstances: plan.replicas,
        },
        {
          description: 'switch to green',
          weights: { green: 100 },
          gate: 'health',
          newInstances: plan.replicas,
        },
        {
          description: `keep blue warm ${plan.warmSeconds}s`,
          weights: { green: 100 },
          gate: 'warm',
          newInstances: plan.replicas,
        },
      ];
    case 'rolling':
      return rollingSteps(plan);
  }
}

/** Traffic in proportion to the instances of each build, so every instance gets an equal share. */
function rollingStep(description: string, keepStable: number, newInstances: number): Step {
  const share = Math.round((newInstances / (keepStable + newInstances)) * 100);
  return {
    description,
    weights:
      share === 100
        ? { canary: 100 }
        : share === 0
          ? { stable: 100 }
          : { stable: 100 - share, canary: share },
    gate: 'health',
    newInstances,
    keepStable,
  };
}

/**
 * Batches of maxSurge + maxUnavailable instances. Old instances leave before new ones start only
 * as far as maxUnavailable allows (a step of its own, so they are out of the route before they
 * stop); new ones then start up to maxSurge above replicas. Serving instances never drop below
 * replicas - maxUnavailable, running ones never exceed replicas + maxSurge.
 */
function rollingSteps({ replicas, maxSurge, maxUnavailable }: ReleasePlan): Step[] {
  const batch = maxSurge + maxUnavailable;
  const batches = Math.ceil(replicas / batch);
  return Array.from({ length: batches }, (_, i) => {
    const replacedBefore = i * batch;
    const replaced = Math.min(replicas, replacedBefore + batch);
    const oldBefore = replicas - replacedBefore;
    const keptWhileStarting = Math.min(oldBefore, replicas + maxSurge - replaced);
    const label = `batch ${i + 1} of ${batches}`;
    const replace = rollingStep(
      `${label}: ${replaced}/${replicas} replaced`,
      replicas - replaced,
      replaced,
    );
    if (keptWhileStarting === oldBefore) return [replace];
    const drain = rollingStep(
      `${label}: ${oldBefore - keptWhileStarting} old out`,
      keptWhileStarting,
      replacedBefore,
    );
    return [drain, replace];
  }).flat();
}
