import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ConsoleConfig } from './console-config';
import { ConsoleModule } from './console.module';

/** The console's own Nest app on its port; `url` is where a browser opens it. */
export async function startConsole(
  config: ConsoleConfig,
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create<NestExpressApplication>(ConsoleModule.forRoot(config), {
    abortOnError: false,
    logger: ['error', 'warn'],
    // Browsers hold event streams and keep-alive sockets open: closing must not wait for them.
    forceCloseConnections: true,
  });
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: '1mb' });
  try {
    await app.listen(config.port, config.host);
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, url: `http://${config.host}:${config.port}` };
}
