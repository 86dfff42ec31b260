import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FileTokenStore } from '../auth/file-token-store';
import type { TokenStore } from '../auth/token-store';
import { loadConfig, whereIs, type RollgateConfig, type ServiceName } from '../config/config';
import type { RollgateAppOptions } from './rollgate-http.module';
import { setupHttpApp, type HttpAppDescription } from './setup-http-app';
import { startTelemetry } from '@rollgate/telemetry';
import {
  openServiceRuntime,
  type ServiceRuntime,
  type ServicePersistence,
} from '../runtime/service-runtime';
import { startEventLogTransport } from '../transport/event-log.transport';

/** What each app exports about itself. */
export interface ServiceDescriptor extends HttpAppDescription {
  name: ServiceName;
  defaultPort: number;
}

export interface StartServiceOptions {
  service: ServiceDescriptor;
  module: (options: RollgateAppOptions) => DynamicModule;
  config: RollgateConfig;
  /** Shared by the embedded host; a standalone process opens the tokens file itself. */
  tokenStore?: TokenStore;
  runtime: ServiceRuntime;
  /** Default true: the app closes itself on SIGTERM/SIGINT. */
  shutdownHooks?: boolean;
}

/** Creates, sets up and starts one service on its configured port. */
export async function startService(options: StartServiceOptions): Promise<INestApplication> {
  const { service, config } = options;
  const tokenStore = options.tokenStore ?? new FileTokenStore(config.tokensFile);
  // abortOnError false: startup errors reach the caller instead of exiting the (embedded) process.
  const app = await NestFactory.create(options.module({ tokenStore, runtime: options.runtime }), {
    abortOnError: false,
    // Nest's start-up chatter hides what matters; errors and warnings still show.
    logger: ['error', 'warn'],
  });
  setupHttpApp(app, service, { shutdownHooks: options.shutdownHooks ?? true });
  // A hybrid app: its event handlers are served by the event-log transport, started once the
  // app is initialised and before it answers HTTP.
  await app.init();
  await startEventLogTransport(app, options.runtime);
  const port = config.ports[service.name];
  await app.listen(port, config.host);
  console.log(`${service.name} listening on http://${config.host}:${port} (API docs at /docs)`);
  if (options.shutdownHooks !== false) {
    // A standalone process says where its data is; the embedded host says it once for all five.
    const where = whereIs(config);
    console.log(`  event log ${where.eventLog}; read models ${where.readModels}`);
  }
  return app;
}

/** Entry point of a standalone service process: any startup error ends it with a message, not a stack. */
export function runServiceProcess(
  service: ServiceDescriptor,
  persistence: ServicePersistence,
  module: (options: RollgateAppOptions) => DynamicModule,
): void {
  const start = async () => {
    startTelemetry(`rollgate-${service.name}`);
    const config = loadConfig();
    const runtime = await openServiceRuntime(config, service.name, persistence);
    return startService({ service, module, config, runtime });
  };
  start().catch((error: unknown) => {
    console.error(`${service.name} failed to start: ${(error as Error).message ?? String(error)}`);
    process.exit(1);
  });
}
