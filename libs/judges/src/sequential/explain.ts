import { formatNumber, formatPercent } from '../describe';
import type { Classification } from '../types';
import type { MetricTests, TestEvidence } from './metric-tests';

/** How a test's estimate reads to a person: rate ratio, relative change or plain shift. */
function describeEstimate(tests: MetricTests, evidence: TestEvidence): string {
  if (evidence.shares) {
    const tail = evidence.label.endsWith(' tail');
    const beyond = evidence.badSide === 'Low' ? 'below' : 'above';
    const what = tail
      ? `${beyond} the baseline's ${evidence.label.replace(' tail', '')}`
      : evidence.label;
    if (Number.isNaN(evidence.shares.canary)) return `${what}: waiting for enough baseline values`;
    const { canary, baseline } = evidence.shares;
    return `${what} canary ${formatPercent(canary)} vs baseline ${formatPercent(baseline)} (ratio ${formatNumber(evidence.ratio ?? NaN)})`;
  }
  if (Number.isNaN(evidence.estimate)) return 'shift not estimated yet';
  if (tests.kind === 'continuous' && tests.scale === 'log') {
    const change = Math.exp(evidence.estimate) - 1;
    return `typical value ${change >= 0 ? '+' : ''}${formatPercent(change)}`;
  }
  return `shift ${evidence.estimate >= 0 ? '+' : ''}${formatNumber(evidence.estimate)}`;
}

function regressionSide(evidence: TestEvidence): 'High' | 'Low' {
  return evidence.badSide ?? (evidence.estimate >= 0 ? 'High' : 'Low');
}

export interface MetricOutcome {
  classification: Classification;
  reason: string;
}

/** Combine a metric's tests: any regression fails it; it passes only when every test passes. */
export function metricOutcome(
  tests: MetricTests,
  evidence: TestEvidence[],
  alpha: number,
): MetricOutcome {
  const regression = evidence.find((e) => e.decision === 'regression');
  if (regression) {
    return {
      classification: regressionSide(regression),
      reason: `regression: ${describeEstimate(tests, regression)}; always-valid p ${formatNumber(regression.alwaysValidP)} within its share of α = ${formatNumber(alpha)}`,
    };
  }
  const estimates = evidence.map((e) => describeEstimate(tests, e)).join('; ');
  if (evidence.every((e) => e.decision === 'no-regression')) {
    return { classification: 'Pass', reason: `no regression of the minimum size: ${estimates}` };
  }
  const pending = evidence.filter((e) => e.decision === 'continue').map((e) => e.label);
  return {
    classification: 'Inconclusive',
    reason: `not conclusive yet (${pending.join(', ')}): ${estimates}; lowest always-valid p ${formatNumber(Math.min(...evidence.map((e) => e.alwaysValidP)))}`,
  };
}
