// Test helpers for the migrations service: a real HTTP stand-in for the orchestrator's fleet
// view, and the service booted as an app on a data directory (a restart reuses it).
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  FileTokenStore,
  openServiceRuntime,
  parseConfig,
  setupHttpApp,
  type ServiceRuntime,
  startEventLogTransport,
} from '@rollgate/platform';
import { MigrationsAppModule, MIGRATIONS_PERSISTENCE, MIGRATIONS_SERVICE } from '../../app.module';
import { DEFAULT_MIGRATIONS_SETTINGS, MIGRATIONS_SETTINGS } from '../migrations.service';

/** The orchestrator's GET /services/:name and GET /releases/:id; `down` drops every connection. */
export function fakeOrchestrator() {
  const state = {
    down: false,
    fleet: [] as { id: string; version: string }[],
    releases: new Map<string, string>(),
  };
  const server: Server = createServer((req, res) => {
    if (state.down) return void req.socket.destroy();
    const release = /^\/releases\/([\w-]+)$/.exec(req.url ?? '');
    if (release)
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: release[1], version: state.releases.get(release[1]!) ?? null }));
    const service = /^\/services\/([a-z0-9-]+)$/.exec(req.url ?? '');
    if (!service) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        service: service[1],
        instances: state.fleet.map((i) => ({
          id: i.id,
          healthy: true,
          intended: { version: i.version, digest: 'sha256:x' },
          reported: { version: i.version, digest: 'sha256:x', flags: [] },
        })),
      }),
    );
  });
  return {
    state,
    server,
    listen: (portBase: number) =>
      new Promise<void>((resolve) =>
        server.listen(portBase + Math.floor(Math.random() * 900), '127.0.0.1', resolve),
      ),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The migrations service as an app, on the embedded log and SQLite in `dataDir`. */
export async function bootMigrationsService(options: {
  dataDir: string;
  orchestratorUrl: string;
  tokensFile: string;
  /** ROLLGATE_MIGRATION_DATABASES: the test databases plans may target. */
  databases: string[];
}): Promise<{ app: INestApplication; runtime: ServiceRuntime }> {
  const config = parseConfig({
    ROLLGATE_MODE: 'embedded',
    ROLLGATE_DATA_DIR: options.dataDir,
    ROLLGATE_ORCHESTRATOR_URL: options.orchestratorUrl,
    ROLLGATE_MIGRATION_DATABASES: options.databases.join(','),
  });
  const runtime = await openServiceRuntime(config, 'migrations', MIGRATIONS_PERSISTENCE);
  const moduleRef = await Test.createTestingModule({
    imports: [
      MigrationsAppModule.forRoot({ tokenStore: new FileTokenStore(options.tokensFile), runtime }),
    ],
  })
    .overrideProvider(MIGRATIONS_SETTINGS)
    .useValue({ ...DEFAULT_MIGRATIONS_SETTINGS, gatePollMs: 100, progressEveryMs: 0 })
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  setupHttpApp(app, MIGRATIONS_SERVICE);
  await app.init();
  await startEventLogTransport(app, runtime);
  return { app, runtime };
}
