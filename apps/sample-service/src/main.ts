import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  createMetrics,
  parseBehaviour,
  parseMetricsNaming,
  prng,
  sampleHandler,
  type SampleIdentity,
} from '@rollgate/fleet';

/**
 * The sample service of the local fleet: a real HTTP process whose error rate and latency are
 * set per build, so a bad build really fails requests. It reports what it runs at GET /info and
 * Prometheus metrics at GET /metrics (labelled with its service, version and group). Its HTTP
 * behaviour lives in libs/fleet/src/sample, shared with the simulated fleet.
 */
function main(): void {
  const env = process.env;
  if (env['SAMPLE_CRASH_ON_START'] === '1') {
    // Drill: a build that dies before it serves (a bad config, a missing dependency).
    process.stderr.write('crash drill: this build exits before it listens\n');
    process.exit(1);
  }
  const identity: SampleIdentity = {
    instanceId: env['SAMPLE_INSTANCE_ID'] ?? randomUUID(),
    service: env['SAMPLE_SERVICE'] ?? 'sample',
    version: env['SAMPLE_VERSION'] ?? 'dev',
    group: env['SAMPLE_GROUP'] ?? 'stable',
    digest: env['SAMPLE_DIGEST'] ?? 'sha256:unknown',
    flags: (env['SAMPLE_FLAGS'] ?? '').split(',').filter(Boolean),
    // Digests of the API documents the build declares, for the API compatibility gate.
    api: {
      provides: env['SAMPLE_API_PROVIDES'] || null,
      consumes: env['SAMPLE_API_CONSUMES'] || null,
    },
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
  const behaviour = parseBehaviour(env);
  const random = prng(Number(env['SAMPLE_SEED'] ?? process.pid));
  const metrics = createMetrics(
    { service: identity.service, version: identity.version, group: identity.group },
    parseMetricsNaming(env),
  );
  const server = createServer(sampleHandler({ identity, behaviour, random, metrics }));
  server.listen(Number(env['PORT'] ?? 0), env['SAMPLE_HOST'] ?? '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // The fleet driver reads this line to learn the port.
    console.log(JSON.stringify({ listening: port, ...identity }));
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  // Started by a fleet driver with a pipe on stdin: when the driver's process dies, so do we.
  if (!process.stdin.isTTY) {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
}

main();
