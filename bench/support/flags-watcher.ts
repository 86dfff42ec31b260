/**
 * An SDK in its own process, for the propagation bench and the e2e test: follows a flags
 * service with FlagsClient and prints one JSON line per ruleset it swaps in, stamped with the
 * wall-clock time (sub-millisecond) at which evaluations started to see it.
 *
 *   node bin/run.js bench/support/flags-watcher.ts <url> <flagKey> [project] [environment]
 *   env ROLLGATE_FLAGS_TOKEN: bearer token (read scope)
 *
 * Lines: {"type":"ready"|"changed"|"stale"|"error", "version", "enabled", "at"}.
 */
import { FlagsClient } from '@rollgate/flags-sdk';

const [url, flagKey, project = 'default', environment = 'production'] = process.argv.slice(2);
if (!url || !flagKey) {
  console.error('usage: flags-watcher.ts <url> <flagKey> [project] [environment]');
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
const context = { userId: 'propagation-probe' };
const client = new FlagsClient({
  url,
  project,
  environment,
  token: process.env['ROLLGATE_FLAGS_TOKEN'],
  reconnectDelayMs: 50,
  maxReconnectDelayMs: 1_000,
  pollIntervalMs: 1_000,
  initialTimeoutMs: 60_000,
});

function report(type: string, extra: Record<string, unknown> = {}) {
  const line = {
    type,
    version: client.version,
    enabled: client.isEnabled(flagKey!, context),
    at: now(),
    ...extra,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

client.on('ready', () => report('ready'));
client.on('changed', () => report('changed'));
client.on('stale', ({ reason }) => report('stale', { reason }));
client.on('error', (error) => report('error', { message: error.message }));

const stop = () => void client.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Exit with the parent (a bench or a test), even when it dies without signalling.
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    stop();
  }
}, 1_000).unref();

client.start().catch((error: Error) => report('error', { message: error.message }));
