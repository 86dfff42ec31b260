/**
 * A stand-in for the flags service's SDK interface, in its own process: GET /flags/ruleset
 * (ETag/304) and GET /flags/stream (SSE) from RulesetServer, plus
 *   POST /flags/<key>/kill and /flags/<key>/enable on a control port, which publish a new version.
 * Only for measuring the SDK's side of propagation when the real service is not at hand.
 *
 *   node bin/run.js bench/support/flags-stand-in.ts <sdkPort> <controlPort> <flagKey>
 */
import { createServer } from 'node:http';
import type { FlagDefinition } from '@rollgate/flags-domain';
import { RulesetServer } from '@rollgate/flags-sdk/testing';

const [sdkPort, controlPort, flagKey] = process.argv.slice(2);
if (!sdkPort || !controlPort || !flagKey) {
  console.error('usage: flags-stand-in.ts <sdkPort> <controlPort> <flagKey>');
  process.exit(2);
}

const flag = (enabled: boolean): FlagDefinition => ({
  key: flagKey,
  type: 'kill-switch',
  createdAt: '2026-01-01T00:00:00Z',
  environments: { production: { enabled, defaultServe: true } },
});

const server = new RulesetServer({ port: Number(sdkPort) }, { flags: [flag(true)] });

const control = createServer((request, response) => {
  const match = /^\/flags\/([^/]+)\/(kill|enable)$/.exec(request.url ?? '');
  if (request.method !== 'POST' || !match || match[1] !== flagKey) {
    response.writeHead(404).end();
    return;
  }
  const version = server.publish({ flags: [flag(match[2] === 'enable')] });
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ version }));
});

void server.start().then(() =>
  control.listen(Number(controlPort), '127.0.0.1', () => {
    process.stdout.write(`ready ${server.url}\n`);
  }),
);
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
