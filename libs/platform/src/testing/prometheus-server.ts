import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PrometheusServer {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the real Prometheus (installed by infra/prometheus/ensure.sh) on a free port with a
 * generated config: scrape every second, `scrape` being the scrape_configs entries.
 */
export async function startPrometheus(scrape: object[]): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-prometheus-'));
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
    scrape_configs: scrape,
  };
  // JSON is valid YAML.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Prometheus did not start on ${url}:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/**
 * Waits until Prometheus has scraped `count` targets successfully at least twice (its discovery
 * hands out new targets only every few seconds, and increase() needs a sample before traffic).
 */
export async function waitForScrapes(
  url: string,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  const query = encodeURIComponent('count(count_over_time(up[30s]) >= 2 and up == 1)');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await fetch(`${url}/api/v1/query?query=${query}`, {
      signal: AbortSignal.timeout(2_000),
    })
      .then((r) => r.json())
      .catch(() => null)) as { data?: { result?: { value: [number, string] }[] } } | null;
    const scraped = Number(body?.data?.result?.[0]?.value[1] ?? 0);
    if (scraped >= count) return;
    if (Date.now() > deadline) {
      throw new Error(`Prometheus scraped ${scraped} of ${count} targets within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
