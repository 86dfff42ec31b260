import { HEALTHY, completesCheckout, outcome, type Behaviour } from '../sample/behaviour';
import type { BuildProfile } from '../local/local-fleet-driver';

/** One synthesised request: what the instance would have answered, and after how long. */
export interface SynthesisedRequest {
  status: number;
  seconds: number;
  checkout: boolean;
}

/** A build profile as sample-service behaviour (the same defaults the real process applies). */
export function behaviourOf(profile: BuildProfile): Behaviour {
  return {
    errorRate: profile.errorRate ?? HEALTHY.errorRate,
    latencyMs: profile.latencyMs ?? HEALTHY.latencyMs,
    latencySpread: profile.latencySpread ?? HEALTHY.latencySpread,
    ...(profile.checkoutRate !== undefined && { checkoutRate: profile.checkoutRate }),
  };
}

/**
 * Requests a simulated instance "answered" at `rps` since it started, drawn lazily: nothing runs
 * between scrapes; each call to `due()` returns the requests of the time elapsed since the last
 * one (rate × elapsed, the fraction carried over), each decided by the sample service's own
 * `outcome()` so error rate, log-normal latency and checkouts follow the profile exactly.
 */
export class TrafficSynthesiser {
  private last: number;
  private carry = 0;

  constructor(
    private readonly behaviour: Behaviour,
    private readonly rps: number,
    private readonly random: () => number,
    private readonly now: () => number = Date.now,
    /** At most this many requests per call; a long gap is capped rather than stalling a scrape. */
    private readonly maxPerCall = 100_000,
  ) {
    this.last = now();
  }

  due(): SynthesisedRequest[] {
    const now = this.now();
    const exact = (this.rps * Math.max(0, now - this.last)) / 1000 + this.carry;
    this.last = now;
    const count = Math.floor(exact);
    this.carry = exact - count;
    const requests: SynthesisedRequest[] = [];
    for (let i = 0; i < Math.min(count, this.maxPerCall); i++) {
      const { status, delayMs } = outcome(this.behaviour, this.random);
      const checkout = completesCheckout(this.behaviour, status, this.random);
      requests.push({ status, seconds: delayMs / 1000, checkout });
    }
    return requests;
  }
}
