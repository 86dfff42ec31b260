import type { JudgeVerdict, MetricResult } from '@rollgate/judges';

/** A metric as `rollgate judge` prints it; numbers JSON cannot carry (NaN, ±∞) become null. */
export interface MetricOutput {
  name: string;
  classification: MetricResult['classification'];
  u: number | null;
  pValue: number | null;
  effect: number | null;
  reason: string;
}

export interface VerdictOutput {
  verdict: JudgeVerdict['verdict'];
  score: number;
  metrics: MetricOutput[];
}

const finiteOrNull = (value: number | null): number | null =>
  value !== null && Number.isFinite(value) ? value : null;

/** The documented output shape, keys in a fixed order. */
export function toVerdictOutput(verdict: JudgeVerdict): VerdictOutput {
  return {
    verdict: verdict.verdict,
    score: verdict.score,
    metrics: verdict.metrics.map((m) => ({
      name: m.name,
      classification: m.classification,
      u: finiteOrNull(m.u),
      pValue: finiteOrNull(m.pValue),
      effect: finiteOrNull(m.effect),
      reason: m.reason,
    })),
  };
}
