import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RouteChangeRequestedV1 } from '@rollgate/contracts';
import { fold } from '@rollgate/event-sourcing';
import { LocalFleetDriver, type InstanceSpec } from '@rollgate/fleet';
import { ConcurrencyConflictError } from '@rollgate/persistence';
import { openServiceRuntime, parseConfig, type ServiceRuntime } from '@rollgate/platform';
import { createTestDatabase } from '@rollgate/platform/testing';
import { decideRequestRelease, serviceReleases, serviceStreamId } from '@rollgate/releases';
import { ApiDocuments } from '../api-gate/api-documents';
import { ApiGate } from '../api-gate/api-gate';
import { ORCHESTRATOR_PERSISTENCE } from '../app.module';
import { FleetManager } from './fleet-manager';
import { Reconciler } from './reconciler';
import { AnalysisVerdictEntity, RouteAnswerEntity } from './signals.entity';

const origin = { actor: 'user:test', causationId: null };

/** A local fleet whose starts can be held: a replica stalled in the middle of a pass. */
class HeldFleetDriver extends LocalFleetDriver {
  hold: Promise<void> | undefined;
  override async start(spec: InstanceSpec) {
    await this.hold;
    return super.start(spec);
  }
}
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/**
 * Two orchestrator replicas that both believe they own one service (the moment of a rebalance,
 * stretched over a whole release): every write is fenced on the service stream's version, so
 * each step is started once and the release ends once, whoever wins each race.
 */
describe('two reconcilers driving the same service at once', () => {
  let database: { url: string; drop: () => Promise<void> };
  const replicas: {
    runtime: ServiceRuntime;
    driver: HeldFleetDriver;
    fleet: FleetManager;
    reconciler: Reconciler;
  }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('own_');
    const config = parseConfig({
      ROLLGATE_MODE: 'production',
      ROLLGATE_DATABASE_URL: database.url,
      ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-owners-')),
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    });
    for (let i = 0; i < 2; i++) {
      const runtime = await openServiceRuntime(config, 'orchestrator', ORCHESTRATOR_PERSISTENCE);
      const driver = new HeldFleetDriver({ root: resolve(__dirname, '../../../..') });
      const fleet = new FleetManager(driver);
      const gate = new ApiGate(new ApiDocuments(runtime.eventStore), fleet, runtime);
      replicas.push({
        runtime,
        driver,
        fleet,
        reconciler: new Reconciler(runtime.eventStore, runtime, fleet, gate),
      });
    }
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) {
      await r.fleet.driver.close();
      await r.runtime.close();
    }
    await database?.drop();
  });

  const store = () => replicas[0]!.runtime.eventStore;
  const stream = async (service: string) => store().load(serviceStreamId(service));
  const request = (service: string, build: string, first: boolean) =>
    store().execute(serviceReleases, serviceStreamId(service), (s) =>
      decideRequestRelease(s, {
        ...origin,
        releaseId: `${service}-${build}`,
        service,
        artifact: { name: service, digest: digest(build) },
        strategy: 'rolling',
        plan: { replicas: 2, maxSurge: 1, maxUnavailable: 0 },
        first,
      }),
    );
  const routeRequests = async (releaseId: string) =>
    (await store().load(`requests:${releaseId}`)).filter((e) => e.type === 'RouteChangeRequested');
  const answered = new Set<string>();
  /** The router stand-in: confirms every route either replica asked for. */
  const confirmRoutes = async (releaseId: string) => {
    for (const event of await routeRequests(releaseId)) {
      const route = event.data as RouteChangeRequestedV1;
      if (answered.has(route.requestId)) continue;
      answered.add(route.requestId);
      await replicas[0]!.runtime.dataSource.manager.save(RouteAnswerEntity, {
        requestId: route.requestId,
        releaseId,
        outcome: 'applied',
        reason: null,
      });
    }
  };
  let refused = 0;
  /** One pass of a replica; a pass refused by the fence is counted, anything else fails. */
  const pass = (replica: number, service: string) =>
    replicas[replica]!.reconciler.reconcile(service).catch((error: unknown) => {
      if (!(error instanceof ConcurrencyConflictError)) throw error;
      refused++;
    });
  const release = async (service: string) => fold(serviceReleases, await stream(service)).active;
  async function drive(
    service: string,
    releaseId: string,
    who: number[],
    until = () => release(service).then((r) => r === null),
  ) {
    for (let i = 0; i < 400 && !(await until()); i++) {
      await Promise.all(who.map((r) => pass(r, service)));
      await confirmRoutes(releaseId);
    }
  }

  it('refuses every write of a stalled pass once the other owner moved the release on', async () => {
    const service = `stale-${randomUUID().slice(0, 6)}`;
    await request(service, 'a', true);
    await drive(service, `${service}-a`, [1]);
    await request(service, 'b', false);
    const releaseId = `${service}-b`;
    // Replica 0 begins a pass and stalls while it starts an instance (a long GC, a lost rebalance).
    let resume!: () => void;
    replicas[0]!.driver.hold = new Promise<void>((r) => (resume = r));
    const stalled = replicas[0]!.reconciler.reconcile(service);
    // Meanwhile replica 1 owns the service and moves the release past that step.
    await drive(service, releaseId, [1], async () => ((await release(service))?.step ?? -1) >= 1);
    const routesBefore = (await routeRequests(releaseId)).length;
    const versionBefore = (await stream(service)).length;
    resume();
    await expect(stalled).rejects.toBeInstanceOf(ConcurrencyConflictError);
    // The stale pass asked the router for nothing and decided nothing.
    expect((await routeRequests(releaseId)).length).toBe(routesBefore);
    expect((await stream(service)).length).toBe(versionBefore);
    replicas[0]!.driver.hold = undefined;
  }, 120_000);

  it('a replica that takes a service over decides a verdict already in before it starts any instance', async () => {
    const service = `verdict-${randomUUID().slice(0, 6)}`;
    await request(service, 'a', true);
    await drive(service, `${service}-a`, [1]);
    const releaseId = `${service}-b`;
    await store().execute(serviceReleases, serviceStreamId(service), (s) =>
      decideRequestRelease(s, {
        ...origin,
        releaseId,
        service,
        artifact: { name: service, digest: digest('b') },
        strategy: 'canary',
        plan: { replicas: 1, canarySteps: [50], stepSeconds: 60 },
        first: false,
      }),
    );
    const analysing = async () =>
      (await store().load(`requests:${releaseId}`)).some((e) => e.type === 'AnalysisRequested');
    await drive(service, releaseId, [1], analysing);
    expect(await analysing()).toBe(true);
    // The analysis judged replica 1's instances; then replica 1 went away with them.
    await replicas[0]!.runtime.dataSource.manager.save(AnalysisVerdictEntity, {
      analysisRunId: `${releaseId}:analysis:0`,
      releaseId,
      verdict: 'PASS',
      reasons: JSON.stringify(['every metric within bounds']),
    });
    // Replica 0 has none of the service's instances, and starting one now would take forever.
    replicas[0]!.driver.hold = new Promise<void>(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      const visit = await Promise.race([
        pass(0, service).then(() => 'decided'),
        new Promise((r) => (timer = setTimeout(() => r('stuck starting instances'), 15_000))),
      ]);
      expect(visit).toBe('decided');
      const completed = (await stream(service)).filter(
        (e) => e.type === 'ReleaseStepCompleted' && e.correlationId === releaseId,
      );
      expect(completed.map((e) => (e.data as { step: number }).step)).toEqual([0]);
    } finally {
      clearTimeout(timer);
      replicas[0]!.driver.hold = undefined;
    }
  }, 120_000);

  it('starts each step once and ends the release once when both drive it all along', async () => {
    const service = `race-${randomUUID().slice(0, 6)}`;
    await request(service, 'a', true);
    await drive(service, `${service}-a`, [0, 1]);
    await request(service, 'b', false);
    await drive(service, `${service}-b`, [0, 1]);

    const events = (await stream(service)).filter((e) => e.correlationId === `${service}-b`);
    const started = events
      .filter((e) => e.type === 'ReleaseStepStarted')
      .map((e) => (e.data as { step: number }).step);
    expect(started).toEqual(started.map((_, i) => i));
    expect(started.length).toBeGreaterThan(1);
    expect(events.filter((e) => e.type === 'ReleaseSucceeded')).toHaveLength(1);
    const completed = events
      .filter((e) => e.type === 'ReleaseStepCompleted')
      .map((e) => (e.data as { step: number }).step);
    expect(new Set(completed).size).toBe(completed.length);
    console.log(`two owners: ${refused} passes refused by the fence`);
  }, 180_000);
});
