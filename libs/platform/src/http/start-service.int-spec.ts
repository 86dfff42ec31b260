import { DynamicModule, INestApplication, Logger, Module } from '@nestjs/common';
import request from 'supertest';
import { issueToken } from '../auth/file-token-store';
import { parseConfig } from '../config/config';
import { tempTokensFile } from '../testing/create-test-app';
import { openTestRuntime } from '../testing/test-runtime';
import { RuntimeModule } from '../runtime/runtime.module';
import type { ServiceRuntime } from '../runtime/service-runtime';
import { RollgateHttpModule, type RollgateAppOptions } from './rollgate-http.module';
import { startService, type ServiceDescriptor } from './start-service';

@Module({})
class FlagsLikeModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: FlagsLikeModule,
      imports: [
        RollgateHttpModule.forRoot({ serviceName: 'flags', tokenStore: options.tokenStore }),
        RuntimeModule.forRoot(options.runtime),
      ],
    };
  }
}

const FLAGS_LIKE: ServiceDescriptor = {
  name: 'flags',
  defaultPort: 7004,
  title: 'Flags-like service',
  description: 'Stands in for an app module.',
};

const noTables = { entities: [], migrations: [], readModels: [] };

describe('startService', () => {
  let app: INestApplication;
  let runtime: ServiceRuntime;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const tokensFile = tempTokensFile();
    issueToken(tokensFile, { subject: 'ops', scopes: ['admin'] });
    const config = { ...parseConfig({ ROLLGATE_TOKENS_FILE: tokensFile }) };
    config.ports = { ...config.ports, flags: 0 }; // 0: let the OS pick a free port
    runtime = await openTestRuntime('flags', noTables);
    app = await startService({
      service: FLAGS_LIKE,
      module: FlagsLikeModule.forRoot,
      config,
      runtime,
    });
  });

  afterAll(() => app.close());

  it('listens on the configured host with health, docs and the event-log check', async () => {
    const url = await app.getUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await request(url).get('/health').expect(200);
    expect(health.body.details.service.name).toBe('flags');
    expect(health.body.details['event-log']).toMatchObject({ status: 'up', outboxPending: 0 });
    expect(runtime.service).toBe('flags');
    const docs = await request(url).get('/docs-json').expect(200);
    expect(docs.body.info.title).toBe('Flags-like service');
  });

  it('fails to start when the tokens file is missing, naming the file', async () => {
    const missing = tempTokensFile();
    const config = parseConfig({ ROLLGATE_TOKENS_FILE: missing });
    await expect(
      startService({
        service: FLAGS_LIKE,
        module: FlagsLikeModule.forRoot,
        config,
        runtime: await openTestRuntime('flags', noTables),
      }),
    ).rejects.toThrow(`tokens file ${missing} cannot be read`);
  });
});
