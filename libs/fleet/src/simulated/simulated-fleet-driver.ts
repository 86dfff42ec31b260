import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FleetDriver, FleetInstance, InstanceSpec, ObservedInstance } from '../fleet-driver';
import type { BuildProfile } from '../local/local-fleet-driver';
import { completesCheckout, outcome, prng, type Behaviour } from '../sample/behaviour';
import { createMetrics, type SampleMetrics } from '../sample/metrics';
import { sampleHandler, type SampleIdentity } from '../sample/sample-handler';
import { SIMULATED_OUTCOMES_PATH } from './simulated-users';
import { TrafficSynthesiser, behaviourOf } from './traffic-synthesiser';

export interface SimulatedFleetOptions {
  /** Behaviour per digest (the local fleet's profiles file); unknown digests run healthy. */
  profiles?: ReadonlyMap<string, BuildProfile>;
  /**
   * Requests per second each instance is deemed to answer, synthesised into its /metrics
   * counters at scrape time (ROLLGATE_SIMULATED_RPS); 0: only requests really sent are counted.
   */
  rps?: number;
  /** Seed of the instances' random draws (each instance derives its own). */
  seed?: number;
  now?: () => number;
}

interface SimulatedInstance extends FleetInstance {
  server: Server;
  identity: SampleIdentity;
}

/**
 * ROLLGATE_FLEET=simulated, for scale tests only: each instance is an in-process HTTP listener
 * (127.0.0.1, port 0) that answers /info, /healthz, /metrics and proxied requests with the sample
 * service's own code, without a child process. Its /metrics counters also include requests
 * synthesised at `rps` from the build's profile, computed lazily when scraped (no timer per
 * instance). The router routes to it and the analysis reads it exactly as a real instance.
 */
export class SimulatedFleetDriver implements FleetDriver {
  readonly kind = 'simulated';
  private readonly instances = new Map<string, SimulatedInstance>();
  /** The same instances by service: `observe(service)` runs in every visit of a live release. */
  private readonly byService = new Map<string, Set<SimulatedInstance>>();
  private started = 0;

  constructor(private readonly options: SimulatedFleetOptions = {}) {}

  async start(spec: InstanceSpec): Promise<FleetInstance> {
    const id = `simulated-${spec.service}-${spec.group}-${randomUUID().slice(0, 8)}`;
    const profile = this.options.profiles?.get(spec.digest) ?? {};
    const runs = profile.actuallyRuns ?? { version: spec.version, digest: spec.digest };
    const runsProfile = this.options.profiles?.get(runs.digest) ?? {};
    if (runsProfile.crashesOnStart)
      throw new Error(`simulated instance ${id} exited during start: crash drill`);
    const behaviour = behaviourOf(runsProfile);
    const seed = (this.options.seed ?? Date.now()) + ++this.started * 7919;
    const random = prng(seed);
    const identity: SampleIdentity = {
      instanceId: id,
      service: spec.service,
      version: runs.version,
      group: spec.group,
      digest: runs.digest,
      flags: spec.flags ?? [],
      api: { provides: spec.api?.provides ?? null, consumes: spec.api?.consumes ?? null },
      pid: null,
      startedAt: new Date().toISOString(),
      fleet: 'simulated',
    };
    const metrics = createMetrics(
      { service: spec.service, version: runs.version, group: spec.group },
      runsProfile.metricsNaming ?? 'sample',
    );
    const rps = this.options.rps ?? 0;
    const synthesiser =
      rps > 0
        ? new TrafficSynthesiser(behaviour, rps, prng(seed ^ 0x5bd1e995), this.options.now)
        : null;
    const handle = sampleHandler({
      identity,
      behaviour,
      random,
      metrics,
      beforeScrape: () => {
        for (const r of synthesiser?.due() ?? []) metrics.record(r.status, r.seconds, r.checkout);
      },
    });
    const server = createServer((req, res) =>
      req.url?.startsWith(SIMULATED_OUTCOMES_PATH)
        ? answerBatch(req, res, { behaviour, random, metrics })
        : handle(req, res),
    );
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => done());
    });
    const instance: SimulatedInstance = {
      id,
      service: spec.service,
      group: spec.group,
      intended: { version: spec.version, digest: spec.digest },
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      server,
      identity,
    };
    this.instances.set(id, instance);
    let mine = this.byService.get(spec.service);
    if (!mine) this.byService.set(spec.service, (mine = new Set()));
    mine.add(instance);
    return publicView(instance);
  }

  async stop(instanceId: string): Promise<void> {
    const instance = this.instances.get(instanceId);
    if (!instance) return;
    this.instances.delete(instanceId);
    const mine = this.byService.get(instance.service);
    mine?.delete(instance);
    if (mine?.size === 0) this.byService.delete(instance.service);
    await new Promise<void>((done) => {
      instance.server.close(() => done());
      instance.server.closeAllConnections();
    });
  }

  /**
   * What each instance reports: its identity, read in process (a simulated instance has no
   * process to ask; a Kubernetes driver likewise reads pod status from the API, not from each pod).
   * Asking 2,000 listeners over HTTP would make every whole-fleet observation (the API gate's)
   * cost 2,000 requests. What runs may still differ from what was asked: the `actuallyRuns` drill.
   */
  async observe(service?: string): Promise<ObservedInstance[]> {
    const observed = service ? (this.byService.get(service) ?? []) : this.instances.values();
    return [...observed].map((instance) => {
      const { version, digest, flags, api } = instance.identity;
      return {
        ...publicView(instance),
        reported: { version, digest, flags: [...flags], api: { ...api } },
        healthy: instance.server.listening,
      };
    });
  }

  /** How many simulated instances run (for the bench and logs). */
  size(): number {
    return this.instances.size;
  }

  async close(): Promise<void> {
    await Promise.all([...this.instances.keys()].map((id) => this.stop(id)));
  }
}

function publicView(instance: SimulatedInstance): FleetInstance {
  const { id, service, group, intended, host, port } = instance;
  return { id, service, group, intended, host, port };
}

/** Most requests one batch may ask for (a second of a busy service is far fewer). */
const MAX_BATCH = 10_000;

/**
 * The outcomes of `count` requests of the simulated users (SimulatedUsers, in the router), drawn
 * by the sample service's own `outcome()` and counted in this instance's /metrics as served: one
 * exchange for the batch instead of one per request, and no waiting out each request's latency.
 */
function answerBatch(
  req: IncomingMessage,
  res: ServerResponse,
  instance: { behaviour: Behaviour; random: () => number; metrics: SampleMetrics },
): void {
  const count = Number(new URL(req.url!, 'http://instance').searchParams.get('count'));
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `count must be an integer in [1, ${MAX_BATCH}]` }));
    return;
  }
  const outcomes: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const { status, delayMs } = outcome(instance.behaviour, instance.random);
    instance.metrics.record(
      status,
      delayMs / 1000,
      completesCheckout(instance.behaviour, status, instance.random),
    );
    outcomes.push([status, delayMs]);
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ outcomes }));
}
