import { createRandom, type Random } from '@rollgate/stats';
import { DEFAULT_ANALYSIS_POLICY, goldenSignalMetrics, scoreIntervals } from './scoring';
import {
  LATENCY_BOUNDS_MS,
  bucketOf,
  emptyGroup,
  histogramQuantile,
  type GroupSignals,
  type WindowSignals,
} from './signals';

/** One group's interval: `requests` requests, log-normal latency around `medianMs`. */
function group(
  random: Random,
  requests: number,
  errorRate: number,
  medianMs: number,
  saturation: number | null = 0.2,
): GroupSignals {
  const signals = emptyGroup();
  signals.requests = requests;
  signals.saturation = saturation;
  for (let i = 0; i < requests; i++) {
    if (random.bernoulli(errorRate)) signals.errors++;
    signals.latencyCounts[bucketOf(medianMs * Math.exp(0.3 * random.normal()))]!++;
  }
  return signals;
}

function intervals(
  count: number,
  perInterval: number,
  canary: { errorRate: number; medianMs: number },
  seed = 1,
): WindowSignals[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => ({
    canary: group(random, perInterval, canary.errorRate, canary.medianMs),
    baseline: group(random, perInterval, 0.01, 40),
  }));
}

const score = (data: WindowSignals[], last = false, windowSeconds = 60) =>
  scoreIntervals({
    judge: 'sequential',
    intervals: data,
    elapsedSeconds: data.length * 5,
    windowSeconds,
    last,
    policy: DEFAULT_ANALYSIS_POLICY,
  });

describe('golden signals', () => {
  it('reads p50 and p99 from a histogram as histogram_quantile does', () => {
    const counts = emptyGroup().latencyCounts;
    counts[bucketOf(40)] = 98; // (25, 50]
    counts[bucketOf(200)] = 2; // (100, 250]
    expect(LATENCY_BOUNDS_MS[bucketOf(40)]).toBe(50);
    expect(histogramQuantile(counts, 0.5)).toBeCloseTo(25 + 25 * (50 / 98));
    expect(histogramQuantile(counts, 0.99)).toBeCloseTo(100 + 150 * 0.5);
    expect(histogramQuantile(emptyGroup().latencyCounts, 0.5)).toBeNull();
  });

  it('scores error rate per request, latency per request and saturation per interval', () => {
    const { metrics, notes } = goldenSignalMetrics(
      intervals(2, 50, { errorRate: 0, medianMs: 40 }),
    );
    expect(metrics.map((m) => [m.name, m.canary.length, m.critical ?? false])).toEqual([
      ['error-rate', 100, true],
      ['latency', 100, false],
      ['saturation', 2, false],
    ]);
    expect(notes).toEqual([]);
  });

  it('leaves out a signal the source does not report, and says so', () => {
    const data = intervals(2, 50, { errorRate: 0, medianMs: 40 }).map((i) => ({
      canary: { ...i.canary, saturation: null },
      baseline: { ...i.baseline, saturation: null },
    }));
    const { metrics, notes } = goldenSignalMetrics(data);
    expect(metrics.map((m) => m.name)).toEqual(['error-rate', 'latency']);
    expect(notes).toEqual(['saturation: not reported by the source for both groups; not scored']);
  });
});

describe('scoring intervals', () => {
  it('passes a healthy canary with enough traffic', () => {
    const scoring = score(intervals(12, 100, { errorRate: 0.01, medianMs: 40 }), true);
    expect(scoring.verdict.verdict).toBe('PASS');
    expect(scoring.lowTraffic).toBeNull();
  });

  it('fails a canary whose latency doubled though its errors did not move, and says why', () => {
    const scoring = score(intervals(6, 100, { errorRate: 0.01, medianMs: 80 }));
    expect(scoring.verdict.verdict).toBe('FAIL');
    const latency = scoring.verdict.metrics.find((m) => m.name === 'latency');
    expect(latency?.classification).toBe('High');
    expect(scoring.verdict.metrics.find((m) => m.name === 'error-rate')?.classification).not.toBe(
      'High',
    );
  });

  it('fails a canary whose error rate rose fivefold', () => {
    const scoring = score(intervals(6, 100, { errorRate: 0.05, medianMs: 40 }));
    expect(scoring.verdict.verdict).toBe('FAIL');
    expect(scoring.verdict.metrics[0]).toMatchObject({
      name: 'error-rate',
      classification: 'High',
    });
  });

  it('closes a window still inconclusive with a two-proportion test on the error counts', () => {
    const data = intervals(8, 100, { errorRate: 0.04, medianMs: 40 }, 1);
    expect(score(data).verdict.verdict).toBe('MARGINAL'); // the always-valid look: not yet

    const closed = score(data, true);
    expect(closed.judge).toBe('fixed-horizon');
    expect(closed.verdict.verdict).toBe('FAIL');
    expect(closed.verdict.reasons[0]).toMatch(
      /^sequential judge inconclusive at the end of the window; fixed-horizon tests .*error rate: two-proportion test on the counts; latency and saturation: Mann-Whitney/,
    );
    expect(closed.verdict.metrics[0]).toMatchObject({ name: 'error-rate', classification: 'High' });
    expect(closed.verdict.metrics[0].reason).toMatch(
      /^regression: two-proportion test on the counts, one-sided .*Fisher's exact\): canary [\d.]+% \(\d+ of 800\) vs baseline [\d.]+% \(\d+ of 800\), p [\d.e-]+ within its share of α = 0\.00727$/,
    );
    expect(closed.verdict.metrics[1].reason).toMatch(/^no significant regression: Mann-Whitney/);
  });

  it('closes a healthy window still inconclusive as PASS, with the tests named', () => {
    const data = intervals(12, 100, { errorRate: 0.01, medianMs: 40 }, 3);
    expect(score(data).verdict.verdict).toBe('MARGINAL');
    const closed = score(data, true);
    expect(closed.verdict.verdict).toBe('PASS');
    expect(closed.verdict.metrics.map((m) => m.reason.split(':')[0])).toEqual([
      'no significant regression',
      'no significant regression',
      'no significant regression',
    ]);
    expect(closed.verdict.metrics[0].reason).toContain('two-proportion test on the counts');
  });

  it('gives the threshold judge a service below the traffic floor, and says so', () => {
    // 2 requests per group per 5 s interval: 200 requests would take 500 s; the ceiling is 36 s.
    const scoring = score(intervals(1, 2, { errorRate: 0, medianMs: 40 }), false, 12);
    expect(scoring.judge).toBe('threshold');
    expect(scoring.lowTraffic?.policy).toBe('threshold-fallback');
    expect(scoring.verdict.verdict).toBe('PASS');
    expect(scoring.verdict.reasons[0]).toMatch(
      /low traffic .* judged alone by the threshold judge/,
    );
  });

  it('asks a person to confirm a threshold-fallback PASS when the release says so', () => {
    const slow = intervals(2, 2, { errorRate: 0, medianMs: 40 });
    const confirm = (last: boolean) =>
      scoreIntervals({
        judge: 'sequential',
        intervals: slow,
        elapsedSeconds: 10,
        windowSeconds: 12,
        last,
        policy: DEFAULT_ANALYSIS_POLICY,
        choices: { thresholdFallback: 'confirm' },
      });
    expect(confirm(false).verdict.verdict).toBe('PASS');
    const closed = confirm(true);
    expect(closed.judge).toBe('threshold');
    expect(closed.verdict.verdict).toBe('MARGINAL');
    expect(closed.verdict.reasons[0]).toMatch(/policy asks a person to confirm/);
    // Without the choice the fallback decides alone.
    expect(score(slow, true, 12).verdict.verdict).toBe('PASS');
  });

  it('compares instead of falling back once the release allows a share raise', () => {
    // 2 requests per group per 5 s at 10%: 0.4 req/s; 40 requests by the 90 s ceiling need 24%.
    const raise = (raisedSharePercent?: number) =>
      scoreIntervals({
        judge: 'sequential',
        intervals: intervals(1, 2, { errorRate: 0, medianMs: 40 }),
        elapsedSeconds: 5,
        windowSeconds: 30,
        canarySharePercent: 10,
        last: false,
        policy: DEFAULT_ANALYSIS_POLICY,
        choices: { minimumRequests: 40, raiseShare: { maxPercent: 50 } },
        raisedSharePercent,
      });
    const asked = raise();
    expect(asked.judge).toBe('sequential');
    expect(asked.lowTraffic).toMatchObject({ policy: 'raise-share', windowSeconds: 90 });
    expect(asked.verdict.reasons[0]).toMatch(/raised from 10% to \d+%/);
    expect(raise(35).verdict.reasons[0]).toMatch(/shares were raised to 35% each/);
  });

  it('extends the window for a service that is slow but within the ceiling', () => {
    // 20 requests per group per 5 s: 200 after 50 s, more than the 30 s planned, under 90 s.
    const scoring = score(intervals(1, 20, { errorRate: 0, medianMs: 40 }), false, 30);
    expect(scoring.lowTraffic).toMatchObject({ policy: 'extend-window', windowSeconds: 50 });
    expect(scoring.judge).toBe('sequential');
  });

  it('is NODATA, never PASS, without requests on both sides', () => {
    const data = intervals(2, 50, { errorRate: 0, medianMs: 40 }).map((i) => ({
      ...i,
      baseline: emptyGroup(),
    }));
    expect(score(data, true).verdict.verdict).toBe('NODATA');
  });

  it('is NODATA, never PASS, when a low-traffic canary is served but its baseline is not', () => {
    const data = intervals(6, 17, { errorRate: 0, medianMs: 40 }).map((i) => ({
      ...i,
      baseline: emptyGroup(),
    }));
    const scoring = score(data, true, 30);
    expect(scoring.verdict.verdict).toBe('NODATA');
    expect(scoring.verdict.reasons).toContain('no requests reached the canary or the baseline yet');
  });
});

describe("scoring a canary config's own metrics", () => {
  const config = {
    apiVersion: 'rollgate/v1' as const,
    kind: 'CanaryConfig' as const,
    metrics: [
      {
        name: 'errors',
        query: { embedded: 'error-rate' as const, prometheus: 'sum(rate(errors[1m]))' },
        direction: 'increase' as const,
        critical: true,
      },
      {
        name: 'checkouts',
        query: { embedded: { counter: 'checkout_completed_total' } },
        direction: 'decrease' as const,
        critical: true,
      },
    ],
  };
  /** Healthy golden signals, with each interval's own values of errors and checkouts. */
  const withOwn = (checkouts: [number | null, number][], errors = 0.01) =>
    intervals(checkouts.length, 300, { errorRate: 0.01, medianMs: 40 }).map((interval, i) => ({
      ...interval,
      custom: {
        errors: { canary: errors, baseline: 0.01 },
        checkouts: { canary: checkouts[i]![0], baseline: checkouts[i]![1] },
      },
    }));
  const judged = (data: WindowSignals[], last = false) =>
    scoreIntervals({
      judge: 'sequential',
      intervals: data,
      elapsedSeconds: data.length * 8,
      windowSeconds: 24,
      last,
      policy: DEFAULT_ANALYSIS_POLICY,
      config,
    });

  it('fails a canary whose business metric fell tenfold in three intervals, errors and latency healthy', () => {
    // A noisy baseline (its first interval started before Prometheus saw the instance).
    const scoring = judged(
      withOwn([
        [1.5, 10.3],
        [1.7, 21.7],
        [1.4, 23.4],
      ]),
    );
    expect(scoring.verdict.verdict).toBe('FAIL');
    const byName = new Map(scoring.verdict.metrics.map((m) => [m.name, m.classification]));
    expect(byName.get('checkouts')).toBe('Low');
    expect(byName.get('errors')).not.toBe('High');
  });

  it('judges a metric on its own query when the source ran it, not on the built-in signal it names', () => {
    // The golden error rate is 1% on both sides; the PromQL says the canary fails 30%.
    const scoring = judged(
      withOwn(
        [
          [20, 20],
          [21, 20],
          [20, 21],
          [20, 20],
        ],
        0.3,
      ),
    );
    expect(scoring.verdict.metrics.find((m) => m.name === 'errors')?.classification).toBe('High');
  });

  it('is NODATA, never PASS, while a metric the source ran has no values for a group', () => {
    const scoring = judged(
      withOwn([
        [null, 20],
        [null, 21],
        [null, 22],
      ]),
      true,
    );
    expect(scoring.verdict.verdict).toBe('NODATA');
    expect(scoring.verdict.reasons.join(' ')).toContain('checkouts');
  });
});

describe("the threshold fallback and a canary config's own metrics", () => {
  it('checks the metrics with bounds and leaves out, with a note, those without', () => {
    const config = {
      apiVersion: 'rollgate/v1' as const,
      kind: 'CanaryConfig' as const,
      metrics: [
        {
          name: 'errors',
          query: { embedded: 'error-rate' as const },
          direction: 'increase' as const,
          thresholds: { max: 0.05 },
        },
        {
          name: 'checkouts',
          query: { embedded: { counter: 'checkout_completed_total' } },
          direction: 'decrease' as const,
        },
      ],
    };
    // 2 requests per group per 5 s interval: far below the floor, judged by the threshold judge.
    const data = intervals(2, 2, { errorRate: 0, medianMs: 40 }).map((interval) => ({
      ...interval,
      custom: { checkouts: { canary: 1, baseline: 5 } },
    }));
    const scoring = scoreIntervals({
      judge: 'sequential',
      intervals: data,
      elapsedSeconds: 10,
      windowSeconds: 12,
      last: true,
      policy: DEFAULT_ANALYSIS_POLICY,
      config,
    });
    expect(scoring.judge).toBe('threshold');
    expect(scoring.verdict.verdict).toBe('PASS');
    expect(scoring.verdict.metrics.map((m) => m.name)).toEqual(['errors']);
    expect(scoring.verdict.reasons).toContain(
      'checkouts: no threshold; not checked by the threshold judge',
    );
  });
});
