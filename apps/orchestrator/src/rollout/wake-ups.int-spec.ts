import { ALL_TOPICS, type AnalysisVerdictReachedV1, type EventEnvelope } from '@rollgate/contracts';
import type { EventLog, SubscribeOptions, Subscription } from '@rollgate/event-log';
import { SimulatedFleetDriver } from '@rollgate/fleet';
import { inTransaction, wakeUpOnCommit } from '@rollgate/persistence';
import { EventLogContext, type ServiceRuntime } from '@rollgate/platform';
import { createTestDatabase, openTestRuntime } from '@rollgate/platform/testing';
import { decideRequestRelease, serviceReleases, serviceStreamId } from '@rollgate/releases';
import { ApiDocuments } from '../api-gate/api-documents';
import { ApiGate } from '../api-gate/api-gate';
import { ORCHESTRATOR_PERSISTENCE } from '../app.module';
import { ReleaseEntity } from '../releases/release.entity';
import { FleetManager } from './fleet-manager';
import { Reconciler } from './reconciler';
import { ReleaseSignalsProjection, SIGNALS_WAKE_UP } from './signals.projection';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests a canary of `service` and passes until its first step waits for the router. */
async function untilWaitingOnItsRoute(
  runtime: ServiceRuntime,
  reconciler: Reconciler,
  service: string,
  releaseId: string,
): Promise<string[]> {
  await runtime.eventStore.execute(serviceReleases, serviceStreamId(service), (s) =>
    decideRequestRelease(s, {
      actor: 'user:test',
      causationId: null,
      releaseId,
      service,
      artifact: { name: service, digest: `sha256:${'c'.repeat(64)}` },
      strategy: 'canary',
      plan: { replicas: 1 },
      first: true,
    }),
  );
  await runtime.dataSource.manager.save(
    Object.assign(new ReleaseEntity(), {
      id: releaseId,
      service,
      phase: 'progressing',
      requestedAt: new Date().toISOString(),
      requestedBy: 'user:test',
      summary: '{}',
      lastSequence: 1,
    }),
  );
  const visits: string[] = [];
  const reconcile = Reconciler.prototype.reconcile.bind(reconciler);
  jest.spyOn(reconciler, 'reconcile').mockImplementation(async (visited) => {
    visits.push(visited);
    return reconcile(visited);
  });
  const routeRequested = async () =>
    (await runtime.eventStore.load(`requests:${releaseId}`)).some(
      (e) => e.type === 'RouteChangeRequested',
    );
  // The first step starts its instances and asks the router for a route; then it waits.
  for (let pass = 0; pass < 5 && !(await routeRequested()); pass++) await reconciler.tick();
  expect(await routeRequested()).toBe(true);
  return visits;
}

/** A reconciler on a database of its own; `log` replaces the runtime's event log when given. */
async function openReconciler(
  name: string,
  log?: EventLog,
): Promise<{ runtime: ServiceRuntime; reconciler: Reconciler; close: () => Promise<void> }> {
  const db = await createTestDatabase(name);
  const runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE, {
    ROLLGATE_STORAGE: 'postgres',
    ROLLGATE_DATABASE_URL: db.url,
  });
  const fleet = new FleetManager(new SimulatedFleetDriver());
  const reconciler = new Reconciler(
    runtime.eventStore,
    log ? Object.assign(Object.create(runtime) as ServiceRuntime, { log }) : runtime,
    fleet,
    new ApiGate(new ApiDocuments(runtime.eventStore), fleet, runtime),
  );
  await reconciler.onApplicationBootstrap();
  return {
    runtime,
    reconciler,
    close: async () => {
      await reconciler.beforeApplicationShutdown();
      await fleet.driver.close();
      await runtime.close();
      await db.drop();
    },
  };
}

describe('wake-ups on PostgreSQL: a signal committed by any replica wakes the one that drives the service', () => {
  let runtime: ServiceRuntime;
  let reconciler: Reconciler;
  let close: () => Promise<void>;
  let woken: string[];

  beforeAll(async () => {
    ({ runtime, reconciler, close } = await openReconciler('wake_'));
  }, 30_000);
  afterAll(() => close());

  beforeEach(() => {
    // No release is in the read model, so passes reconcile nothing: every visit is a wake-up.
    woken = [];
    jest.spyOn(reconciler, 'reconcile').mockImplementation((service) => {
      woken.push(service);
      return Promise.resolve();
    });
  });

  it('a verdict folded into the read model wakes the owner at commit', async () => {
    const event = {
      id: '00000000-0000-7000-8000-000000000001',
      type: 'AnalysisVerdictReached',
      version: 1,
      occurredAt: new Date().toISOString(),
      actor: 'service:analysis',
      correlationId: 'r-1',
      causationId: null,
      key: 'checkout',
      data: {
        analysisRunId: 'r-1:analysis:0',
        releaseId: 'r-1',
        service: 'checkout',
        verdict: 'PASS',
        score: 100,
        reasons: [],
      },
    } as EventEnvelope<AnalysisVerdictReachedV1>;
    const logged = { event, position: { topic: 'rollgate.analysis', partition: 0, offset: 0 } };
    await inTransaction(runtime.dataSource, async (manager) => {
      await new ReleaseSignalsProjection().verdictReached(
        event,
        new EventLogContext([{ ...logged, headers: {} }, manager, 'release-signals']),
      );
      await settle(300);
      // Not before the commit: the owner would read a state without the verdict.
      expect(woken).toEqual([]);
    });
    await settle(300);
    expect(woken).toEqual(['checkout']);
  });

  it('a transaction rolled back wakes nobody', async () => {
    await inTransaction(runtime.dataSource, async (manager) => {
      await wakeUpOnCommit(manager, SIGNALS_WAKE_UP, 'payments');
      throw new Error('rolled back');
    }).catch(() => undefined);
    await settle(600);
    expect(woken).toEqual([]);
  });

  it('passes leave a service waiting for its route answer to the wake-up, and look again after 3 s', async () => {
    const service = 'waiting';
    const releaseId = 'waiting-1';
    const visits = await untilWaitingOnItsRoute(runtime, reconciler, service, releaseId);
    const before = visits.length;
    await reconciler.tick();
    await reconciler.tick();
    expect(visits.length).toBe(before);
    // The answer's commit wakes it at once.
    await inTransaction(runtime.dataSource, (manager) =>
      wakeUpOnCommit(manager, SIGNALS_WAKE_UP, service),
    );
    await settle(300);
    expect(visits.length).toBe(before + 1);
    // Should a wake-up be lost, a pass looks again once 3 s went by without a visit.
    await reconciler.tick();
    expect(visits.length).toBe(before + 1);
    await settle(3_000);
    await reconciler.tick();
    expect(visits.length).toBe(before + 2);
  }, 20_000);
});

/**
 * The reconciler's side of a rebalance. Kafka's side (the revocation, the sticky assignment that
 * gives most partitions back) is proven on the broker in kafka-event-log.int-spec; here the
 * owners group is a hand-driven member, so the moment of the rebalance is the test's to choose.
 */
describe('a rebalance that gives the replica its services back', () => {
  let runtime: ServiceRuntime;
  let reconciler: Reconciler;
  let close: () => Promise<void>;
  let rebalancing = true;
  let owners: SubscribeOptions | undefined;

  beforeAll(async () => {
    const handDriven = {
      subscribe: (options: SubscribeOptions): Promise<Subscription> => {
        owners = options;
        return Promise.resolve({
          groupId: options.groupId,
          state: () => 'running',
          crashError: () => undefined,
          assignedPartitions: () => (rebalancing ? [] : options.topics.flatMap(everyPartition)),
          rebalancing: () => rebalancing,
          stop: () => Promise.resolve(),
        });
      },
    } as Partial<EventLog> as EventLog;
    ({ runtime, reconciler, close } = await openReconciler('rebal_', handDriven));
    rebalancing = false;
    owners!.onAssigned?.([]);
  }, 30_000);
  afterAll(() => close());

  it('a wake-up during the rebalance is not lost, and nothing is let go: the service is visited as soon as it is assigned again', async () => {
    const service = 'rebalanced';
    const visits = await untilWaitingOnItsRoute(runtime, reconciler, service, 'rebalanced-1');
    const letGo = jest.spyOn(reconciler as unknown as { letGo: () => Promise<void> }, 'letGo');
    const before = visits.length;
    rebalancing = true;
    // The route answer commits while no replica owns anything.
    await inTransaction(runtime.dataSource, (manager) =>
      wakeUpOnCommit(manager, SIGNALS_WAKE_UP, service),
    );
    await settle(300);
    await reconciler.tick();
    expect(visits.length).toBe(before);
    expect(letGo).not.toHaveBeenCalled();
    // The group gives the partition back: the woken service is visited at once, not after 3 s.
    rebalancing = false;
    owners!.onAssigned?.(owners!.topics.flatMap(everyPartition));
    await settle(300);
    expect(visits.length).toBe(before + 1);
    expect(letGo).not.toHaveBeenCalled();
  }, 20_000);
});

function everyPartition(topic: string): string[] {
  const partitions = ALL_TOPICS.find((t) => t.name === topic)?.partitions ?? 0;
  return Array.from({ length: partitions }, (_, p) => `${topic}:${p}`);
}
