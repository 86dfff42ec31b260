import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AnalysisIntervalScoredV1,
  AnalysisRequestedV1,
  AnalysisVerdictReachedV1,
  EventEnvelope,
} from '@rollgate/contracts';
import { EventLogContext, type ServiceRuntime } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import { JUDGE_FROM_CANARY_CONFIG } from '@rollgate/contracts';
import { ANALYSIS_PERSISTENCE } from '../app.module';
import { CanaryConfigsService } from '../canary-configs/canary-configs.service';
import { AnalysisRequestHandler, AnalysisRunner } from './analysis-runner';
import { OrchestratorFleetClock, RouterStatsSource } from './metric-source';
import { DEFAULT_ANALYSIS_POLICY } from './scoring';
import { LATENCY_BOUNDS_MS, bucketOf } from './signals';

/** What the router would report for one group: cumulative counters and a latency histogram. */
interface GroupCounters {
  requests: number;
  errors: number;
  counts: number[];
  sumMs: number;
}

const fresh = (): GroupCounters => ({
  requests: 0,
  errors: 0,
  counts: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
  sumMs: 0,
});

/** A real HTTP server in the router's shape, whose counters the test moves forward. */
class FakeRouterStats {
  groups: Record<'canary' | 'baseline', GroupCounters> = { canary: fresh(), baseline: fresh() };
  epoch = 'life-1';
  /** The route as the router restored or confirmed it, and when the fleet's life began. */
  canaryIds = ['c1'];
  appliedAt: string | null = null;
  fleetStartedAt = new Date(0).toISOString();
  /** How long each answer takes, and the most requests seen in flight at once. */
  delayMs = 0;
  maxInFlight = 0;
  private inFlight = 0;
  server!: Server;

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      setTimeout(() => {
        this.inFlight--;
        this.answer(req.url, res);
      }, this.delayMs);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private answer(url: string | undefined, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url?.endsWith('/stats')) {
      const groups = Object.fromEntries(
        Object.entries(this.groups).map(([name, g]) => [
          name,
          {
            requests: g.requests,
            errors: g.errors,
            latency: { counts: g.counts, sumMs: g.sumMs },
          },
        ]),
      );
      res.end(JSON.stringify({ epoch: this.epoch, groups }));
    } else if (url?.startsWith('/fleet/instances')) {
      res.end(JSON.stringify({ fleetStartedAt: this.fleetStartedAt, instances: [] }));
    } else {
      const canary = this.canaryIds.map((id) => ({ id }));
      const backends = { canary, baseline: [{ id: 'b1' }] };
      res.end(JSON.stringify({ backends, appliedAt: this.appliedAt }));
    }
  }

  /** The data plane restarts: a new epoch, its counters from zero. */
  restart(): void {
    this.epoch = 'life-2';
    this.groups = { canary: fresh(), baseline: fresh() };
  }

  /** `requests` more requests of `latencyMs` each, `errors` of them 5xx. */
  serve(group: 'canary' | 'baseline', requests: number, latencyMs: number, errors = 0): void {
    const g = this.groups[group];
    g.requests += requests;
    g.errors += errors;
    g.counts[bucketOf(latencyMs)]! += requests;
    g.sumMs += requests * latencyMs;
  }
}

let sequence = 0;
function requested(data: Partial<AnalysisRequestedV1>): EventEnvelope {
  const runId = `run-${++sequence}`;
  return {
    id: `00000000-0000-7000-8000-${String(sequence).padStart(12, '0')}`,
    type: 'AnalysisRequested',
    version: 1,
    occurredAt: new Date().toISOString(),
    actor: 'service:orchestrator',
    correlationId: `release-${sequence}`,
    causationId: null,
    key: 'checkout',
    data: {
      analysisRunId: runId,
      releaseId: `release-${sequence}`,
      service: 'checkout',
      step: 0,
      intervalSeconds: 1,
      maxIntervals: 3,
      judge: 'sequential',
      ...data,
    },
  } as EventEnvelope;
}

describe('analysis runner on a real runtime and a router over HTTP', () => {
  let runtime: ServiceRuntime;
  let router: FakeRouterStats;
  let runner: AnalysisRunner;
  let handler: AnalysisRequestHandler;
  let source: RouterStatsSource;
  let configs: CanaryConfigsService;

  beforeEach(async () => {
    runtime = await openTestRuntime('analysis', ANALYSIS_PERSISTENCE);
    router = new FakeRouterStats();
    const url = await router.listen();
    // The fake answers for the orchestrator's fleet too.
    source = new RouterStatsSource(url, new OrchestratorFleetClock(url));
    configs = new CanaryConfigsService(runtime);
    handler = new AnalysisRequestHandler(source, configs);
    runner = new AnalysisRunner(
      runtime.eventStore,
      runtime,
      source,
      DEFAULT_ANALYSIS_POLICY,
      configs,
    );
  });

  afterEach(async () => {
    router.server.close();
    await runtime.close();
  });

  const start = async (data: Partial<AnalysisRequestedV1> = {}) => {
    const event = requested(data);
    const logged = {
      event,
      position: { topic: 'rollgate.analysis', partition: 0, offset: 0 },
      headers: {},
    };
    await handler.requested(
      event as EventEnvelope<AnalysisRequestedV1>,
      new EventLogContext([logged, runtime.dataSource.manager, 'analysis-requests']),
    );
    return (event.data as AnalysisRequestedV1).analysisRunId;
  };

  /** Waits out the next interval, then lets the runner score it. */
  const nextInterval = async () => {
    await new Promise((r) => setTimeout(r, 1_050));
    await runner.tick();
  };

  const history = async (runId: string) => {
    const events = await runtime.eventStore.load(`analysis:${runId}`);
    return {
      intervals: events
        .filter((e) => e.type === 'AnalysisIntervalScored')
        .map((e) => e.data as AnalysisIntervalScoredV1),
      verdict: events.find((e) => e.type === 'AnalysisVerdictReached')?.data as
        AnalysisVerdictReachedV1 | undefined,
    };
  };

  it('scores open runs side by side: a slow metric source does not queue every run behind one', async () => {
    const runIds = await Promise.all(Array.from({ length: 6 }, () => start()));
    router.serve('baseline', 300, 20);
    router.serve('canary', 300, 20);
    router.delayMs = 200;
    router.maxInFlight = 0;
    await nextInterval();
    // Each run reads the router (stats, route, fleet); one at a time would never overlap.
    expect(router.maxInFlight).toBeGreaterThanOrEqual(6);
    for (const runId of runIds) expect((await history(runId)).intervals).toHaveLength(1);
  });

  it('fails a canary on latency alone, with the latency reason and p50/p99 in the interval', async () => {
    const runId = await start();
    router.serve('baseline', 300, 20);
    router.serve('canary', 300, 80);
    await nextInterval();
    const { intervals, verdict } = await history(runId);
    expect(verdict).toMatchObject({ verdict: 'FAIL' });
    expect(intervals[0]!.canary).toMatchObject({ requests: 300, errors: 0, p50Ms: 75 });
    expect(intervals[0]!.baseline.p50Ms).toBe(17.5);
    expect(intervals[0]!.canary.saturation).toBeGreaterThan(intervals[0]!.baseline.saturation! * 3);
    expect(intervals[0]!.reasons.join('\n')).toMatch(/^latency: High: /m);
    expect(intervals[0]!.reasons.join('\n')).toMatch(/^error-rate: (Pass|Inconclusive)/m);
  });

  const serveBoth = (requests: number) => {
    router.serve('baseline', requests, 20);
    router.serve('canary', requests, 20);
  };

  it('discards the interval across a data-plane restart, never NODATA, then carries on', async () => {
    const runId = await start({ maxIntervals: 5 });
    serveBoth(100);
    await nextInterval();
    router.restart();
    // More than before the restart: only the epoch tells these counters began again.
    serveBoth(150);
    await nextInterval();
    serveBoth(100);
    await nextInterval();
    const { intervals } = await history(runId);
    expect(intervals.map((i) => [i.interval, i.verdict === 'NODATA', i.canary.requests])).toEqual([
      [0, false, 100],
      [1, false, 100],
    ]);
  });

  it('scores nothing on a route restored from before the fleet restarted, until new instances are routed', async () => {
    const runId = await start({ maxIntervals: 6 });
    router.appliedAt = new Date(Date.now() - 10_000).toISOString();
    serveBoth(100);
    await nextInterval();
    // The host dies with its fleet: the router restores the old route, whose instances are gone.
    router.restart();
    router.fleetStartedAt = new Date().toISOString();
    const refused = () => {
      router.serve('baseline', 100, 1, 100);
      router.serve('canary', 100, 1, 100);
    };
    refused();
    await nextInterval();
    refused();
    await nextInterval();
    expect((await history(runId)).intervals).toHaveLength(1);
    // The orchestrator starts new instances and routes to them.
    router.canaryIds = ['c2'];
    router.appliedAt = new Date().toISOString();
    serveBoth(100);
    await nextInterval();
    serveBoth(100);
    await nextInterval();
    const { intervals } = await history(runId);
    expect(intervals.map((i) => [i.interval, i.canary.requests, i.canary.errors])).toEqual([
      [0, 100, 0],
      [1, 100, 0],
    ]);
  });

  it('after its own restart, discards the interval it missed and scores no backlog of them', async () => {
    const runId = await start({ maxIntervals: 5 });
    serveBoth(100);
    await nextInterval();
    // Down for three intervals, while users keep coming.
    serveBoth(300);
    await new Promise((r) => setTimeout(r, 3_100));
    runner = new AnalysisRunner(
      runtime.eventStore,
      runtime,
      source,
      DEFAULT_ANALYSIS_POLICY,
      configs,
    );
    await runner.tick();
    await runner.tick();
    expect((await history(runId)).intervals).toHaveLength(1);
    serveBoth(100);
    await nextInterval();
    const { intervals } = await history(runId);
    expect(intervals.map((i) => [i.interval, i.canary.requests])).toEqual([
      [0, 100],
      [1, 100],
    ]);
  });

  it('extends the window for a slow service instead of closing it after the planned intervals', async () => {
    // 50 requests a second per group: 200 take 4 s, the plan is 2 intervals of 1 s.
    const runId = await start({ maxIntervals: 2 });
    for (let i = 0; i < 4; i++) {
      router.serve('baseline', 50, 20);
      router.serve('canary', 50, 20);
      await nextInterval();
    }
    const { intervals, verdict } = await history(runId);
    expect(intervals.length).toBeGreaterThan(2);
    expect(intervals[0]!.reasons[0]).toMatch(/window is extended to 4 s \(ceiling 6 s\)/);
    if (verdict) expect(verdict.verdict).not.toBe('FAIL');
  });

  it('judges every release with the canary config version in force when it started', async () => {
    const config = (judge: string) => ({
      apiVersion: 'rollgate/v1',
      kind: 'CanaryConfig',
      metrics: [
        {
          name: 'errors',
          query: { embedded: 'error-rate' },
          direction: 'increase',
          critical: true,
          thresholds: { max: 0.05 },
        },
        {
          name: 'latency',
          query: { embedded: 'latency' },
          direction: 'increase',
          thresholds: { aggregate: 'p99', max: 1000 },
        },
      ],
      judge: { name: judge },
    });
    const fromConfig = { judge: JUDGE_FROM_CANARY_CONFIG };
    const builtIn = await start(fromConfig);
    await configs.apply('checkout', config('sequential'), 'user:alice');
    const startedBefore = new Date().toISOString();
    const before = await start({ ...fromConfig, releaseStartedAt: startedBefore });
    await new Promise((r) => setTimeout(r, 5));
    await configs.apply('checkout', config('threshold'), 'user:bob');
    // The next step of the release that started before the change, and a release started after.
    const nextStep = await start({ ...fromConfig, releaseStartedAt: startedBefore, step: 1 });
    const after = await start({ ...fromConfig, releaseStartedAt: new Date().toISOString() });
    serveBoth(300);
    await nextInterval();

    const first = async (runId: string) => (await history(runId)).intervals[0]!;
    expect(await first(builtIn)).toMatchObject({ judge: 'sequential' });
    expect((await first(builtIn)).canaryConfig).toBeUndefined();
    for (const runId of [before, nextStep])
      expect(await first(runId)).toMatchObject({
        judge: 'sequential',
        canaryConfig: { name: 'checkout', version: 1 },
      });
    const judgedAfter = await first(after);
    expect(judgedAfter).toMatchObject({
      judge: 'threshold',
      canaryConfig: { name: 'checkout', version: 2 },
    });
    // The config's metric names and bounds judged it, not the built-in signal names.
    expect(judgedAfter.reasons.join('\n')).toMatch(/^errors: Pass: /m);
    const changes = await runtime.eventStore.load('canary-config-checkout');
    expect(changes.map((e) => [e.type, e.actor])).toEqual([
      ['CanaryConfigChanged', 'user:alice'],
      ['CanaryConfigChanged', 'user:bob'],
    ]);
    expect(changes[1]!.data).toMatchObject({
      version: 2,
      before: { judge: { name: 'sequential' } },
      after: { judge: { name: 'threshold' } },
    });

    // The kayenta judge named by a config judges a run too, with the config's metrics.
    await configs.apply('checkout', config('kayenta'), 'user:carol');
    const kayenta = await start({ ...fromConfig, releaseStartedAt: new Date().toISOString() });
    serveBoth(300);
    await nextInterval();
    const judgedByKayenta = await first(kayenta);
    expect(judgedByKayenta).toMatchObject({
      judge: 'kayenta',
      canaryConfig: { name: 'checkout', version: 3 },
    });
    expect(judgedByKayenta.reasons.join('\n')).toMatch(/^errors: \w+: /m);

    // A release that names a shared config is judged by it, not by the one named after its service.
    await configs.apply('shared-http', config('threshold'), 'user:dave');
    const shared = await start({
      ...fromConfig,
      canaryConfig: 'shared-http',
      releaseStartedAt: new Date().toISOString(),
    });
    serveBoth(300);
    await nextInterval();
    expect(await first(shared)).toMatchObject({
      judge: 'threshold',
      canaryConfig: { name: 'shared-http', version: 1 },
    });
  });
});
