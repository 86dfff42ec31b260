import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import {
  ensureLocalAdminToken,
  FileTokenStore,
  loadConfig,
  localAdminTokenPath,
  openEventLog,
  openServiceRuntime,
  SERVICE_NAMES,
  startService,
  whereIs,
} from '@rollgate/platform';
import { startTelemetry } from '@rollgate/telemetry';
import { existsSync } from 'node:fs';
import { ensurePrivateDirectory } from '@rollgate/event-log';
import { relative } from 'node:path';

/** A path as the user would type it from here. */
const shown = (path: string) =>
  relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || '.';
import { HOSTED_SERVICES } from './services';
import { parseConsoleConfig, startConsole } from '@rollgate/app-console';

/**
 * `npm start`'s host (`npm run start:quiet` alone; `rollgate demo` starts it as a child process):
 * all five services in one process, sharing one event log. By default the log and the read
 * models are files under .rollgate/data, so no server is needed.
 */
async function main(): Promise<void> {
  startTelemetry('rollgate-embedded');
  const logger = new Logger('rollgate');
  const config = loadConfig();
  ensurePrivateDirectory(config.dataDir);
  const isNew = !existsSync(config.tokensFile);
  const adminToken = ensureLocalAdminToken(config.tokensFile);
  const tokenStore = new FileTokenStore(config.tokensFile);
  const log = openEventLog(config, 'rollgate-embedded');
  const apps: INestApplication[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: stopping`);
    for (const app of apps.reverse()) await app.close();
    await log.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  for (const name of SERVICE_NAMES) {
    const hosted = HOSTED_SERVICES[name];
    const runtime = await openServiceRuntime(config, name, hosted.persistence, log);
    apps.push(
      await startService({
        service: hosted.descriptor,
        module: hosted.module,
        config,
        tokenStore,
        runtime,
        shutdownHooks: false,
      }),
    );
  }
  // The web console calls the five services over HTTP like any client; a port already taken
  // (another host) leaves the services running without it.
  const consoleConfig = parseConsoleConfig(process.env, config);
  let consoleLine = '';
  try {
    const started = await startConsole(consoleConfig);
    apps.push(started.app);
    consoleLine = `  console       ${started.url}   (sign in with the admin token)`;
  } catch (error) {
    logger.warn(`web console not started: ${(error as Error).message}`);
  }
  const tokenFile = localAdminTokenPath(config.tokensFile);
  const where = whereIs(config, shown);
  console.log(
    [
      '',
      `Rollgate is running (${config.mode} mode).`,
      `  event log     ${where.eventLog}`,
      `  read models   ${where.readModels}`,
      ...SERVICE_NAMES.map(
        (n) =>
          `  ${n.padEnd(13)} ${config.serviceUrls[n]}   (API docs: ${config.serviceUrls[n]}/docs)`,
      ),
      ...(consoleLine ? [consoleLine] : []),
      adminToken
        ? `Admin token${isNew ? ' (new)' : ''}: ${shown(tokenFile)}   export ROLLGATE_TOKEN=$(cat ${shown(tokenFile)})`
        : `Tokens: ${shown(config.tokensFile)} (the local admin token's plaintext is no longer on disk)`,
      'Try: npx rollgate status',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(
    `rollgate failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
