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
    case 'rolling': {
      const batches = Math.ceil(plan.replicas / plan.maxSurge);
      return Array.from({ length: batches }, (_, i) => {
        const replaced = Math.min(plan.replicas, (i + 1) * plan.maxSurge);
        const share = Math.round((replaced / plan.replicas) * 100);
        return {
          description: `batch ${i + 1} of ${batches}: ${replaced}/${plan.replicas} replaced`,
          weights: share === 100 ? { canary: 100 } : { stable: 100 - share, canary: share },
          gate: 'health' as const,
          newInstances: replaced,
        };
      });
    }
  }
}
