import { fisherExactOneSided, mannWhitneyOneSided, mean, type OneSide } from '@rollgate/stats';
import { finiteValues, formatNumber, formatPercent, rankStatistics } from '../describe';
import { namesWith, passShareScore } from '../scoring';
import type { Direction, JudgeRequest, JudgeVerdict, MetricInput, MetricResult } from '../types';
import { JudgeInputError } from '../errors';
import { alphaByKind, alphaShares } from './alpha';
import { minimumShift } from './metric-tests';
import { metricSettingsFor, type SequentialSettings } from './sequential-settings';

/**
 * Fixed-horizon judgement of a COMPLETE window: one look, so the classical tests are valid and
 * much more powerful than an always-valid test at the same α (which pays for the right to peek).
 * Proportions (0/1 per request) get a two-proportion test on the counts (Fisher's exact, so it
 * holds for few events too); any other metric a Mann-Whitney test. One-sided in the bad direction;
 * `either` runs both sides at half the metric's α. PASS here means "no significant regression",
 * not "the minimum regression is ruled out", which only the sequential judge can say.
 */
export function fixedHorizonVerdict(
  request: JudgeRequest,
  settings: SequentialSettings,
): JudgeVerdict {
  // A metric without values (NODATA) has no kind: then α is shared by weight alone.
  const alphas =
    alphaByKind(request.metrics, settings)?.alphas ?? alphaShares(request.metrics, settings.alpha);
  const metrics = request.metrics.map((metric, i) => judgeMetric(metric, alphas[i], settings));
  const score = passShareScore(request.metrics, metrics);
  const regressed = namesWith(metrics, (c) => c === 'High' || c === 'Low');
  const noData = namesWith(metrics, (c) => c === 'NoData');
  if (regressed.length > 0) {
    const reasons = [
      `regression at the window's end (fixed-horizon test): ${regressed.join(', ')}`,
    ];
    return { verdict: 'FAIL', score, metrics, reasons };
  }
  if (noData.length > 0 || metrics.length === 0) {
    const reason = metrics.length === 0 ? 'no metrics' : `no data for: ${noData.join(', ')}`;
    return { verdict: 'NODATA', score, metrics, reasons: [reason] };
  }
  const reasons = ["no significant regression at the window's end (fixed-horizon test, one look)"];
  return { verdict: 'PASS', score, metrics, reasons };
}

const sidesOf = (direction: Direction): OneSide[] =>
  direction === 'either' ? ['greater', 'less'] : direction === 'increase' ? ['greater'] : ['less'];

const isZeroOrOne = (v: number) => v === 0 || v === 1;

function judgeMetric(
  input: MetricInput,
  alpha: number,
  settings: SequentialSettings,
): MetricResult {
  const baseline = finiteValues(input.baseline);
  const canary = finiteValues(input.canary);
  const described = { name: input.name, ...rankStatistics(baseline, canary) };
  if (baseline.length === 0 || canary.length === 0) {
    const missing = baseline.length === 0 ? 'baseline' : 'canary';
    return { ...described, classification: 'NoData', reason: `no ${missing} data` };
  }
  const sides = sidesOf(input.direction);
  const sideAlpha = alpha / sides.length;
  const kind = metricSettingsFor(settings, input.name).kind;
  const zeroOrOne = [...baseline, ...canary].every(isZeroOrOne);
  if (kind === 'proportion' && !zeroOrOne) {
    throw new JudgeInputError(
      `metric "${input.name}": a proportion metric takes only 0 and 1 values`,
    );
  }
  const proportion = kind === 'proportion' || (kind === 'auto' && zeroOrOne);
  const shifted = proportion ? null : marginShifted(input.name, baseline, canary, settings);
  const tests = sides.map((side) =>
    shifted ? rankTest(shifted, side) : proportionTest(baseline, canary, side),
  );
  const hit = tests.find((t) => t.pValue <= sideAlpha);
  const within = `its share of α = ${formatNumber(sideAlpha)}`;
  if (hit) {
    return {
      ...described,
      classification: hit.side === 'greater' ? 'High' : 'Low',
      reason: `regression: ${hit.what}, p ${formatNumber(hit.pValue)} within ${within}`,
    };
  }
  const best = tests.reduce((a, b) => (b.pValue < a.pValue ? b : a));
  return {
    ...described,
    classification: 'Pass',
    reason: `no significant regression: ${best.what}, p ${formatNumber(best.pValue)} > ${within}${tooFew(best, sideAlpha, baseline.length + canary.length)}`,
  };
}

interface SideTest {
  side: OneSide;
  pValue: number;
  what: string;
  /** Smallest p-value the sample sizes allow (rank test without ties). */
  smallestPossibleP: number;
}

/** Say so when the data could never have been significant: PASS then means little. */
const tooFew = (test: SideTest, alpha: number, values: number): string =>
  test.smallestPossibleP > alpha
    ? `; too few values: ${values} allow p ≥ ${formatNumber(test.smallestPossibleP)}`
    : '';

const WAY = { greater: 'higher', less: 'lower' } as const;

function proportionTest(baseline: number[], canary: number[], side: OneSide): SideTest {
  const counts = (values: number[]) => ({
    events: values.filter((v) => v === 1).length,
    trials: values.length,
  });
  const b = counts(baseline);
  const c = counts(canary);
  const { pValue } = fisherExactOneSided(b, c, side);
  const share = (x: { events: number; trials: number }) =>
    `${formatPercent(x.events / x.trials)} (${x.events} of ${x.trials})`;
  return {
    side,
    pValue,
    what: `two-proportion test on the counts, one-sided (canary ${WAY[side]}; Fisher's exact): canary ${share(c)} vs baseline ${share(b)}`,
    smallestPossibleP: 0,
  };
}

interface Shifted {
  baseline: number[];
  canary: number[];
  /** Half the minimum regression, on the test's scale: smaller shifts are not regressions. */
  margin: number;
  scale: 'log' | 'linear';
}

/**
 * Continuous metrics are tested on the sequential judge's scale against a margin of half the
 * minimum regression: with thousands of requests, a plain rank test would flag a millisecond
 * between two healthy processes. Half is where the sequential judge, too, turns from PASS to FAIL.
 */
function marginShifted(
  name: string,
  baseline: number[],
  canary: number[],
  settings: SequentialSettings,
): Shifted {
  const metric = metricSettingsFor(settings, name);
  const scale =
    metric.scale !== 'auto'
      ? metric.scale
      : [...baseline, ...canary].every((v) => v > 0)
        ? 'log'
        : 'linear';
  const onScale = (values: number[]) => {
    if (scale === 'linear') return values;
    if (values.some((v) => v <= 0)) {
      throw new JudgeInputError(`metric "${name}": a value ≤ 0 on a log scale; set scale: linear`);
    }
    return values.map(Math.log);
  };
  return {
    baseline: onScale(baseline),
    canary: onScale(canary),
    // A linear metric whose baseline is all 0 has no default minimum: test without a margin.
    margin:
      scale === 'linear' && metric.minimumRegression === undefined && mean(baseline) === 0
        ? 0
        : minimumShift(name, scale, metric, baseline) / 2,
    scale,
  };
}

function rankTest(shifted: Shifted, side: OneSide): SideTest {
  const { baseline, margin } = shifted;
  // Move the canary toward the baseline by the margin: significant only beyond it.
  const canary = shifted.canary.map((v) => (side === 'greater' ? v - margin : v + margin));
  const result = mannWhitneyOneSided(baseline, canary, side);
  const pairs = baseline.length * canary.length;
  const beyond =
    shifted.scale === 'log'
      ? `${side === 'greater' ? '+' : '−'}${formatPercent(side === 'greater' ? Math.exp(margin) - 1 : 1 - Math.exp(-margin))}`
      : `${side === 'greater' ? '+' : '−'}${formatNumber(margin)}`;
  return {
    side,
    pValue: result.pValue,
    what: `Mann-Whitney test, one-sided (canary ${WAY[side]} by more than ${beyond}, half the minimum regression; ${result.method}): U ${formatNumber(result.u)} of ${pairs} pairs`,
    smallestPossibleP: result.smallestPossibleP,
  };
}
