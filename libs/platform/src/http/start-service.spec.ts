import { DynamicModule, INestApplication, Logger, Module } from '@nestjs/common';
import request from 'supertest';
import { issueToken } from '../auth/file-token-store';
import { parseConfig } from '../config/config';
import { tempTokensFile } from '../testing/create-test-app';
import { RollgateHttpModule, type RollgateAppOptions } from './rollgate-http.module';
import { startService, type ServiceDescriptor } from './start-service';

@Module({})
class FlagsLikeModule {
  static forRoot(options: RollgateAppOptions): DynamicModule {
    return {
      module: FlagsLikeModule,
      imports: [RollgateHttpModule.forRoot({ serviceName: 'flags', ...options })],
    };
  }
}

const FLAGS_LIKE: ServiceDescriptor = {
  name: 'flags',
  defaultPort: 7004,
  title: 'Flags-like service',
  description: 'Stands in for an app module.',
};

describe('startService', () => {
  let app: INestApplication;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const tokensFile = tempTokensFile();
    issueToken(tokensFile, { subject: 'ops', scopes: ['admin'] });
    const config = { ...parseConfig({ ROLLGATE_TOKENS_FILE: tokensFile }) };
    config.ports = { ...config.ports, flags: 0 }; // 0: let the OS pick a free port
    app = await startService({ service: FLAGS_LIKE, module: FlagsLikeModule.forRoot, config });
  });

  afterAll(() => app.close());

  it('listens on the configured host with health and docs', async () => {
    const url = await app.getUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await request(url).get('/health').expect(200);
    expect(health.body.details.service.name).toBe('flags');
    const docs = await request(url).get('/docs-json').expect(200);
    expect(docs.body.info.title).toBe('Flags-like service');
  });

  it('fails to start when the tokens file is missing, naming the file', async () => {
    const missing = tempTokensFile();
    const config = parseConfig({ ROLLGATE_TOKENS_FILE: missing });
    await expect(
      startService({ service: FLAGS_LIKE, module: FlagsLikeModule.forRoot, config }),
    ).rejects.toThrow(`tokens file ${missing} cannot be read`);
  });
});
