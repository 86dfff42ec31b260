import {
  createJudge,
  lowTrafficPolicy,
  SequentialJudge,
  type JudgeSettings,
  type JudgeVerdict,
  type LowTrafficDecision,
  type LowTrafficSettings,
  type MetricInput,
  type SequentialMetricSettings,
} from '@rollgate/judges';
import type { LowTrafficChoicesV1 } from '@rollgate/contracts';
import {
  builtInSignal,
  configMetrics,
  judgeSettingsFor,
  type CanaryConfig,
} from '../canary-configs/canary-config';
import { measuredValues } from './custom-metrics';
import {
  errorIndicators,
  latencySamples,
  sumOf,
  type GroupSignals,
  type WindowSignals,
} from './signals';

/** How analysis runs judge; every field has a default (see README, "Automated canary analysis"). */
export interface AnalysisPolicy {
  /** This many NODATA intervals in a row end the run as FAIL. */
  maxNodataIntervals: number;
  lowTraffic: LowTrafficSettings;
  /** Bounds the threshold judge checks on the canary alone when traffic is below the floor. */
  fallback: { maxErrorRate: number; maxP99Ms: number };
}

export const DEFAULT_ANALYSIS_POLICY: AnalysisPolicy = {
  maxNodataIntervals: 3,
  lowTraffic: { minimumRequests: 200, maxWindowFactor: 3 },
  fallback: { maxErrorRate: 0.05, maxP99Ms: 1000 },
};

/**
 * Judge settings for the golden signals. Latency is judged per request (rebuilt from the
 * histograms) on a log scale, with +25% as the smallest regression worth catching; saturation
 * has one value per interval, so it needs few samples and absolute steps (0.5 requests in flight).
 * Kayenta, when a run asks for it, tolerates up to +20% mean latency and +50% saturation: with
 * thousands of requests it would otherwise flag a difference of a millisecond between two
 * processes on the same machine. (The close of an inconclusive sequential run tests beyond half
 * of the sequential minimum regressions, for the same reason.)
 */
export function judgeSettings(policy: AnalysisPolicy): JudgeSettings {
  return {
    sequential: {
      metrics: {
        'error-rate': { kind: 'proportion' },
        latency: { kind: 'continuous', scale: 'log', minimumRegression: 0.25 },
        saturation: {
          kind: 'continuous',
          scale: 'linear',
          minimumRegression: 0.5,
          minimumSamples: 3,
          tailQuantiles: [],
        },
      },
    },
    kayenta: {
      metrics: {
        latency: { effectSize: { allowedIncrease: 1.2 } },
        saturation: { effectSize: { allowedIncrease: 1.5 } },
      },
    },
    threshold: {
      conditions: {
        'error-rate': { aggregate: 'mean', max: policy.fallback.maxErrorRate },
        latency: { aggregate: 'p99', max: policy.fallback.maxP99Ms },
      },
    },
  };
}

const side = (intervals: WindowSignals[], group: 'canary' | 'baseline'): GroupSignals[] =>
  intervals.map((interval) => interval[group]);

/**
 * The judge's request for all intervals so far: error rate (one 0/1 per request, critical),
 * latency (one value per request) and saturation (one value per interval). A signal the source
 * does not report at all is left out, with a note, rather than scored as missing forever.
 */
export function goldenSignalMetrics(
  intervals: WindowSignals[],
  forThreshold = false,
): { metrics: MetricInput[]; notes: string[] } {
  const notes: string[] = [];
  const canary = side(intervals, 'canary');
  const baseline = side(intervals, 'baseline');
  const metrics: MetricInput[] = [
    {
      name: 'error-rate',
      baseline: baseline.flatMap(errorIndicators),
      canary: canary.flatMap(errorIndicators),
      direction: 'increase',
      critical: true,
    },
  ];
  const latencyOf = (groups: GroupSignals[]) =>
    groups.flatMap((g) => latencySamples(g.latencyCounts));
  const latency = { baseline: latencyOf(baseline), canary: latencyOf(canary) };
  if (latency.canary.length > 0 || latency.baseline.length > 0) {
    metrics.push({ name: 'latency', ...latency, direction: 'increase' });
  } else if (sumOf(canary.map((g) => g.requests)) > 0) {
    notes.push('latency: the source reports no latency histogram; not scored');
  }
  if (forThreshold) return { metrics, notes };
  const saturationOf = (groups: GroupSignals[]) =>
    groups.flatMap((g) => (g.saturation === null ? [] : [g.saturation]));
  const saturation = { baseline: saturationOf(baseline), canary: saturationOf(canary) };
  if (saturation.canary.length > 0 && saturation.baseline.length > 0) {
    metrics.push({ name: 'saturation', ...saturation, direction: 'increase', weight: 0.5 });
  } else {
    notes.push('saturation: not reported by the source for both groups; not scored');
  }
  return { metrics, notes };
}

/**
 * Sequential settings for a config's own metrics (one value per group per interval, like
 * saturation): continuous, few samples, no tail test, on a log scale when the values are positive
 * (rates and durations change by factors: a checkout rate falling from 20/s to 2/s is -90% however
 * noisy the baseline is; linear when a value is 0 or below). The config's own settings still win.
 */
export const OWN_METRIC_SEQUENTIAL: Partial<SequentialMetricSettings> = {
  kind: 'continuous',
  scale: 'auto',
  minimumSamples: 3,
  tailQuantiles: [],
};

/**
 * The config as the source measured it: a metric whose own query the source ran (its PromQL, on
 * Prometheus) is judged on those values, not on the built-in signal it also names for the
 * embedded source, so the signal's settings do not follow it.
 */
function asMeasured(config: CanaryConfig, measured: Record<string, unknown>): CanaryConfig {
  return {
    ...config,
    metrics: config.metrics.map((metric) =>
      metric.name in measured && builtInSignal(metric.query)
        ? { ...metric, query: { prometheus: metric.query.prometheus } }
        : metric,
    ),
  };
}

function withOwnMetrics(settings: JudgeSettings, config: CanaryConfig): JudgeSettings {
  const own = config.metrics.filter((m) => !builtInSignal(m.query));
  if (own.length === 0) return settings;
  return {
    ...settings,
    sequential: {
      ...settings.sequential,
      metrics: {
        ...settings.sequential?.metrics,
        ...Object.fromEntries(own.map((m) => [m.name, { ...OWN_METRIC_SEQUENTIAL }])),
      },
    },
  };
}

export interface Scoring {
  verdict: JudgeVerdict;
  judge: string;
  lowTraffic: LowTrafficDecision | null;
}

/**
 * Scores every interval so far with the requested judge, after the low-traffic policy had its
 * say: below the floor the threshold judge checks the canary alone. A sequential judge still
 * inconclusive at the end of the window closes it with fixed-horizon tests of the whole window:
 * a two-proportion test on the error counts and Mann-Whitney on latency (a 0/1 error flag has a
 * Hodges-Lehmann shift of 0, so rank tests on it see nothing).
 */
export function scoreIntervals(args: {
  judge: string;
  intervals: WindowSignals[];
  elapsedSeconds: number;
  windowSeconds: number;
  canarySharePercent?: number;
  last: boolean;
  policy: AnalysisPolicy;
  /** The canary config version that judges the run; null or absent: the built-in defaults. */
  config?: CanaryConfig | null;
  /** The release's low-traffic choices; absent: the analysis policy alone decides. */
  choices?: LowTrafficChoicesV1;
  /** The share canary and baseline were raised to earlier in this run, if they were. */
  raisedSharePercent?: number;
}): Scoring {
  const { intervals, policy, last } = args;
  const choices = args.choices ?? {};
  const canaryRequests = sumOf(intervals.map((i) => i.canary.requests));
  const baselineRequests = sumOf(intervals.map((i) => i.baseline.requests));
  const lowTraffic = lowTrafficPolicy(
    {
      canaryRequests,
      baselineRequests,
      elapsedSeconds: args.elapsedSeconds,
      windowSeconds: args.windowSeconds,
      canarySharePercent: args.canarySharePercent,
    },
    {
      minimumRequests: choices.minimumRequests ?? policy.lowTraffic.minimumRequests,
      // Beyond 3× the window the orchestrator's step deadline (3 × stepSeconds + 60 s) would
      // roll the step back before its analysis ends.
      maxWindowFactor: Math.min(3, choices.maxWindowFactor ?? policy.lowTraffic.maxWindowFactor),
    },
    choices.raiseShare && {
      maxPercent: choices.raiseShare.maxPercent,
      raisedToPercent: args.raisedSharePercent,
    },
  );
  const measured = measuredValues(intervals);
  const config = args.config ? asMeasured(args.config, measured) : null;
  const settings = config
    ? judgeSettingsFor(config, withOwnMetrics(judgeSettings(policy), config))
    : judgeSettings(policy);
  const name = lowTraffic.policy === 'threshold-fallback' ? 'threshold' : args.judge;
  const decided = lowTraffic.policy === 'normal' && !lowTraffic.reason ? null : lowTraffic;
  // Even the threshold fallback, which judges the canary alone, needs the baseline to be served:
  // a silent baseline next to a live canary is a routing fault, never grounds to pass.
  if (canaryRequests === 0 || baselineRequests === 0) {
    return {
      judge: name,
      lowTraffic: decided,
      verdict: {
        verdict: 'NODATA',
        score: 0,
        metrics: [],
        reasons: [
          ...(decided?.reason ? [decided.reason] : []),
          'no requests reached the canary or the baseline yet',
        ],
      },
    };
  }
  const golden = goldenSignalMetrics(intervals, name === 'threshold');
  const configured = config ? configMetrics(config, golden.metrics, measured) : null;
  // The threshold fallback checks bounds on the canary: a metric without one is left out, said.
  const unbounded =
    name === 'threshold'
      ? (configured?.metrics ?? [])
          .filter((m) => !settings.threshold?.conditions?.[m.name])
          .map((m) => m.name)
      : [];
  const metrics = (configured?.metrics ?? golden.metrics).filter(
    (m) => !unbounded.includes(m.name),
  );
  const notes = [
    ...golden.notes,
    ...(configured?.notes ?? []),
    ...(unbounded.length > 0
      ? [`${unbounded.join(', ')}: no threshold; not checked by the threshold judge`]
      : []),
  ];
  const request = { metrics };
  const verdict = createJudge(name, settings).judge(request);
  const withNotes = (v: JudgeVerdict, lead: string[] = []): JudgeVerdict => ({
    ...v,
    reasons: [...lead, ...(decided?.reason ? [decided.reason] : []), ...v.reasons, ...notes],
  });
  if (
    name === 'threshold' &&
    last &&
    verdict.verdict === 'PASS' &&
    choices.thresholdFallback === 'confirm'
  ) {
    // The policy trusts the canary-alone check only with a person's confirmation.
    return {
      judge: name,
      lowTraffic: decided,
      verdict: withNotes({ ...verdict, verdict: 'MARGINAL' }, [
        "threshold fallback: the canary stayed within its bounds, but the release's low-traffic policy asks a person to confirm: `rollgate promote` to go on, `rollgate abort` to roll back",
      ]),
    };
  }
  if (!last || name !== 'sequential' || verdict.verdict !== 'MARGINAL') {
    return { judge: name, lowTraffic: decided, verdict: withNotes(verdict) };
  }
  // One look at the complete window: classical tests are valid and far more powerful here.
  const horizon = new SequentialJudge(settings.sequential).judgeWindow(request);
  return {
    judge: 'fixed-horizon',
    lowTraffic: decided,
    verdict: withNotes(horizon, [
      `sequential judge inconclusive at the end of the window; fixed-horizon tests of the whole window (error rate: two-proportion test on the counts; latency and saturation: Mann-Whitney): ${horizon.verdict}`,
    ]),
  };
}
