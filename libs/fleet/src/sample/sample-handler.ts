import type { IncomingMessage, ServerResponse } from 'node:http';
import { completesCheckout, outcome, type Behaviour } from './behaviour';
import type { SampleMetrics } from './metrics';

/** What a sample-service instance says it is at GET /info. */
export interface SampleIdentity {
  instanceId: string;
  service: string;
  version: string;
  group: string;
  digest: string;
  flags: string[];
  api: { provides: string | null; consumes: string | null };
  /** The process id (a real instance) or null (a simulated one, which has no process). */
  pid: number | null;
  startedAt: string;
  /** `simulated` for the simulated fleet's in-process instances; absent for real processes. */
  fleet?: 'simulated';
}

export interface SampleHandlerOptions {
  identity: SampleIdentity;
  behaviour: Behaviour;
  random: () => number;
  metrics: SampleMetrics;
  /** Called before each /metrics exposition is rendered (the simulated fleet synthesises here). */
  beforeScrape?: () => void;
}

/**
 * The sample service's HTTP behaviour, shared by the real process (apps/sample-service) and the
 * simulated fleet's in-process instances: /info, /healthz, /metrics, and any other path answered
 * after the build's latency with the build's error rate.
 */
export function sampleHandler(options: SampleHandlerOptions) {
  const { identity, behaviour, random, metrics } = options;
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/info') return json(res, 200, { ...identity, behaviour });
    if (req.url === '/healthz') return json(res, 200, { status: 'ok' });
    if (req.url === '/metrics') {
      options.beforeScrape?.();
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    const done = metrics.track();
    const { status, delayMs } = outcome(behaviour, random);
    const checkout = completesCheckout(behaviour, status, random);
    setTimeout(() => {
      done(status, checkout);
      if (req.headers['x-rollgate-synthetic'] === '1') metrics.countSynthetic(status);
      json(res, status, {
        service: identity.service,
        version: identity.version,
        instanceId: identity.instanceId,
        user: req.headers['x-user-id'] ?? null,
        ok: status < 500,
      });
    }, delayMs);
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
