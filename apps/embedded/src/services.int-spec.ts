import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  DEFAULT_PORTS,
  ensureLocalAdminToken,
  FileTokenStore,
  SERVICE_NAMES,
  setupHttpApp,
  startEventLogTransport,
} from '@rollgate/platform';
import { openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { HOSTED_SERVICES } from './services';

describe.each(SERVICE_NAMES)('%s app module', (name) => {
  const hosted = HOSTED_SERVICES[name];
  let app: INestApplication;

  beforeAll(async () => {
    const tokensFile = tempTokensFile();
    ensureLocalAdminToken(tokensFile);
    const runtime = await openTestRuntime(name, hosted.persistence);
    const moduleRef = await Test.createTestingModule({
      imports: [hosted.module({ tokenStore: new FileTokenStore(tokensFile), runtime })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, hosted.descriptor);
    await app.init();
    await startEventLogTransport(app, runtime);
  });

  afterAll(() => app.close());

  it(`describes itself as ${name} on its default port`, () => {
    expect(hosted.descriptor).toMatchObject({ name, defaultPort: DEFAULT_PORTS[name] });
  });

  it(`boots and answers /health as ${name}, with its log consumers`, async () => {
    const { body } = await request(app.getHttpServer()).get('/health').expect(200);
    expect(body.details.service).toEqual({ status: 'up', name });
    expect(body.details['event-log']).toMatchObject({ status: 'up', outboxPending: 0 });
  });

  it('documents itself at /docs-json', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.info.title).toBe(hosted.descriptor.title);
    expect(body.info.description).toBe(hosted.descriptor.description);
  });
});
