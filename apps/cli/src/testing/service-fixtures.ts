import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ensureLocalAdminToken, FileTokenStore, RollgateHttpModule } from '@rollgate/platform';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Real servers for the CLI specs: the CLI must be tested against what the services really answer.

/** A real Rollgate HTTP app (what every service is today) on an ephemeral port. */
export async function listenAsService(serviceName: string): Promise<INestApplication> {
  const tokensFile = join(mkdtempSync(join(tmpdir(), 'rollgate-cli-')), 'tokens.json');
  ensureLocalAdminToken(tokensFile);
  const moduleRef = await Test.createTestingModule({
    imports: [
      RollgateHttpModule.forRoot({ serviceName, tokenStore: new FileTokenStore(tokensFile) }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

/** A port nothing listens on: bind an ephemeral one, then release it. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
