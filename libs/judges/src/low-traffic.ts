import { formatNumber } from './describe';

/**
 * Low-traffic policy: a comparison of canary and baseline needs enough requests in both groups;
 * a service with little traffic gets them by waiting longer, and below a floor it gets a plainer
 * check (the threshold judge on the canary alone) instead of statistics on a handful of requests.
 */
export interface LowTrafficSettings {
  /** Requests each group needs before a comparison is worth making. Default 200. */
  minimumRequests: number;
  /** The window may grow to at most this multiple of the planned window. Default 3 (1–3). */
  maxWindowFactor: number;
}

export const DEFAULT_LOW_TRAFFIC_SETTINGS: LowTrafficSettings = {
  minimumRequests: 200,
  maxWindowFactor: 3,
};

export interface TrafficSoFar {
  canaryRequests: number;
  baselineRequests: number;
  /** Seconds of analysis the counts cover (> 0). */
  elapsedSeconds: number;
  /** The planned analysis window in seconds. */
  windowSeconds: number;
  /** The canary's share of all traffic in percent, when known: used to suggest a larger one. */
  canarySharePercent?: number;
}

export type LowTrafficPolicy = 'normal' | 'extend-window' | 'raise-share' | 'threshold-fallback';

/** What a release allows when extending the window is not enough: a larger canary share. */
export interface ShareRaise {
  /** The most canary and baseline may each take, in percent (at most 50). */
  maxPercent: number;
  /** The share canary and baseline were already raised to in this run, if they were. */
  raisedToPercent?: number;
}

/** A raise covers the estimate from a handful of requests with half as much again. */
const RAISE_MARGIN = 1.5;

export interface LowTrafficDecision {
  policy: LowTrafficPolicy;
  /** The window to use: the planned one, or longer when extended. */
  windowSeconds: number;
  /** Requests per second per group so far (the mean of canary and baseline). */
  ratePerSecond: number;
  /** Estimated seconds from the start until a group has the minimum on average (Infinity: never). */
  secondsToMinimum: number;
  /** Why, for a person; null when traffic is enough (and no share was raised for it). */
  reason: string | null;
  /** `raise-share`: the share canary and baseline each take from now on (percent). */
  sharePercent?: number;
}

/**
 * From the request rate seen so far, how long the step needs to reach the minimum sample, and
 * what to do: nothing when the planned window suffices; extend the window when up to
 * `maxWindowFactor` times the plan suffices; otherwise (below the floor rate of
 * minimumRequests ÷ (window × factor)) fall back to the threshold judge. Pure.
 */
export function lowTrafficPolicy(
  traffic: TrafficSoFar,
  settings: LowTrafficSettings = DEFAULT_LOW_TRAFFIC_SETTINGS,
  raise?: ShareRaise,
): LowTrafficDecision {
  const decision = windowPolicy(traffic, settings);
  return raise ? withShareRaise(decision, traffic, settings, raise) : decision;
}

/**
 * With a share raise allowed, a step that would fall back to the threshold judge first raises
 * canary and baseline (equally) to the share that brings the minimum within the ceiling, when
 * that share is within the cap; the window then runs to the ceiling. Once raised, the window
 * stays open to the ceiling, and only a step still short of the minimum there falls back.
 */
function withShareRaise(
  decision: LowTrafficDecision,
  traffic: TrafficSoFar,
  settings: LowTrafficSettings,
  raise: ShareRaise,
): LowTrafficDecision {
  const cap = Math.min(raise.maxPercent, 50);
  const ceiling = traffic.windowSeconds * settings.maxWindowFactor;
  const raised = raise.raisedToPercent;
  if (raised !== undefined) {
    const note = `the canary and baseline shares were raised to ${raised}% each (cap ${cap}%)`;
    if (decision.policy === 'threshold-fallback' && traffic.elapsedSeconds < ceiling) {
      return {
        ...decision,
        policy: 'raise-share',
        windowSeconds: ceiling,
        sharePercent: raised,
        reason: `low traffic: ${note}; the window runs to its ${ceiling} s ceiling for ${settings.minimumRequests} requests per group`,
      };
    }
    // Even a step that now has enough traffic says how it got it.
    return { ...decision, reason: decision.reason ? `${decision.reason}; ${note}` : note };
  }
  if (decision.policy !== 'threshold-fallback') return decision;
  const needed = shareNeeded(traffic, settings, ceiling);
  if (needed === null) return decision;
  const from = traffic.canarySharePercent!;
  if (needed > cap) {
    return {
      ...decision,
      reason: `${decision.reason}; raising the canary and baseline shares would take ${needed}% each, above the policy's cap of ${cap}%`,
    };
  }
  const to = Math.min(cap, Math.max(from + 1, Math.ceil(needed * RAISE_MARGIN)));
  return {
    ...decision,
    policy: 'raise-share',
    windowSeconds: ceiling,
    sharePercent: to,
    reason: `low traffic (${formatNumber(decision.ratePerSecond)} req/s per group at ${from}%): the policy allows raising the canary and baseline shares up to ${cap}% each, so they are raised from ${from}% to ${to}% to reach ${settings.minimumRequests} requests per group within the ${ceiling} s ceiling`,
  };
}

/**
 * The share (percent each) at which the requests still missing arrive before the ceiling, from
 * the rate so far at the current share; null when there is nothing to estimate from.
 */
export function shareNeeded(
  traffic: TrafficSoFar,
  settings: LowTrafficSettings,
  ceilingSeconds: number,
): number | null {
  const share = traffic.canarySharePercent;
  const perGroup = (traffic.canaryRequests + traffic.baselineRequests) / 2;
  const elapsed = Math.max(traffic.elapsedSeconds, Number.EPSILON);
  const secondsLeft = ceilingSeconds - traffic.elapsedSeconds;
  if (!share || perGroup <= 0 || secondsLeft <= 0) return null;
  const ratePerPercent = perGroup / elapsed / share;
  const missing = Math.max(0, settings.minimumRequests - perGroup);
  return Math.ceil(missing / secondsLeft / ratePerPercent);
}

/** Extend the window when that suffices, else the threshold fallback (no share raise). */
function windowPolicy(traffic: TrafficSoFar, settings: LowTrafficSettings): LowTrafficDecision {
  const { minimumRequests, maxWindowFactor } = settings;
  // The groups' mean: one group far below the other is a routing fault, not low traffic, and
  // must stay a comparison (which then has no data) rather than pass on the canary alone.
  const perGroup = (traffic.canaryRequests + traffic.baselineRequests) / 2;
  const elapsed = Math.max(traffic.elapsedSeconds, Number.EPSILON);
  const rate = perGroup / elapsed;
  const planned = traffic.windowSeconds;
  const ceiling = planned * maxWindowFactor;
  const secondsToMinimum =
    perGroup >= minimumRequests ? elapsed : rate > 0 ? minimumRequests / rate : Infinity;
  const base = { ratePerSecond: rate, secondsToMinimum };
  if (secondsToMinimum <= planned) {
    return { ...base, policy: 'normal', windowSeconds: planned, reason: null };
  }
  const rates = `canary ${formatNumber(traffic.canaryRequests / elapsed)} req/s, baseline ${formatNumber(traffic.baselineRequests / elapsed)} req/s`;
  const estimate = Number.isFinite(secondsToMinimum)
    ? `${minimumRequests} requests per group take about ${Math.ceil(secondsToMinimum)} s`
    : `no requests yet, so ${minimumRequests} requests per group cannot be estimated`;
  if (secondsToMinimum <= ceiling) {
    const windowSeconds = Math.ceil(secondsToMinimum);
    return {
      ...base,
      policy: 'extend-window',
      windowSeconds,
      reason: `low traffic (${rates}): ${estimate}, so the ${planned} s window is extended to ${windowSeconds} s (ceiling ${ceiling} s)`,
    };
  }
  const floor = minimumRequests / ceiling;
  const share = suggestedShare(traffic, rate, minimumRequests);
  return {
    ...base,
    policy: 'threshold-fallback',
    windowSeconds: planned,
    reason:
      `low traffic (${rates}): ${estimate}, beyond the ${ceiling} s ceiling (${maxWindowFactor}× the ${planned} s window); ` +
      `below the floor of ${formatNumber(floor)} req/s per group the canary is judged alone by the threshold judge, not compared with the baseline` +
      (share ? `; a canary share of ${share}% would reach the minimum within the window` : ''),
  };
}

/** The canary share (percent, at most 50: the baseline takes as much) that would suffice. */
function suggestedShare(
  traffic: TrafficSoFar,
  rate: number,
  minimumRequests: number,
): number | null {
  const share = traffic.canarySharePercent;
  if (!share || rate <= 0) return null;
  const needed = Math.ceil((share * minimumRequests) / (rate * traffic.windowSeconds));
  return needed <= 50 ? needed : null;
}

/** Validates settings, naming the field; returns the resolved settings. */
export function resolveLowTrafficSettings(
  partial: Partial<LowTrafficSettings> = {},
): LowTrafficSettings {
  const settings = { ...DEFAULT_LOW_TRAFFIC_SETTINGS, ...partial };
  if (!Number.isInteger(settings.minimumRequests) || settings.minimumRequests < 1)
    throw new RangeError('lowTraffic.minimumRequests must be an integer ≥ 1');
  if (!(settings.maxWindowFactor >= 1 && settings.maxWindowFactor <= 3))
    throw new RangeError('lowTraffic.maxWindowFactor must be between 1 and 3');
  return settings;
}
