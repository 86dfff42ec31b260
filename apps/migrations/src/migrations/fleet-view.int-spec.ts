import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from '@rollgate/app-orchestrator';
import {
  FileTokenStore,
  issueToken,
  setupHttpApp,
  startEventLogTransport,
} from '@rollgate/platform';
import { openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { FleetUnavailableError, HttpFleetView } from './fleet-view';

async function orchestrator(reconciler: 'on' | 'off'): Promise<INestApplication> {
  const tokensFile = tempTokensFile();
  issueToken(tokensFile, { subject: 'migrations', scopes: ['read'] });
  const runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE, {
    ROLLGATE_RECONCILER: reconciler,
  });
  const app = await NestFactory.create(
    OrchestratorAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
    { logger: false },
  );
  setupHttpApp(app, ORCHESTRATOR_SERVICE);
  await app.init();
  await startEventLogTransport(app, runtime);
  await app.listen(0, '127.0.0.1');
  return app;
}

describe('the migrations fleet view against a real orchestrator', () => {
  const apps: INestApplication[] = [];
  afterAll(() => Promise.all(apps.map((app) => app.close())));
  const urlOf = async (reconciler: 'on' | 'off') => {
    const app = await orchestrator(reconciler);
    apps.push(app);
    return app.getUrl();
  };

  it('reads the live instances of a service (none for a service never released)', async () => {
    const url = await urlOf('on');
    await expect(new HttpFleetView(url, undefined).liveInstances('ledger')).resolves.toEqual([]);
    // A wrong address is not an empty fleet.
    const wrong = new HttpFleetView(`${url}/not-the-api`, undefined);
    await expect(wrong.liveInstances('ledger')).rejects.toBeInstanceOf(FleetUnavailableError);
  });

  it('refuses to call the fleet clear when the orchestrator does not run the fleet', async () => {
    const url = await urlOf('off');
    await expect(new HttpFleetView(url, undefined).liveInstances('ledger')).rejects.toThrow(
      /answered 503/,
    );
  });
});
