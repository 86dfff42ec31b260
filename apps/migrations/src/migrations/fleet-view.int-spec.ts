import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from '@rollgate/app-orchestrator';
import { FileTokenStore, issueToken, setupHttpApp } from '@rollgate/platform';
import { openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { FleetUnavailableError, HttpFleetView } from './fleet-view';

describe('the migrations fleet view against a real orchestrator', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const tokensFile = tempTokensFile();
    issueToken(tokensFile, { subject: 'migrations', scopes: ['read'] });
    const runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE, {
      ROLLGATE_RECONCILER: 'off',
    });
    app = await NestFactory.create(
      OrchestratorAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
      { logger: false },
    );
    setupHttpApp(app, ORCHESTRATOR_SERVICE);
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app?.close());

  it('reads the live instances of a service (none for a service never released)', async () => {
    await expect(new HttpFleetView(url, undefined).liveInstances('ledger')).resolves.toEqual([]);
  });

  it('refuses to call the fleet clear when the orchestrator has no fleet view at that address', async () => {
    const wrong = new HttpFleetView(`${url}/not-the-api`, undefined);
    await expect(wrong.liveInstances('ledger')).rejects.toBeInstanceOf(FleetUnavailableError);
  });
});
