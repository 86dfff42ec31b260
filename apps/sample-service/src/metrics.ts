import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets (seconds): the same bounds as the embedded proxy's histogram, 1 ms to 10 s. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface MetricLabels {
  service: string;
  version: string;
  /** The instance's role in the release: stable, baseline, canary, blue or green. */
  group: string;
}

/**
 * Time-weighted requests in flight: integrates the in-flight count over time, so each read gives
 * the mean since the previous read (Little's law), not whatever happened to be in flight at the
 * instant of a scrape.
 */
export class InFlightMeter {
  private inFlight = 0;
  private area = 0;
  private since: number;
  private lastChange: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.since = this.lastChange = now();
  }

  private advance(): void {
    const now = this.now();
    this.area += this.inFlight * (now - this.lastChange);
    this.lastChange = now;
  }

  started(): void {
    this.advance();
    this.inFlight++;
  }

  finished(): void {
    this.advance();
    this.inFlight--;
  }

  /** Mean in flight since the previous call (the current count when no time passed). */
  meanSinceLastRead(): number {
    this.advance();
    const elapsed = this.lastChange - this.since;
    const mean = elapsed > 0 ? this.area / elapsed : this.inFlight;
    this.area = 0;
    this.since = this.lastChange;
    return mean;
  }
}

/** The sample service's Prometheus metrics: requests by status, latency, saturation. */
export function createMetrics(labels: MetricLabels) {
  const registry = new Registry();
  registry.setDefaultLabels({ ...labels });
  const requests = new Counter({
    name: 'sample_requests_total',
    help: 'Requests answered, by HTTP status',
    labelNames: ['status'],
    registers: [registry],
  });
  // Series exist from the start at 0: Prometheus' increase() cannot count the requests before a
  // series' first scrape, so a series born with the first error would hide those errors.
  for (const status of ['200', '500']) requests.inc({ status }, 0);
  const duration = new Histogram({
    name: 'sample_request_duration_seconds',
    help: 'Time from request to response',
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const meter = new InFlightMeter();
  new Gauge({
    name: 'sample_in_flight_requests',
    help: 'Mean requests in flight since the previous scrape (saturation)',
    registers: [registry],
    collect() {
      this.set(meter.meanSinceLastRead());
    },
  });
  return {
    registry,
    /** Call when a request arrives; the returned function when it is answered. */
    track(): (status: number) => void {
      meter.started();
      const stop = duration.startTimer();
      return (status) => {
        meter.finished();
        stop();
        requests.inc({ status: String(status) });
      };
    },
  };
}
