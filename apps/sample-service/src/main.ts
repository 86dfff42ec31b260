import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { completesCheckout, outcome, parseBehaviour, parseMetricsNaming, prng } from './behaviour';
import { createMetrics } from './metrics';

/**
 * The sample service of the local fleet: a real HTTP process whose error rate and latency are
 * set per build, so a bad build really fails requests. It reports what it runs at GET /info and
 * Prometheus metrics at GET /metrics (labelled with its service, version and group).
 */
function main(): void {
  const env = process.env;
  if (env['SAMPLE_CRASH_ON_START'] === '1') {
    // Drill: a build that dies before it serves (a bad config, a missing dependency).
    process.stderr.write('crash drill: this build exits before it listens\n');
    process.exit(1);
  }
  const identity = {
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
  const server = createServer((req, res) => {
    if (req.url === '/info') return json(res, 200, { ...identity, behaviour });
    if (req.url === '/healthz') return json(res, 200, { status: 'ok' });
    if (req.url === '/metrics') {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    const done = metrics.track();
    const { status, delayMs } = outcome(behaviour, random);
    const checkout = completesCheckout(behaviour, status, random);
    setTimeout(() => {
      done(status, checkout);
      if (req.headers['x-rollgate-synthetic'] === '1') metrics.countSynthetic(status);
      json(res, status, {
        service: identity.service,
        version: identity.version,
        instanceId: identity.instanceId,
        user: req.headers['x-user-id'] ?? null,
        ok: status < 500,
      });
    }, delayMs);
  });
  server.listen(Number(env['PORT'] ?? 0), '127.0.0.1', () => {
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

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

main();
