import { resolve } from 'node:path';
import { ServiceUnavailableException } from '@nestjs/common';
import { LocalFleetDriver } from '@rollgate/fleet';
import { openTestRuntime } from '@rollgate/platform/testing';
import type { ServiceRuntime } from '@rollgate/platform';
import {
  decideAdvance,
  decideCompleteStep,
  decideRequestRelease,
  serviceReleases,
  serviceStreamId,
  type ServiceReleasesState,
} from '@rollgate/releases';
import type { Decision } from '@rollgate/event-sourcing';
import { ORCHESTRATOR_PERSISTENCE } from '../app.module';
import { FleetManager } from './fleet-manager';
import { ServicesController } from './services.controller';

const origin = { actor: 'user:test', causationId: null };
const digest = `sha256:${'e'.repeat(64)}`;

describe('GET /services/:name fails safe', () => {
  let runtime: ServiceRuntime;
  let controller: ServicesController;

  beforeAll(async () => {
    runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE);
    // A fleet with nothing started yet: the moment right after an orchestrator restart.
    const fleet = new FleetManager(
      new LocalFleetDriver({ root: resolve(__dirname, '../../../..') }),
    );
    controller = new ServicesController(fleet, runtime.eventStore, runtime);
  });
  afterAll(() => runtime.close());

  const decide = (service: string, decision: (s: ServiceReleasesState) => Decision) =>
    runtime.eventStore.execute(serviceReleases, serviceStreamId(service), decision);

  it('answers 503, not an empty fleet, for a stable service whose instances are not known yet', async () => {
    await decide('ledger', (s) =>
      decideRequestRelease(s, {
        ...origin,
        releaseId: 'r0',
        service: 'ledger',
        artifact: { name: 'ledger', digest },
        strategy: 'canary',
        first: true,
      }),
    );
    await decide('ledger', (s) => decideAdvance(s, 'r0', origin));
    await decide('ledger', (s) => decideCompleteStep(s, 'r0', 0, 'healthy', origin));
    await decide('ledger', (s) => decideAdvance(s, 'r0', origin));

    await expect(controller.service('ledger')).rejects.toThrow(ServiceUnavailableException);
    await expect(controller.service('ledger')).rejects.toThrow(/fleet of ledger is not known yet/);
    // A service never released has nothing running: that is a real, empty answer.
    await expect(controller.service('never-released')).resolves.toMatchObject({
      stable: null,
      instances: [],
    });
  });
});
