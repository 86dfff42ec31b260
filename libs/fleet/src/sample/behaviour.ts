/** How a build of the sample service behaves: the knobs that make a bad build really bad. */
export interface Behaviour {
  /** Probability in [0, 1] that a request answers 500. */
  errorRate: number;
  /** Median latency in milliseconds. */
  latencyMs: number;
  /** Log-normal spread of the latency (sigma); 0 means constant. */
  latencySpread: number;
  /**
   * Probability in [0, 1] that a successful request completes a checkout (the business counter
   * `checkout_completed_total`); absent or 0: the build never counts one.
   */
  checkoutRate?: number;
}

/** Whether a request completes a checkout: only successful ones can. */
export function completesCheckout(
  behaviour: Behaviour,
  status: number,
  random: () => number,
): boolean {
  const rate = behaviour.checkoutRate ?? 0;
  return status < 500 && rate > 0 && random() < rate;
}

export const HEALTHY: Behaviour = { errorRate: 0.001, latencyMs: 20, latencySpread: 0.3 };

/** Small seeded PRNG (mulberry32): behaviour is random per request but reproducible per seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decides one request's outcome: status and delay. Pure given the random source. */
export function outcome(
  behaviour: Behaviour,
  random: () => number,
): { status: number; delayMs: number } {
  const failed = random() < behaviour.errorRate;
  // Box-Muller: a standard normal from two uniforms, then log-normal around the median.
  const u = Math.max(random(), Number.EPSILON);
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  const delayMs = behaviour.latencyMs * Math.exp(behaviour.latencySpread * normal);
  return { status: failed ? 500 : 200, delayMs };
}

export function parseBehaviour(env: Readonly<Record<string, string | undefined>>): Behaviour {
  const number = (key: string, fallback: number, min: number, max: number) => {
    const raw = env[key];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`${key} must be a number in [${min}, ${max}], got '${raw}'`);
    }
    return value;
  };
  return {
    errorRate: number('SAMPLE_ERROR_RATE', HEALTHY.errorRate, 0, 1),
    latencyMs: number('SAMPLE_LATENCY_MS', HEALTHY.latencyMs, 0, 60_000),
    latencySpread: number('SAMPLE_LATENCY_SPREAD', HEALTHY.latencySpread, 0, 5),
    ...(env['SAMPLE_CHECKOUT_RATE'] !== undefined && {
      checkoutRate: number('SAMPLE_CHECKOUT_RATE', 0, 0, 1),
    }),
  };
}

/**
 * The metric names a build exposes: `sample` (the built-in names the Prometheus source reads),
 * `micrometer` (`http_server_requests_seconds`, as a Spring Boot service would), or `both`.
 */
export type MetricsNaming = 'sample' | 'micrometer' | 'both';

export function parseMetricsNaming(
  env: Readonly<Record<string, string | undefined>>,
): MetricsNaming {
  const raw = env['SAMPLE_METRICS_NAMING'] ?? 'sample';
  if (raw === 'sample' || raw === 'micrometer' || raw === 'both') return raw;
  throw new Error(`SAMPLE_METRICS_NAMING must be sample, micrometer or both, got '${raw}'`);
}
