import { loadConfig } from '@rollgate/platform';
import { parseConsoleConfig } from './console-config';
import { startConsole } from './start-console';

/** The console as a process of its own (production): it calls the services at ROLLGATE_<SERVICE>_URL. */
async function main(): Promise<void> {
  const config = parseConsoleConfig(process.env, loadConfig());
  const { app, url } = await startConsole(config);
  app.enableShutdownHooks();
  console.log(`console listening on ${url}`);
}

main().catch((error: unknown) => {
  console.error(
    `console failed to start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
