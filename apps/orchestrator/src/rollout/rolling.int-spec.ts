import { resolve } from 'node:path';
import type { ReleasePlan, RouteChangeRequestedV1 } from '@rollgate/contracts';
import { fold } from '@rollgate/event-sourcing';
import { LocalFleetDriver } from '@rollgate/fleet';
import type { ServiceRuntime } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import {
  decideRequestRelease,
  serviceReleases,
  serviceStreamId,
  type ServiceReleasesState,
} from '@rollgate/releases';
import { ApiDocuments } from '../api-gate/api-documents';
import { ApiGate } from '../api-gate/api-gate';
import { ORCHESTRATOR_PERSISTENCE } from '../app.module';
import { FleetManager } from './fleet-manager';
import { Reconciler } from './reconciler';
import { RouteAnswerEntity } from './signals.entity';

const origin = { actor: 'user:test', causationId: null };
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const REPLICAS = 3;

describe('a rolling release on the local fleet', () => {
  let runtime: ServiceRuntime;
  let fleet: FleetManager;
  let reconciler: Reconciler;
  /** Instances in the last route the router stand-in confirmed. */
  let routed = new Set<string>();

  beforeAll(async () => {
    runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE);
    fleet = new FleetManager(new LocalFleetDriver({ root: resolve(__dirname, '../../../..') }));
    const gate = new ApiGate(new ApiDocuments(runtime.eventStore), fleet, runtime);
    reconciler = new Reconciler(runtime.eventStore, runtime, fleet, gate);
  });
  afterAll(async () => {
    await fleet.driver.close();
    await runtime.close();
  });

  const state = async (service: string): Promise<ServiceReleasesState> =>
    fold(serviceReleases, await runtime.eventStore.load(serviceStreamId(service)));

  /**
   * Drives one release to its end with a router stand-in that confirms every route, and samples
   * after each pass: serving = healthy instances in the confirmed route, running = every process.
   */
  async function release(
    service: string,
    build: string,
    strategy: 'canary' | 'rolling',
    plan: Partial<ReleasePlan>,
    first = false,
  ) {
    const releaseId = `${service}-${build}`;
    await runtime.eventStore.execute(serviceReleases, serviceStreamId(service), (s) =>
      decideRequestRelease(s, {
        ...origin,
        releaseId,
        service,
        artifact: { name: service, digest: digest(build) },
        strategy,
        plan: { replicas: REPLICAS, ...plan },
        first,
      }),
    );
    const samples: { serving: number; running: number }[] = [];
    const sample = async () => {
      const observed = await fleet.driver.observe(service);
      const serving = observed.filter((o) => o.healthy && routed.has(o.id)).length;
      samples.push({ serving, running: observed.length });
    };
    const answered = new Set<string>();
    while ((await state(service)).active) {
      await reconciler.reconcile(service);
      await sample();
      for (const event of await runtime.eventStore.load(`requests:${releaseId}`)) {
        const route = event.data as RouteChangeRequestedV1;
        if (event.type !== 'RouteChangeRequested' || answered.has(route.requestId)) continue;
        answered.add(route.requestId);
        routed = new Set(route.backends.map((b) => b.instanceId));
        await runtime.dataSource.manager.save(RouteAnswerEntity, {
          requestId: route.requestId,
          releaseId,
          outcome: 'applied',
          reason: null,
        });
        await sample();
      }
    }
    expect(
      (await runtime.eventStore.load(serviceStreamId(service))).map((e) => e.type).at(-1),
    ).toBe('ReleaseSucceeded');
    return samples;
  }

  it.each([
    { maxSurge: 0, maxUnavailable: 1 },
    { maxSurge: 1, maxUnavailable: 0 },
    { maxSurge: 1, maxUnavailable: 1 },
  ])(
    'with maxSurge $maxSurge / maxUnavailable $maxUnavailable serves from replicas - maxUnavailable instances at least, and runs at most replicas + maxSurge',
    async (plan) => {
      const service = `roll${plan.maxSurge}${plan.maxUnavailable}`;
      await release(service, 'a', 'canary', {}, true);
      const samples = await release(service, 'b', 'rolling', plan);
      const serving = samples.map((s) => s.serving);
      // Honoured both ways: never more out of service than allowed, and the allowance is used.
      expect(Math.min(...serving)).toBe(REPLICAS - plan.maxUnavailable);
      expect(Math.max(...samples.map((s) => s.running))).toBeLessThanOrEqual(
        REPLICAS + plan.maxSurge,
      );
      expect(serving.at(-1)).toBe(REPLICAS);
      expect(
        (await fleet.driver.observe(service)).map((o) => [o.reported?.digest, o.healthy]),
      ).toEqual(Array.from({ length: REPLICAS }, () => [digest('b'), true]));
    },
    120_000,
  );
});
