import { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTokenStore } from '../auth/file-token-store';
import { RollgateHttpModule } from '../http/rollgate-http.module';
import { setupHttpApp, type HttpAppDescription } from '../http/setup-http-app';

/** For specs: a fresh, empty-directory tokens file path. */
export const tempTokensFile = (): string =>
  join(mkdtempSync(join(tmpdir(), 'rollgate-tokens-')), 'tokens.json');

/** For specs: a real Nest app with RollgateHttpModule around the given controllers. */
export async function createTestApp(
  tokensFile: string,
  controllers: Type<unknown>[] = [],
  docs?: HttpAppDescription,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      RollgateHttpModule.forRoot({
        serviceName: 'test-service',
        tokenStore: new FileTokenStore(tokensFile),
      }),
    ],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  if (docs) setupHttpApp(app, docs);
  await app.init();
  return app;
}
