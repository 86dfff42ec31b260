import { resolve } from 'node:path';
import { LocalFleetDriver } from '@rollgate/fleet';
import type { ServiceRuntime } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import { ApiDocuments } from '../api-gate/api-documents';
import { ApiGate } from '../api-gate/api-gate';
import { ORCHESTRATOR_PERSISTENCE } from '../app.module';
import { ReleaseEntity } from '../releases/release.entity';
import { FleetManager } from './fleet-manager';
import { Reconciler } from './reconciler';

describe('a reconcile pass over many services', () => {
  let runtime: ServiceRuntime;
  let fleet: FleetManager;
  let reconciler: Reconciler;
  let visited: string[];

  beforeAll(async () => {
    runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE);
    fleet = new FleetManager(new LocalFleetDriver({ root: resolve(__dirname, '../../../..') }));
    const gate = new ApiGate(new ApiDocuments(runtime.eventStore), fleet, runtime);
    reconciler = new Reconciler(runtime.eventStore, runtime, fleet, gate);
    const row = (service: string, phase: string, n: number): ReleaseEntity =>
      Object.assign(new ReleaseEntity(), {
        id: `${service}-${n}`,
        service,
        phase,
        requestedAt: new Date().toISOString(),
        requestedBy: 'user:test',
        summary: '{}',
        lastSequence: n,
      });
    await runtime.dataSource.manager.save([
      row('pass-done', 'succeeded', 1),
      row('pass-done', 'rolled-back', 2),
      row('pass-live', 'progressing', 3),
      row('pass-broken', 'paused', 4),
    ]);
  });
  afterAll(async () => {
    await fleet.driver.close();
    await runtime.close();
  });

  beforeEach(() => {
    // Counts the services each pass drives; one of them fails every time.
    const reconcile = Reconciler.prototype.reconcile.bind(reconciler);
    jest.spyOn(reconciler, 'reconcile').mockImplementation(async (service) => {
      visited.push(service);
      if (service === 'pass-broken') throw new Error('the router is down');
      return reconcile(service);
    });
  });

  const pass = async () => {
    visited = [];
    await reconciler.tick();
    return visited.sort();
  };

  it('visits a service without an active release once, then only services with one', async () => {
    expect(await pass()).toEqual(['pass-broken', 'pass-done', 'pass-live']);
    expect(await pass()).toEqual(['pass-broken', 'pass-live']);
  });

  it('goes on with the other services when one fails, and passes again', async () => {
    await expect(pass()).resolves.toContain('pass-live');
    expect(await pass()).toEqual(['pass-broken', 'pass-live']);
  });
});
